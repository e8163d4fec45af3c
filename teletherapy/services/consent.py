"""Research consent: give it (for the current text version), withdraw it, read it.

A person's consent is *active* while a row has ``withdrawn_at`` unset. Research
reads consult active consent at query time (teletherapy/research/rows.py), so a
withdrawal removes the person's sessions from every later summary and export.
Giving consent to a newer text version closes the older row and opens a new one;
the history is kept.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..config import Settings
from ..models import ResearchConsent, User, utcnow
from . import audit
from .errors import Invalid

ROLES = ("client", "therapist")


@dataclass(frozen=True)
class ConsentStatus:
    research: bool
    version: str | None  # the version agreed to, while consent is active
    current_version: str
    given_at: datetime | None
    withdrawn_at: datetime | None  # the last withdrawal, while consent is not active

    @property
    def up_to_date(self) -> bool:
        return self.research and self.version == self.current_version


def active_rows(tx: Session, user_id: str) -> list[ResearchConsent]:
    stmt = select(ResearchConsent).where(
        ResearchConsent.user_id == user_id, ResearchConsent.withdrawn_at.is_(None)
    )
    return list(tx.scalars(stmt.order_by(ResearchConsent.given_at)))


def status(tx: Session, user: User, settings: Settings) -> ConsentStatus:
    """Where the user's research consent stands against CONSENT_VERSION."""
    return _status(tx, user, settings.consent_version)


def _status(tx: Session, user: User, current_version: str) -> ConsentStatus:
    active = active_rows(tx, user.id)
    if active:
        row = active[-1]
        return ConsentStatus(True, row.version, current_version, row.given_at, None)
    stmt = select(ResearchConsent.withdrawn_at).where(
        ResearchConsent.user_id == user.id, ResearchConsent.withdrawn_at.is_not(None)
    )
    last = tx.scalar(stmt.order_by(ResearchConsent.withdrawn_at.desc()).limit(1))
    return ConsentStatus(False, None, current_version, None, last)


def give(
    tx: Session, user: User, version: str | None, expected: str, *, origin: str | None
) -> ConsentStatus:
    """Agree to the current text ``expected``; 422 when ``version`` names another."""
    if version != expected:
        raise Invalid(
            "invalid fields",
            {
                "version": f"must be the current consent text {expected!r} (got {version!r})"
            },
        )
    active = active_rows(tx, user.id)
    if any(row.version == expected for row in active):
        return _status(tx, user, expected)  # already given: nothing to audit
    now = utcnow()
    for row in active:  # an older text: superseded by this one
        row.withdrawn_at = now
    row = ResearchConsent(user_id=user.id, version=expected, given_at=now)
    tx.add(row)
    tx.flush()
    audit.record(
        tx, "consent.give", user.id, "consent", row.id, version=expected, origin=origin
    )
    tx.commit()
    return _status(tx, user, expected)


def withdraw(
    tx: Session, user: User, current_version: str, *, origin: str | None
) -> ConsentStatus:
    """Withdraw every active consent of the user (nothing happens without one)."""
    active = active_rows(tx, user.id)
    if not active:
        return _status(tx, user, current_version)
    now = utcnow()
    for row in active:
        row.withdrawn_at = now
        audit.record(
            tx,
            "consent.withdraw",
            user.id,
            "consent",
            row.id,
            version=row.version,
            origin=origin,
        )
    tx.commit()
    return _status(tx, user, current_version)


def decide(
    tx: Session,
    user: User,
    research: bool,
    version: str | None,
    settings: Settings,
    *,
    origin: str | None,
) -> ConsentStatus:
    """Give (research true) or withdraw (research false); rolls back on failure."""
    current = settings.consent_version
    try:
        if research:
            return give(tx, user, version, current, origin=origin)
        return withdraw(tx, user, current, origin=origin)
    except Exception:
        tx.rollback()
        raise
