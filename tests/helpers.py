"""Small builders shared by tests (no fixtures here)."""

import uuid
from datetime import UTC, datetime, timedelta

from teletherapy.config import Settings
from teletherapy.extensions import db
from teletherapy.models import TherapySession, User
from teletherapy.services import accounts, audit, scheduling

PASSWORD = "correct horse battery staple"


def new_user(  # type: ignore[no-untyped-def]
    app, role: str = "client", email: str | None = None, name: str | None = None
) -> User:
    """An account of ``role`` in ``app``'s database, with PASSWORD."""
    with app.app_context():
        return accounts.create_user(
            db.session,
            email=email or f"{role}-{uuid.uuid4().hex[:8]}@example.org",
            name=name or f"Test {role.title()}",
            role=role,
            password=PASSWORD,
            actor_id=None,
            hash_method=Settings.of(app.config).password_hash_method,
            origin=audit.CLI,
        )


def pair(app, make_user) -> tuple[User, User]:  # type: ignore[no-untyped-def]
    therapist, client = make_user("therapist"), make_user("client")
    with app.app_context():
        accounts.add_to_caseload(
            db.session,
            db.session.get(User, therapist.id),
            db.session.get(User, client.id),
            None,
            origin=audit.CLI,
        )
    return therapist, client


def session_for(
    app, therapist: User, client: User, modality: str = "video"
) -> TherapySession:  # type: ignore[no-untyped-def]
    with app.app_context():
        return scheduling.schedule(
            db.session,
            db.session.get(User, therapist.id),
            client_id=client.id,
            modality=modality,
            scheduled_start=datetime.now(UTC) + timedelta(hours=1),
            duration_minutes=50,
            origin=audit.CLI,
        )
