"""Small builders shared by tests (no fixtures here)."""

from datetime import UTC, datetime, timedelta

from teletherapy.extensions import db
from teletherapy.models import TherapySession, User
from teletherapy.services import accounts, scheduling


def pair(app, make_user) -> tuple[User, User]:  # type: ignore[no-untyped-def]
    therapist, client = make_user("therapist"), make_user("client")
    with app.app_context():
        accounts.add_to_caseload(
            db.session,
            db.session.get(User, therapist.id),
            db.session.get(User, client.id),
            None,
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
        )
