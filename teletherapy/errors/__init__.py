"""One error shape for the API, plain-language pages for people."""

import logging
import traceback
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from ..services.errors import ServiceError
from ..web_auth import is_api_request

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal",
    503: "unavailable",
}


def json_error(
    status: int, message: str, code: str | None = None, details: Any = None
) -> Response:
    body: dict[str, dict[str, Any]] = {
        "error": {"code": code or CODES.get(status, "error"), "message": message}
    }
    if details is not None:
        body["error"]["details"] = details
    response = jsonify(body)
    response.status_code = status
    return response


def _http(exc: HTTPException) -> Response:
    status = exc.code or 500
    if is_api_request():
        message = exc.description if status != 404 else "not found"
        response = json_error(status, message or "error")
    else:
        response = Response(
            render_template("errors/error.html", status=status, exc=exc), status=status
        )
    if isinstance(exc, RateLimitExceeded):
        response.headers["Retry-After"] = str(_retry_after(exc))
    return response


def _retry_after(exc: RateLimitExceeded) -> int:
    limit = exc.limit.limit if exc.limit is not None else None
    return int(limit.get_expiry()) if limit is not None else 60


def _service(exc: ServiceError) -> Response:
    if is_api_request():
        return json_error(exc.status, exc.message, exc.code, exc.details)
    return Response(
        render_template("errors/error.html", status=exc.status, exc=exc),
        status=exc.status,
    )


def _unexpected(exc: Exception) -> Response:
    # The traceback without the message: messages can carry SQL parameters (health data).
    frames = "".join(traceback.format_tb(exc.__traceback__))
    # The route's pattern, not the path: a path can carry a link secret
    # (/invite/<token>, /password/reset/<token>) or a record's id.
    where = request.url_rule.rule if request.url_rule is not None else "(no route)"
    log.error(
        "unhandled %s on %s %s\n%s",
        type(exc).__name__,
        request.method,
        where,
        frames,
    )
    if is_api_request():
        return json_error(500, "internal error")
    return Response(
        render_template("errors/error.html", status=500, exc=None), status=500
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(ServiceError, _service)
    app.register_error_handler(Exception, _unexpected)
