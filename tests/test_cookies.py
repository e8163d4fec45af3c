"""docs/security.md, row 8: the login cookie as a production server really sends it.

The app runs with TELETHERAPY_ENV=production (its own keys, CSRF on, on SQLite and on
PostgreSQL), and the tests read the Set-Cookie header of the login answer itself, not
the configuration. The session started before login carries a marker (the CSRF token
the login form put in it); after login the marker is gone: the login cleared the old
session instead of adding the user to it (no session fixation).
"""

import re
from http.cookies import SimpleCookie

import pytest

from teletherapy import create_app
from teletherapy.config import Settings
from teletherapy.extensions import db
from teletherapy.services import accounts, audit

from .conftest import PASSWORD

TOKEN = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


@pytest.fixture
def production(database_url, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("TELETHERAPY_ENV", raising=False)
    app = create_app(
        {
            "ENV": "production",
            "DATABASE_URL": database_url,
            "ALLOW_SQLITE_IN_PRODUCTION": True,
            "ALLOWED_ORIGINS": ["https://clinic.example"],
            "SECRET_KEY": "production-secret-key-of-32-bytes-or-more",
            "PSEUDONYM_KEY": "production-pseudonym-key-of-32-bytes-too",
        }
    )
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        accounts.create_user(
            db.session,
            email="cookie@example.org",
            name="Cookie",
            role="client",
            password=PASSWORD,
            actor_id=None,
            hash_method=Settings.of(app.config).password_hash_method,
            origin=audit.CLI,
        )
    yield app
    db.session.remove()
    db.engine.dispose()


def _session_cookie(app, response) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """(value, the whole Set-Cookie header) of the session cookie in one answer."""
    name = app.config["SESSION_COOKIE_NAME"]
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name)]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    return SimpleCookie(headers[0])[name].value, headers[0]


def _contents(app, value: str) -> dict:  # type: ignore[no-untyped-def]
    """What a session cookie holds, read with the server's own key."""
    return dict(app.session_interface.get_signing_serializer(app).loads(value))


def _sign_in(app):  # type: ignore[no-untyped-def]
    browser = app.test_client()
    page = browser.get("/login", base_url="https://clinic.example")
    before, _ = _session_cookie(app, page)
    token = TOKEN.search(page.get_data(as_text=True)).group(1)
    form = {"email": "cookie@example.org", "password": PASSWORD, "csrf_token": token}
    answer = browser.post(
        "/login",
        data=form,
        base_url="https://clinic.example",
        headers={"Referer": "https://clinic.example/login"},  # CSRF over HTTPS wants it
    )
    assert answer.status_code == 302
    return before, answer


def test_the_login_cookie_is_httponly_samesite_lax_and_secure(production):
    _, answer = _sign_in(production)
    _, header = _session_cookie(production, answer)
    attributes = {
        part.strip().split("=")[0].lower(): part for part in header.split(";")
    }
    assert "httponly" in attributes
    assert "secure" in attributes
    assert attributes["samesite"].strip() == "SameSite=Lax"
    assert "domain" not in attributes  # the host only, never its sub-domains


def test_login_clears_the_session_it_was_given(production):
    before, answer = _sign_in(production)
    after, _ = _session_cookie(production, answer)
    old, new = _contents(production, before), _contents(production, after)
    assert old.get("csrf_token") and "_user_id" not in old  # the marker was there
    assert new["_user_id"]  # signed in ...
    assert "csrf_token" not in new  # ... in a new session: the marker is gone
    assert after != before
