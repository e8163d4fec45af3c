"""Fixtures: app (on SQLite and on PostgreSQL), make_app, client, runner, auth,
make_user."""

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from teletherapy import create_app
from teletherapy.extensions import db
from teletherapy.models import Base, User
from teletherapy.services import migrations

from .helpers import PASSWORD, new_user
from .smtp import SmtpServer

__all__ = ["PASSWORD"]  # tests import it from here

PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# The suite's app: testing config, fixed keys, CSRF off (tests that check CSRF
# turn it on with make_app).
SUITE_CONFIG: dict[str, Any] = {
    "ENV": "testing",
    "SECRET_KEY": "test-secret",
    "PSEUDONYM_KEY": "test-pseudonym-key",
    "WTF_CSRF_ENABLED": False,
    "ALLOWED_ORIGINS": ["http://localhost"],
}


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file, copied for each test (fast and isolated)."""
    path = tmp_path_factory.mktemp("db") / "template.sqlite"
    migrations.upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A private database for this test run, migrated once, dropped at the end."""
    name = f"tt_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = (
        make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    )
    migrations.upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    _truncate_postgres(url)
    return url


@pytest.fixture
def make_app(database_url: str, tmp_path) -> Iterator[Callable[..., Flask]]:  # type: ignore[no-untyped-def]
    """Apps on this test's database: the suite's config with some keys changed
    (``make_app(AUTH_RATE_LIMIT="3 per minute")``); their engines go at the end."""
    engines = []

    def make(**changes: Any) -> Flask:
        app = create_app({**SUITE_CONFIG, "DATABASE_URL": database_url, **changes})
        app.instance_path = str(tmp_path / "instance")
        engines.append(db.engine)
        return app

    yield make
    db.session.remove()
    for engine in engines:
        engine.dispose()


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    return make_app()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):  # type: ignore[no-untyped-def]
    def make(
        role: str = "client", email: str | None = None, name: str | None = None
    ) -> User:
        return new_user(app, role, email, name)

    return make


class AuthActions:
    def __init__(self, client) -> None:  # type: ignore[no-untyped-def]
        self.client = client

    def login(self, user: User, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        return self.client.post(
            "/login", data={"email": user.email, "password": password}
        )

    def logout(self):  # type: ignore[no-untyped-def]
        return self.client.post("/logout")


@pytest.fixture
def auth(client) -> AuthActions:  # type: ignore[no-untyped-def]
    return AuthActions(client)


@pytest.fixture
def token_for(client):  # type: ignore[no-untyped-def]
    def issue(user: User) -> dict[str, str]:
        r = client.post(
            "/api/v1/auth/token", json={"email": user.email, "password": PASSWORD}
        )
        assert r.status_code == 200, r.get_json()
        return {"Authorization": f"Bearer {r.get_json()['token']}"}

    return issue


@pytest.fixture
def smtp_server() -> Iterator["SmtpServer"]:
    """A real SMTP server (aiosmtpd) in this process: ``make_app(SMTP_URL=smtp_server.url)``."""
    from .smtp import start_smtp

    server = start_smtp()
    yield server
    server.stop()


@pytest.fixture
def mail_app(make_app, smtp_server):  # type: ignore[no-untyped-def]
    """The suite's app sending to ``smtp_server``, with a public address for links."""
    return make_app(SMTP_URL=smtp_server.url, PUBLIC_URL="https://clinic.example")
