"""The password check that web login and API token issue share, so they behave alike."""

from flask import Response, current_app, g, request

from ..extensions import db
from ..models import User
from ..services import accounts, lockout


def check(email: str, password: str) -> User | None:
    """The user if the password is right and this address is not locked out of it."""
    cfg = current_app.config
    policy = lockout.Policy(int(cfg["LOCKOUT_THRESHOLD"]), int(cfg["LOCKOUT_MINUTES"]))
    # remote_addr is the client's own address behind TRUSTED_PROXY_HOPS proxies
    address = request.remote_addr or "-"
    result = accounts.check_login(db.session(), email, password, address, policy)
    g.sign_in_failure_counted = result.counted
    return result.user


def counted_failure(_response: Response) -> bool:
    """deduct_when of the per-account rate limit: only failures that counted."""
    return bool(g.get("sign_in_failure_counted"))
