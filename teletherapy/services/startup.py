"""Checks before serving: a configured dependency that is down is a clear error, not silent loss."""

from typing import Any

import redis
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db


class StartupError(RuntimeError):
    """The server must not start; the message says what is wrong and how to fix it."""


def check_dependencies(config: dict[str, Any]) -> None:
    url = config.get("REDIS_URL")
    if url:
        try:
            redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            raise StartupError(
                f"the Socket.IO message queue is configured (TELETHERAPY_REDIS_URL) but Redis "
                f"does not answer ({type(exc).__name__}); start Redis or unset the variable "
                "to run a single process"
            ) from None
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        raise StartupError(
            f"the database does not answer ({type(exc).__name__}); "
            "check TELETHERAPY_DATABASE_URL"
        ) from None
