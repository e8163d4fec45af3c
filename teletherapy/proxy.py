"""Trusted reverse proxies: the client's own address behind nginx (docs/deploy.md)."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import ConfigError

SETTING = "TRUSTED_PROXY_HOPS"


def init_app(app: Flask) -> None:
    """Wrap the whole WSGI stack (engine.io included) in ProxyFix for N trusted hops.

    Call it last in create_app, so Socket.IO handshakes, rate limits, lockout and
    audit rows all see the address ProxyFix took from the last N X-Forwarded-For hops.
    With 0 the forwarded headers are ignored: anyone can forge them.
    """
    hops = trusted_hops(app.config.get(SETTING, 0))
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]  # Flask's middleware idiom


def trusted_hops(value: object) -> int:
    """The setting as an integer >= 0, or a ConfigError that names it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(
            f"TELETHERAPY_{SETTING} must be an integer >= 0, the number of reverse "
            f"proxies in front of the app (got {value!r})"
        )
    return value
