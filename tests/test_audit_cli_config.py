"""Audit rows, the command line (docs/architecture.md), configuration refusals, security headers."""

import pytest
from sqlalchemy import select

from teletherapy import create_app
from teletherapy.config import ConfigError
from teletherapy.extensions import db
from teletherapy.models import AuditEvent, CaseloadAssignment, User

from .conftest import PASSWORD
from .helpers import pair, session_for


def _actions(app) -> list[str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return list(
            db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))
        )


def test_audit_rows_for_logins_sessions_and_user_changes(app, client, auth, make_user):
    admin = make_user("admin")
    therapist, patient = pair(app, make_user)
    auth.login(therapist, "wrong password!")
    auth.login(therapist)
    r = client.post(
        "/sessions/",
        data={
            "client_id": patient.id,
            "modality": "video",
            "scheduled_start": "2026-12-01T10:00",
            "duration_minutes": 50,
        },
    )
    assert r.status_code == 302
    with app.app_context():
        sid = db.session.scalar(
            select(AuditEvent.target_id).where(AuditEvent.action == "session.create")
        )
    client.post(f"/sessions/{sid}/cancel")
    auth.logout()
    auth.login(admin)
    client.post(f"/admin/users/{patient.id}/active/0")
    actions = _actions(app)
    for expected in [
        "user.create",
        "caseload.add",
        "login.failed",
        "login",
        "session.create",
        "session.cancel",
        "logout",
        "user.deactivate",
    ]:
        assert expected in actions
    with app.app_context():
        failed = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "login.failed")
        )
        assert failed.actor_id == therapist.id and failed.ip == "127.0.0.1"
        assert failed.details == {"reason": "bad_password"}


def test_cli_users_create_prints_id_last(app, runner):
    r = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "therapist",
            "--email",
            "t@example.org",
            "--name",
            "T",
            "--password-stdin",
        ],
        input="a long enough password\n",
    )
    assert r.exit_code == 0, r.output
    user_id = r.output.strip().splitlines()[-1]
    with app.app_context():
        assert db.session.get(User, user_id).email == "t@example.org"


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (
            ["--role", "client", "--email", "c@example.org", "--name", "C"],
            "short\n",
            "at least 12",
        ),
        (
            ["--role", "client", "--email", "not-an-email", "--name", "C"],
            "long enough pass\n",
            "e-mail",
        ),
        (
            ["--role", "wizard", "--email", "c@example.org", "--name", "C"],
            "long enough pass\n",
            "wizard",
        ),
    ],
)
def test_cli_users_create_rejects_bad_input(app, runner, args, stdin, message):
    r = runner.invoke(args=["users", "create", *args, "--password-stdin"], input=stdin)
    assert r.exit_code != 0 and message in r.output
    with app.app_context():
        assert db.session.scalars(select(User)).all() == []


def test_cli_caseload_add(app, runner, make_user):
    t, c = make_user("therapist"), make_user("client")
    r = runner.invoke(
        args=["caseload", "add", "--therapist", t.email, "--client", c.email]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        args=["caseload", "add", "--therapist", t.email, "--client", c.email]
    )
    assert r.exit_code != 0 and "already" in r.output
    r = runner.invoke(
        args=["caseload", "add", "--therapist", c.email, "--client", t.email]
    )
    assert r.exit_code != 0
    with app.app_context():
        assert len(db.session.scalars(select(CaseloadAssignment)).all()) == 1


def test_cli_demo_prints_random_passwords_once(app, runner):
    first = runner.invoke(args=["demo", "--dyads", "0"])
    assert first.exit_code == 0, first.output
    lines = [
        line.split() for line in first.output.splitlines() if "@demo.example" in line
    ]
    assert {row[0] for row in lines} == {"therapist", "client", "researcher", "admin"}
    passwords = {row[2] for row in lines}
    assert len(passwords) == 4 and PASSWORD not in passwords
    second = runner.invoke(args=["demo", "--dyads", "0"])
    assert second.exit_code == 0 and "exist" in second.output
    c = app.test_client()
    therapist = next(row for row in lines if row[0] == "therapist")
    assert (
        c.post(
            "/login", data={"email": therapist[1], "password": therapist[2]}
        ).status_code
        == 302
    )


def test_cli_db_upgrade_is_idempotent(runner):
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert "up to date" in runner.invoke(args=["db", "upgrade"]).output


def test_production_refuses_to_start_without_secret(monkeypatch, tmp_path):
    monkeypatch.delenv("TELETHERAPY_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(
            {"ENV": "production", "DATABASE_URL": "postgresql+psycopg://x@127.0.0.1/x"}
        )


def test_production_refuses_sqlite_unless_told(monkeypatch):
    monkeypatch.setenv("TELETHERAPY_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("TELETHERAPY_PSEUDONYM_KEY", "p" * 40)
    monkeypatch.setenv("TELETHERAPY_ALLOWED_ORIGINS", '["https://clinic.example"]')
    with pytest.raises(ConfigError, match="SQLite"):
        create_app({"ENV": "production", "DATABASE_URL": "sqlite:////tmp/x.sqlite"})


def test_production_needs_an_origin_allow_list(monkeypatch):
    monkeypatch.setenv("TELETHERAPY_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("TELETHERAPY_PSEUDONYM_KEY", "p" * 40)
    with pytest.raises(ConfigError, match="ALLOWED_ORIGINS"):
        create_app(
            {"ENV": "production", "DATABASE_URL": "postgresql+psycopg://x@127.0.0.1/x"}
        )


def test_unknown_environment_is_refused(monkeypatch):
    monkeypatch.setenv("TELETHERAPY_ENV", "staging")
    with pytest.raises(ConfigError, match="staging"):
        create_app()


def test_environment_overrides_toml(monkeypatch, database_url):
    monkeypatch.setenv("TELETHERAPY_RATING_WINDOW_HOURS", "24")
    app = create_app(
        {"ENV": "testing", "DATABASE_URL": database_url, "SECRET_KEY": "k"}
    )
    assert app.config["RATING_WINDOW_HOURS"] == 24
    db.engine.dispose()


@pytest.mark.parametrize(
    "path", ["/login", "/therapist", "/sessions/x", "/nope", "/api/v1/me", "/healthz"]
)
def test_security_headers_on_every_response(app, client, auth, make_user, path):
    auth.login(make_user("therapist"))
    h = client.get(path).headers
    csp = h["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp
        and "frame-ancestors 'none'" in csp
    )
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "no-referrer"
    assert h["Permissions-Policy"].startswith("camera=(self), microphone=(self)")


def test_dashboards_show_times_in_the_users_zone(app, client, auth, make_user):
    therapist, patient = pair(app, make_user)
    session_for(app, therapist, patient)
    auth.login(patient)
    client.post("/settings", data={"timezone": "Asia/Tokyo"})
    assert b"JST" in client.get("/client").data
