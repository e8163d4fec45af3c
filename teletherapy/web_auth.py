"""Who is calling: the login cookie (flask-login) for pages, a bearer token for /api."""

from flask import Flask, abort, g, redirect, request, url_for
from flask_login import AnonymousUserMixin

from .extensions import db, login_manager
from .models import User
from .services import tokens


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.anonymous_user = AnonymousUserMixin
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(_unauthorized)
    app.before_request(load_api_user)


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


def load_api_user() -> None:
    g.api_user = None
    g.api_token = None
    if not (request.blueprint or "").startswith("api"):
        return
    token = bearer_token()
    if token is None:
        return
    found = tokens.resolve(db.session, token)
    if found is not None:
        g.api_user, g.api_token = found


def _unauthorized():  # type: ignore[no-untyped-def]
    if (request.blueprint or "").startswith("api"):
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
