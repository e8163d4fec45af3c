"""Builders for the rating tests: ended sessions and complete answers."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from teletherapy import instruments_app as instruments
from teletherapy.extensions import db
from teletherapy.models import AuditEvent, Rating, TherapySession, User
from teletherapy.services import audit, scheduling

from .helpers import session_for

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "ratings" / "fixtures"


def ended_session(app, therapist: User, client: User, modality: str = "video") -> str:  # type: ignore[no-untyped-def]
    """A session that took place and ended just now; returns its id."""
    row = session_for(app, therapist, client, modality)
    with app.app_context():
        if modality == "in_person":
            scheduling.start_in_person(
                db.session,
                db.session.get(User, therapist.id),
                row.id,
                origin=audit.CLI,
            )
        else:
            scheduling.mark_live(db.session, row.id, origin=audit.CLI)
        scheduling.end(
            db.session, db.session.get(User, therapist.id), row.id, origin=audit.CLI
        )
    return row.id


def set_status(app, session_id: str, status: str) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        row = db.session.get(TherapySession, session_id)
        row.status = status
        if status == "live":
            row.started_at = datetime.now(UTC) - timedelta(minutes=10)
        if status == "cancelled":
            row.cancelled_at = datetime.now(UTC)
        db.session.commit()


def answers_for(app, form_id: str, value: int = 4, skip: str = "") -> dict[str, int]:  # type: ignore[no-untyped-def]
    """An answer for every item of the latest version of a form (minus `skip`'s
    subscale)."""
    with app.app_context():
        form = instruments.registry().latest(form_id)
    return {i.id: value for i in form.items if i.subscale != skip}


def rating_rows(app) -> list[Rating]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return list(db.session.scalars(select(Rating)))


def audit_count(app, action: str) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return int(
            db.session.scalar(select(func.count()).where(AuditEvent.action == action))
        )


def rating_path(session_id: str) -> str:
    return f"/api/v1/sessions/{session_id}/rating"
