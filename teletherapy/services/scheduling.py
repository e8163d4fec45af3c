"""Therapy sessions: schedule, reschedule, cancel, start (in person or when both
joined), end.

Scheduling, rescheduling and cancelling take an optional ``notify``: the caller's
composer of the calendar mails (teletherapy/reminders.py), called with the changed
session and the calendar method once the change is made; its mails are queued in
the same transaction, so the change and its mails commit together or not at all.
"""

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from ..models import MODALITIES, SessionStatus, TherapySession, User
from . import accounts, audit, mail
from .calendar import Method
from .errors import Conflict, Forbidden, Invalid, NotFound

# The calendar mails of a change: (session, "REQUEST" or "CANCEL") -> mails to queue
Notify = Callable[[TherapySession, Method], Iterable[mail.Outgoing]]


def _notify(
    tx: Session, notify: Notify | None, row: TherapySession, method: Method
) -> None:
    if notify is None:
        return
    tx.flush()
    for outgoing in notify(row, method):
        mail.enqueue(tx, outgoing)


def _check_duration(duration_minutes: int) -> None:
    if not 5 <= duration_minutes <= 240:
        raise Invalid("bad duration", {"duration_minutes": "must be between 5 and 240"})


def _check_start(scheduled_start: datetime) -> datetime:
    if scheduled_start.tzinfo is None or scheduled_start.utcoffset() is None:
        raise Invalid(
            "the start needs a time zone",
            {"scheduled_start": "give a time with its offset (e.g. +02:00 or Z)"},
        )
    return scheduled_start.astimezone(UTC)


def schedule(
    tx: Session,
    therapist: User,
    *,
    client_id: str,
    modality: str,
    scheduled_start: datetime,
    duration_minutes: int,
    origin: str | None,
    notify: Notify | None = None,
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
    _check_duration(duration_minutes)
    row = TherapySession(
        therapist_id=therapist.id,
        client_id=client_id,
        modality=modality,
        scheduled_start=_check_start(scheduled_start),
        duration_minutes=duration_minutes,
        calendar_sequence=0,
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
    _notify(tx, notify, row, "REQUEST")
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
    tx: Session,
    user: User,
    session_id: str,
    *,
    origin: str | None,
    notify: Notify | None = None,
) -> TherapySession:
    row = for_participant(tx, user, session_id)
    if row.status != SessionStatus.SCHEDULED:
        raise Conflict(
            f"a {row.status} session cannot be cancelled", code="invalid_state"
        )
    row.status = SessionStatus.CANCELLED
    row.cancelled_at = datetime.now(UTC)
    row.calendar_sequence = (row.calendar_sequence or 0) + 1
    audit.record(tx, "session.cancel", user.id, "session", row.id, origin=origin)
    _notify(tx, notify, row, "CANCEL")
    tx.commit()
    return row


def reschedule(
    tx: Session,
    user: User,
    session_id: str,
    scheduled_start: datetime,
    duration_minutes: int | None = None,
    *,
    origin: str | None,
    notify: Notify | None = None,
    now: datetime | None = None,
) -> TherapySession:
    """A scheduled session moved to a new time (its therapist only): the calendar
    file's SEQUENCE goes up, and a reminder for the new time will go out."""
    row = for_participant(tx, user, session_id)
    if row.therapist_id != user.id:
        raise Forbidden("only the therapist reschedules a session")
    if row.status != SessionStatus.SCHEDULED:
        raise Conflict(
            f"a {row.status} session cannot be rescheduled", code="invalid_state"
        )
    start = _check_start(scheduled_start)
    if start <= (now or datetime.now(UTC)):
        raise Invalid(
            "the new time has passed", {"scheduled_start": "must be in the future"}
        )
    if duration_minutes is not None:
        _check_duration(duration_minutes)
    previous = row.scheduled_start
    row.scheduled_start = start
    if duration_minutes is not None:
        row.duration_minutes = duration_minutes
    row.calendar_sequence = (row.calendar_sequence or 0) + 1
    row.reminded_at = None
    audit.record(
        tx,
        "session.reschedule",
        user.id,
        "session",
        row.id,
        origin=origin,
        previous_start=previous.astimezone(UTC).isoformat(),
        scheduled_start=start.isoformat(),
        duration_minutes=row.duration_minutes,
    )
    _notify(tx, notify, row, "REQUEST")
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
