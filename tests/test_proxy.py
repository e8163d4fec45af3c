"""Behind a trusted proxy each person's own address counts (docs/security.md, row 22)."""

import uuid

import pytest
from sqlalchemy import select
from werkzeug.middleware.proxy_fix import ProxyFix

from teletherapy.config import ConfigError
from teletherapy.extensions import db
from teletherapy.models import AuditEvent

from .helpers import PASSWORD, new_user

PROXY = "127.0.0.1"  # nginx on the same host: every request arrives from here
LIMIT = 3


@pytest.fixture
def proxied(make_app):  # type: ignore[no-untyped-def]
    return make_app(AUTH_RATE_LIMIT=f"{LIMIT} per minute", TRUSTED_PROXY_HOPS=1)


@pytest.fixture
def direct(make_app):  # type: ignore[no-untyped-def]
    # the default: no proxy trusted
    return make_app(AUTH_RATE_LIMIT=f"{LIMIT} per minute")


def _post_login(client, email, password, peer, forwarded=None):  # type: ignore[no-untyped-def]
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post(
        "/login",
        data={"email": email, "password": password},
        headers=headers,
        environ_base={"REMOTE_ADDR": peer},
    )


def _unknown() -> str:
    return f"nobody-{uuid.uuid4().hex[:8]}@example.org"


def _audit_ips(app, action):  # type: ignore[no-untyped-def]
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent.ip)
                .where(AuditEvent.action == action)
                .order_by(AuditEvent.id)
            )
        )


def test_behind_one_proxy_each_forwarded_address_has_its_own_limit(proxied):
    client, user = proxied.test_client(), new_user(proxied, "therapist")
    for _ in range(LIMIT):
        r = _post_login(client, _unknown(), "wrong password", PROXY, "203.0.113.7")
        assert r.status_code == 401
    limited = _post_login(client, user.email, PASSWORD, PROXY, "203.0.113.7")
    assert limited.status_code == 429
    # a forged first hop is not the address: nginx appends the real one last
    r = _post_login(client, user.email, PASSWORD, PROXY, "203.0.113.7, 198.51.100.20")
    assert r.status_code == 302
    assert _audit_ips(proxied, "login.failed") == ["203.0.113.7"] * LIMIT
    assert _audit_ips(proxied, "login") == ["198.51.100.20"]


def test_behind_one_proxy_socket_handshake_sees_the_forwarded_address(proxied):
    # ProxyFix wraps engine.io (and everything under it): it is the outermost layer
    assert isinstance(proxied.wsgi_app, ProxyFix)
    seen: list[tuple[str, str]] = []
    proxied.wsgi_app.app = _Recorder(proxied.wsgi_app.app, seen)
    proxied.test_client().get(
        "/socket.io/?EIO=4&transport=polling",
        headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": PROXY},
    )
    assert seen == [("203.0.113.9", "https")]


class _Recorder:
    """Records what the middleware below ProxyFix (engine.io) is handed."""

    def __init__(self, app, seen):  # type: ignore[no-untyped-def]
        self.app, self.seen = app, seen

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        self.seen.append((environ["REMOTE_ADDR"], environ["wsgi.url_scheme"]))
        return self.app(environ, start_response)


def test_without_trusted_proxy_a_forged_forwarded_for_changes_nothing(direct):
    client, user = direct.test_client(), new_user(direct, "therapist")
    for n in range(LIMIT):
        forged = f"198.51.100.{n + 1}"
        r = _post_login(client, _unknown(), "wrong password", "192.0.2.5", forged)
        assert r.status_code == 401
    r = _post_login(client, user.email, PASSWORD, "192.0.2.5", "198.51.100.99")
    assert r.status_code == 429
    assert _post_login(client, user.email, PASSWORD, "192.0.2.6").status_code == 302
    assert _audit_ips(direct, "login.failed") == ["192.0.2.5"] * LIMIT
    assert _audit_ips(direct, "login") == ["192.0.2.6"]


@pytest.mark.parametrize("hops", [-1, "two", 1.5, True])
def test_trusted_proxy_hops_must_be_a_non_negative_integer(make_app, hops):
    with pytest.raises(ConfigError, match="TRUSTED_PROXY_HOPS"):
        make_app(TRUSTED_PROXY_HOPS=hops)
