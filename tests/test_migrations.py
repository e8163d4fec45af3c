"""Migrations run from empty on SQLite and PostgreSQL and match the models."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from teletherapy.extensions import make_engine
from teletherapy.models import Base
from teletherapy.services import migrations

from .conftest import PG_ADMIN_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.sqlite"
        return
    name = f"tt_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield (
        make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_from_empty_matches_models_and_downgrades(empty_url):
    migrations.upgrade(empty_url)
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        assert set(inspect(conn).get_table_names()) >= {
            t.name for t in Base.metadata.sorted_tables
        }
    migrations.downgrade(empty_url)
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    migrations.upgrade(empty_url)
    engine.dispose()


def test_audit_rows_cannot_be_changed_or_deleted(empty_url):
    migrations.upgrade(empty_url)
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_events (at, action) VALUES (CURRENT_TIMESTAMP, 'x')"
            )
        )
    for statement in (
        "UPDATE audit_events SET action = 'y'",
        "DELETE FROM audit_events",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(
            text("SELECT action FROM audit_events")
        ).scalars().all() == ["x"]
    engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO users (id, email, display_name, role, password_hash, active,"
        " timezone, login_nonce, failed_logins, created_at) VALUES ('u1', 'a@x.org',"
        " 'A', 'wizard', 'h', true, 'UTC', 'n', 0, CURRENT_TIMESTAMP)",
        "INSERT INTO users (id, email, display_name, role, password_hash, active,"
        " timezone, login_nonce, failed_logins, created_at) VALUES ('u1', 'a@x.org',"
        " 'A', 'client', 'h', true, 'UTC', 'n', -1, CURRENT_TIMESTAMP)",
    ],
)
def test_database_enforces_check_constraints(empty_url, statement):
    migrations.upgrade(empty_url)
    engine = make_engine(empty_url)
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()
