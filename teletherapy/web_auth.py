"""Who is calling: the login cookie (flask-login) for pages, a bearer token for /api."""

import hashlib
import time
from collections.abc import Mapping
from typing import Any

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import AnonymousUserMixin, current_user, logout_user

from .extensions import db, login_manager
from .models import ApiToken, User
from .services import audit, tokens


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.anonymous_user = AnonymousUserMixin
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(_unauthorized)
    app.before_request(enforce_timeouts)


def origin() -> str | None:
    """Where the current call comes from, for audit rows (services/audit.py): the
    client's own address behind TRUSTED_PROXY_HOPS proxies (in a socket event, its
    connection's), or audit.CLI outside a request."""
    return request.remote_addr if has_request_context() else audit.CLI


def is_api_request() -> bool:
    """Whether the request is for the API (JSON answers, bearer tokens): its
    blueprint when routing matched, else its path, so a 404 or 405 under /api/
    still gets the JSON error shape."""
    if request.url_rule is not None:
        return (request.blueprint or "").startswith("api")
    return request.path.startswith("/api/")


def load_user(alternative_id: str) -> User | None:
    """Cookie ids are "<user id>:<nonce>"; a rotated nonce (logout) voids old cookies."""
    user_id, _, nonce = alternative_id.partition(":")
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.login_nonce != nonce:
        return None
    return user


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def api_user() -> User | None:
    """The bearer token's user for an API request (None without a usable token)."""
    found = _api_caller()
    return found[0] if found else None


def api_token() -> ApiToken | None:
    """The token row the API caller authenticated with."""
    found = _api_caller()
    return found[1] if found else None


_CALLER = "teletherapy.api_caller"


def _api_caller() -> tuple[User, ApiToken] | None:
    """Resolves the bearer token on first use in a request (access.enforce asks
    first) and keeps the answer in the request's environ: no before_request to
    register, and nothing carried over between requests sharing an app context."""
    environ = request.environ
    if _CALLER not in environ:
        token = bearer_token() if is_api_request() else None
        environ[_CALLER] = tokens.resolve(db.session(), token) if token else None
    found: tuple[User, ApiToken] | None = environ[_CALLER]
    return found


def _unauthorized() -> ResponseReturnValue:
    if is_api_request():
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def start_session_clock() -> None:
    """Called at login: the absolute and idle timers start now."""
    now = int(time.time())
    session["login_at"] = now
    session["seen_at"] = now


def login_deadline(login_at: int, cfg: Mapping[str, Any]) -> int:
    """When a login ends whatever its activity (SESSION_ABSOLUTE_HOURS)."""
    return login_at + int(cfg["SESSION_ABSOLUTE_HOURS"] * 3600)


def login_lapse(
    login_at: int, seen_at: int, now: int, cfg: Mapping[str, Any]
) -> str | None:
    """The timing rule of a login, for pages and sockets alike: "expired" from
    its absolute deadline on, "idle" after SESSION_IDLE_MINUTES without a page
    or heartbeat, else None."""
    if now >= login_deadline(login_at, cfg):
        return "expired"
    if now - seen_at >= cfg["SESSION_IDLE_MINUTES"] * 60:
        return "idle"
    return None


def login_credential(user: User, login_at: int) -> str:
    """Names one cookie login (user, nonce, login time) for signaling, hashed:
    the nonce never reaches a room name or a Redis key."""
    raw = f"{user.id}:{user.login_nonce}:{login_at}".encode()
    return "login:" + hashlib.sha256(raw).hexdigest()[:32]


def cookie_login(check_idle: bool = True) -> tuple[User, int] | None:
    """The cookie's user and login time while the login is within its limits
    (the socket's handshake: pages get enforce_timeouts). ``check_idle=False``
    applies only the absolute limit (an open call socket is activity)."""
    if not current_user.is_authenticated:
        return None
    login_at = session.get("login_at")
    if not isinstance(login_at, int):
        return None
    seen_at = session.get("seen_at", login_at) if check_idle else int(time.time())
    if login_lapse(login_at, seen_at, int(time.time()), current_app.config):
        return None
    return current_user._get_current_object(), login_at


# Requests that read the login's clock without counting as activity (the idle
# warning asks how long is left, auth/idle.py); they still end a lapsed login.
PASSIVE_ENDPOINTS = frozenset({"auth.session_remaining"})


def enforce_timeouts() -> ResponseReturnValue | None:
    """Idle and absolute session timeouts for pages (docs/security.md, row 7).

    The call page calls /keepalive every minute, so a live call is never cut by the
    idle timeout; only the absolute maximum ends a login (sockets too: see
    cookie_login and docs/signaling.md).
    """
    if request.endpoint in (None, "static") or is_api_request():
        return None
    if not current_user.is_authenticated:
        return None
    cfg, now = current_app.config, int(time.time())
    login_at = session.get("login_at", now)
    seen_at = session.get("seen_at", now)
    lapse = login_lapse(login_at, seen_at, now, cfg)
    if lapse:
        logout_user()
        session.clear()
        why = (
            "your session reached its time limit"
            if lapse == "expired"
            else "of inactivity"
        )
        flash(f"You were signed out because {why}. Please sign in again.", "info")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if now - seen_at >= 30 and request.endpoint not in PASSIVE_ENDPOINTS:  # low churn
        session["seen_at"] = now
    session.setdefault("login_at", login_at)
    return None
