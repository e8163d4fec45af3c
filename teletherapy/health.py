"""GET /healthz: the app, its database and its message queue."""

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    body = {
        "status": "ok",
        "database": _database(),
        "message_queue": _queue(),
        "async_mode": current_app.config["ASYNC_MODE"],
    }
    failing = [
        k for k in ("database", "message_queue") if body[k] not in ("ok", "disabled")
    ]
    if failing:
        body["status"] = "failing: " + ", ".join(failing)
    return jsonify(body), 503 if failing else 200


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except SQLAlchemyError:
        db.session.rollback()
        return "unreachable"


def _queue() -> str:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return "disabled"
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping()
        return "ok"
    except redis.RedisError:
        return "unreachable"
