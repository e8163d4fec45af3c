"""Login, lockout, logout, CSRF and cookie hardening (docs/security.md, rows 6 and 8)."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from teletherapy import create_app
from teletherapy.extensions import db
from teletherapy.models import AuditEvent

from .helpers import PASSWORD, new_user


def test_login_redirects_to_role_dashboard(client, auth, make_user):
    r = auth.login(make_user("therapist"))
    assert r.status_code == 302
    assert client.get("/").headers["Location"].endswith("/therapist")


def test_wrong_password_is_refused_without_saying_which_part(client, auth, make_user):
    user = make_user("client")
    r = auth.login(user, "wrong password here")
    assert r.status_code == 401
    assert b"do not match" in r.data
    assert client.get("/client").status_code == 302


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/client", "/client"),
        ("https://evil.example/phish", "/"),
        ("//evil.example/phish", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_is_followed_only_within_the_site(client, make_user, target, expected):
    user = make_user("client")
    r = client.post(
        f"/login?next={target}", data={"email": user.email, "password": PASSWORD}
    )
    assert r.headers["Location"] == expected


def test_lockout_after_repeated_failures_and_release_after_the_window(
    app, client, auth, make_user
):
    user = make_user("client")
    with time_machine.travel("2026-11-26 10:00:00+00:00", tick=False) as traveller:
        for _ in range(app.config["LOCKOUT_THRESHOLD"]):
            auth.login(user, "wrong password here")
        assert auth.login(user).status_code == 401  # right password, but locked
        traveller.shift(timedelta(minutes=app.config["LOCKOUT_MINUTES"] + 1))
        assert auth.login(user).status_code == 302
    with app.app_context():
        actions = list(
            db.session.scalars(
                select(AuditEvent.action).where(AuditEvent.actor_id == user.id)
            )
        )
    assert "user.locked" in actions and "login" in actions


def test_deactivated_user_cannot_log_in(app, client, auth, make_user):
    admin, user = make_user("admin"), make_user("client")
    auth.login(admin)
    client.post(f"/admin/users/{user.id}/active/0")
    auth.logout()
    assert auth.login(user).status_code == 401


def test_logout_voids_the_old_cookie(app, client, auth, make_user):
    auth.login(make_user("client"))
    old_cookie = client.get_cookie("session").value
    assert client.get("/client").status_code == 200
    auth.logout()
    client.set_cookie("session", old_cookie)
    r = client.get("/client")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_deactivation_voids_the_users_cookie(app, make_user):
    admin, user = make_user("admin"), make_user("client")
    victim, operator = app.test_client(), app.test_client()
    victim.post("/login", data={"email": user.email, "password": PASSWORD})
    assert victim.get("/client").status_code == 200
    operator.post("/login", data={"email": admin.email, "password": PASSWORD})
    operator.post(f"/admin/users/{user.id}/active/0")
    assert victim.get("/client").status_code == 302


@pytest.fixture
def csrf_app(make_app):  # type: ignore[no-untyped-def]
    return make_app(WTF_CSRF_ENABLED=True)


def test_post_without_csrf_token_is_refused(csrf_app):
    c = csrf_app.test_client()
    r = c.post("/login", data={"email": "a@example.org", "password": "x" * 12})
    assert r.status_code == 400


def test_api_token_route_needs_no_csrf_but_json(csrf_app):
    r = csrf_app.test_client().post(
        "/api/v1/auth/token", json={"email": "a@example.org", "password": "x"}
    )
    assert r.status_code == 401


def test_cookie_flags_and_session_renewed_at_login(csrf_app):
    import re

    user = new_user(csrf_app, "client", "c@example.org", "C")
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    before = client.get_cookie("session").value
    r = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 302
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get_cookie("session").value != before


def test_production_cookies_are_secure(monkeypatch, tmp_path):
    monkeypatch.setenv("TELETHERAPY_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("TELETHERAPY_PSEUDONYM_KEY", "p" * 40)
    app = create_app(
        {
            "ENV": "production",
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite",
            "ALLOW_SQLITE_IN_PRODUCTION": True,
            "ALLOWED_ORIGINS": ["https://clinic.example"],
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    db.engine.dispose()


def test_timezone_setting_changes_how_times_are_shown(client, auth, make_user):
    auth.login(make_user("client"))
    r = client.post(
        "/settings", data={"timezone": "Europe/Berlin"}, follow_redirects=True
    )
    assert b"Europe/Berlin" in r.data
    r = client.post("/settings", data={"timezone": "Mars/Olympus"})
    assert b"Not a valid choice" in r.data
