"""The password check that web login and API token issue share, so they behave alike."""

from flask import Response, current_app, g, request

from .. import web_auth
from ..config import settings
from ..extensions import db, limiter
from ..models import User
from ..services import accounts, lockout


def check(email: str, password: str) -> User | None:
    """The user if the password is right and this address is not locked out of it."""
    cfg = current_app.config
    policy = lockout.Policy(int(cfg["LOCKOUT_THRESHOLD"]), int(cfg["LOCKOUT_MINUTES"]))
    # remote_addr is the client's own address behind TRUSTED_PROXY_HOPS proxies
    address = request.remote_addr or "-"
    result = accounts.check_login(
        db.session(),
        email,
        password,
        address,
        policy,
        settings().password_hash_method,
        origin=web_auth.origin(),
    )
    g.sign_in_failure_counted = result.counted
    return result.user


def counted_failure(_response: Response) -> bool:
    """deduct_when of the per-account rate limit: only failures that counted."""
    return bool(g.get("sign_in_failure_counted"))


def auth_limit() -> str:
    """AUTH_RATE_LIMIT, read per request (per address, and per account)."""
    return str(current_app.config["AUTH_RATE_LIMIT"])


def _typed_email() -> object:
    if request.is_json:
        data = request.get_json(silent=True)
        return data.get("email") if isinstance(data, dict) else None
    return request.form.get("email")


def account_key() -> str:
    """The per-account limit's key: the account as lock-out counts it, so every
    spelling of one address shares one bucket."""
    email = _typed_email()
    return accounts.account_id(email) if isinstance(email, str) and email else "-"


# Web login and token issue share one per-account bucket: two ways in must not
# double the guesses an account allows. Only failures that counted are deducted.
account_limit = limiter.shared_limit(
    auth_limit,
    scope="sign-in-account",
    key_func=account_key,
    methods=["POST"],
    deduct_when=counted_failure,
)
