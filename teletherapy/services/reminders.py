"""Session reminders by mail, each sent once.

:func:`queue_due` finds the scheduled sessions that start within the next
``hours_before`` hours (and have not started yet) and have had no reminder;
for each it claims the session with ``UPDATE … SET reminded_at = now WHERE
reminded_at IS NULL`` and queues one mail per active participant in the same
transaction. Only the run whose UPDATE changed the row queues the mails: on
PostgreSQL a second run's UPDATE waits for the first one's commit and then
matches no row; SQLite lets one writer in at a time. Running it again, or twice
at once, never mails anyone twice. A reschedule clears ``reminded_at`` so the
new time gets its own reminder.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import SessionStatus, TherapySession, User
from . import mail

log = logging.getLogger(__name__)

# One participant's reminder: (session, recipient) -> the mail to queue
Compose = Callable[[TherapySession, User], mail.Outgoing]


@dataclass(frozen=True)
class Queued:
    """What one run queued."""

    mails: int = 0
    sessions: int = 0
    failed: int = (
        0  # sessions whose mails could not be composed (logged; tried again next run)
    )


def due(tx: Session, hours_before: float, now: datetime | None = None) -> list[str]:
    """Ids of the scheduled sessions starting within ``hours_before`` hours that
    have had no reminder yet, soonest first."""
    now = now or datetime.now(UTC)
    stmt = (
        select(TherapySession.id)
        .where(
            TherapySession.status == SessionStatus.SCHEDULED.value,
            TherapySession.reminded_at.is_(None),
            TherapySession.scheduled_start > now,
            TherapySession.scheduled_start <= now + timedelta(hours=hours_before),
        )
        .order_by(TherapySession.scheduled_start, TherapySession.id)
    )
    return list(tx.scalars(stmt))


def recipients(session: TherapySession) -> Iterable[User]:
    """The participants who get mail about the session: active accounts only."""
    return [u for u in (session.therapist, session.client) if u.active]


def _claim(tx: Session, session_id: str, now: datetime) -> bool:
    """Mark the session reminded; False when another run already did, or it is no
    longer scheduled (uncommitted: the caller commits it with the mails)."""
    result = tx.execute(
        update(TherapySession)
        .where(
            TherapySession.id == session_id,
            TherapySession.reminded_at.is_(None),
            TherapySession.status == SessionStatus.SCHEDULED.value,
        )
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def queue_due(
    tx: Session,
    compose: Compose,
    *,
    hours_before: float,
    now: datetime | None = None,
) -> Queued:
    """Queue the due reminders, each session in its own transaction with its claim.
    A session whose mails cannot be composed is logged and left unclaimed (the next
    run tries again); the others still get theirs."""
    now = now or datetime.now(UTC)
    mails = sessions = failed = 0
    for session_id in due(tx, hours_before, now):
        tx.rollback()  # a fresh transaction: the claim sees every committed run
        try:
            if not _claim(tx, session_id, now):
                tx.rollback()
                continue
            row = tx.get(TherapySession, session_id, populate_existing=True)
            if row is None:  # pragma: no cover - claimed rows exist
                tx.rollback()
                continue
            count = 0
            for user in recipients(row):
                mail.enqueue(tx, compose(row, user))
                count += 1
            tx.commit()
        except Exception:
            tx.rollback()
            log.exception("the reminders of session %s could not be queued", session_id)
            failed += 1
            continue
        except BaseException:
            tx.rollback()
            raise
        mails += count
        sessions += 1
    return Queued(mails, sessions, failed)
