"""REST API /api/v1 (docs/api.md): bearer tokens, JSON in and out, one error shape."""

import base64
import binascii
import json
from typing import Any, TypeVar

from flask import Blueprint, abort, request
from pydantic import BaseModel, ValidationError

from ..models import User
from ..services.errors import Invalid
from ..web_auth import api_user
from .paging import DEFAULT_LIMIT, MAX_CURSOR, MAX_LIMIT, MAX_OFFSET

bp = Blueprint("api", __name__, url_prefix="/api/v1")
M = TypeVar("M", bound=BaseModel)


def caller() -> User:
    user = api_user()
    if user is None:
        abort(401)
    return user


def json_object() -> dict[str, Any]:
    """The body as a JSON object; 400 for anything else."""
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        abort(400, description="the request body must be a JSON object")
    return data


def parse(model: type[M]) -> M:
    """400 unless the body is a JSON object; 422 with a message per field otherwise."""
    data = json_object()
    nul = _nul_paths(data)  # PostgreSQL text cannot hold NUL: a 422, never a 500
    if nul:
        raise Invalid(
            "invalid fields", {p: "NUL characters are not allowed" for p in nul}
        )
    try:
        return model.model_validate_json(request.get_data(cache=True))
    except ValidationError as exc:
        raise Invalid("invalid fields", field_errors(exc)) from None


def _nul_paths(value: Any, path: str = "") -> list[str]:
    """Dotted paths of the strings (and keys) in a JSON value that contain NUL."""
    if isinstance(value, str):
        return [path or "body"] if "\x00" in value else []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            found += [sub] if "\x00" in str(key) else _nul_paths(item, sub)
        return found
    if isinstance(value, list):
        return [
            p for i, item in enumerate(value) for p in _nul_paths(item, f"{path}.{i}")
        ]
    return []


def field_errors(exc: ValidationError) -> dict[str, str]:
    details: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        key = ".".join(str(p) for p in err["loc"]) or "body"
        if err["type"] == "extra_forbidden":
            details[key] = "unknown field"
            continue
        got = repr(err.get("input"))
        got = got if len(got) <= 40 else got[:37] + "..."
        message = err["msg"]
        details[key] = f"{message} (got {got})" if err["type"] != "missing" else message
    return details


_BAD_CURSOR = {"cursor": "not a cursor from this API"}


def page_args() -> tuple[int, int]:
    """(limit, offset) from ?limit= and the opaque ?cursor=; 422 for anything else."""
    raw = request.args.get("limit", str(DEFAULT_LIMIT))
    limit = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else 0
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid("invalid query", {"limit": f"must be an integer 1..{MAX_LIMIT}"})
    cursor = request.args.get("cursor")
    if not cursor:
        return limit, 0
    return limit, _offset(cursor)


def _offset(cursor: str) -> int:
    """The offset a cursor from `page` encodes; 422 for anything it cannot have made."""
    if len(cursor) > MAX_CURSOR:
        raise Invalid("invalid query", _BAD_CURSOR)
    try:
        raw = base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True)
        digits = raw.decode("ascii")
    except (ValueError, binascii.Error):
        raise Invalid("invalid query", _BAD_CURSOR) from None
    if not digits.isdigit() or int(digits) > MAX_OFFSET:
        raise Invalid("invalid query", _BAD_CURSOR)
    return int(digits)


def page(items: list[Any], limit: int, offset: int) -> dict[str, Any]:
    more = len(items) > limit
    nxt = (
        base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
        if more
        else None
    )
    return {"items": items[:limit], "next": nxt}


# Routes register on bp; research and consent keep theirs beside their own code.
from ..consent import api as _consent_api  # noqa: E402,F401
from ..research import api as _research_api  # noqa: E402,F401
from . import invitations, ratings, views  # noqa: E402,F401
