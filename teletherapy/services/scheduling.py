"""Therapy sessions: schedule, cancel, start (in person or when both joined), end."""

from datetime import UTC, datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from ..models import MODALITIES, SessionStatus, TherapySession, User
from . import accounts, audit
from .errors import Conflict, Forbidden, Invalid, NotFound


def schedule(
    tx: Session,
    therapist: User,
    *,
    client_id: str,
    modality: str,
    scheduled_start: datetime,
    duration_minutes: int,
    origin: str | None,
) -> TherapySession:
    if therapist.role != "therapist":
        raise Forbidden("only therapists schedule sessions")
    if not accounts.in_caseload(tx, therapist.id, client_id):
        raise Invalid(
            "client is not in your caseload", {"client_id": "not in your caseload"}
        )
    if modality not in MODALITIES:
        raise Invalid(
            "unknown modality", {"modality": f"must be one of {list(MODALITIES)}"}
        )
    if not 5 <= duration_minutes <= 240:
        raise Invalid("bad duration", {"duration_minutes": "must be between 5 and 240"})
    row = TherapySession(
        therapist_id=therapist.id,
        client_id=client_id,
        modality=modality,
        scheduled_start=scheduled_start.astimezone(UTC),
        duration_minutes=duration_minutes,
    )
    tx.add(row)
    tx.flush()
    audit.record(
        tx,
        "session.create",
        therapist.id,
        "session",
        row.id,
        modality=modality,
        origin=origin,
    )
    tx.commit()
    return row


def for_participant(tx: Session, user: User, session_id: str) -> TherapySession:
    """The session if the user takes part in it; 404 otherwise (existence is not revealed)."""
    row = tx.get(TherapySession, session_id) if _looks_like_id(session_id) else None
    if row is None or row.participant_role(user.id) is None:
        raise NotFound("no such session")
    return row


def _looks_like_id(value: str) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64


def involving(user: User) -> ColumnElement[bool]:
    """The condition for sessions the user takes part in, on either side."""
    return or_(
        TherapySession.therapist_id == user.id, TherapySession.client_id == user.id
    )


def list_for(
    tx: Session, user: User, *, limit: int = 50, offset: int = 0
) -> list[TherapySession]:
    stmt = (
        select(TherapySession)
        .where(involving(user))
        .order_by(TherapySession.scheduled_start.desc(), TherapySession.id)
        .limit(limit)
        .offset(offset)
    )
    return list(tx.scalars(stmt))


def cancel(
    tx: Session, user: User, session_id: str, *, origin: str | None
) -> TherapySession:
    row = for_participant(tx, user, session_id)
    if row.status != SessionStatus.SCHEDULED:
        raise Conflict(
            f"a {row.status} session cannot be cancelled", code="invalid_state"
        )
    row.status = SessionStatus.CANCELLED
    row.cancelled_at = datetime.now(UTC)
    audit.record(tx, "session.cancel", user.id, "session", row.id, origin=origin)
    tx.commit()
    return row


def mark_live(tx: Session, session_id: str, *, origin: str | None) -> TherapySession:
    """Both participants are present: the session goes live (once)."""
    row = tx.get(TherapySession, session_id)
    if row is None:
        raise NotFound("no such session")
    if row.status == SessionStatus.SCHEDULED:
        row.status = SessionStatus.LIVE
        row.started_at = datetime.now(UTC)
        audit.record(tx, "session.live", None, "session", row.id, origin=origin)
        tx.commit()
    return row


def start_in_person(
    tx: Session, user: User, session_id: str, *, origin: str | None
) -> TherapySession:
    row = for_participant(tx, user, session_id)
    if row.therapist_id != user.id:
        raise Forbidden("only the therapist starts a session")
    if row.modality != "in_person":
        raise Conflict(
            "online sessions start when both join the call", code="invalid_state"
        )
    if row.status != SessionStatus.SCHEDULED:
        raise Conflict(
            f"a {row.status} session cannot be started", code="invalid_state"
        )
    row.status = SessionStatus.LIVE
    row.started_at = datetime.now(UTC)
    audit.record(tx, "session.start", user.id, "session", row.id, origin=origin)
    tx.commit()
    return row


def end(
    tx: Session, user: User, session_id: str, *, origin: str | None
) -> TherapySession:
    row = for_participant(tx, user, session_id)
    if row.therapist_id != user.id:
        raise Forbidden("only the therapist ends a session")
    if row.status != SessionStatus.LIVE:
        raise Conflict(f"a {row.status} session cannot be ended", code="invalid_state")
    row.status = SessionStatus.ENDED
    row.ended_at = datetime.now(UTC)
    audit.record(tx, "session.end", user.id, "session", row.id, origin=origin)
    tx.commit()
    return row
