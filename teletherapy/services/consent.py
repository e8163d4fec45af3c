"""Research consent: give it (for the current text version), withdraw it, read it.

A person's consent is *active* while a row has ``withdrawn_at`` unset. Research
reads consult active consent at query time (teletherapy/research/rows.py), so a
withdrawal removes the person's sessions from every later summary and export.
Giving consent to a newer text version closes the older row and opens a new one;
the history is kept.
"""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

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


def current_version() -> str:
    return str(current_app.config["CONSENT_VERSION"])


def active_rows(db: Session, user_id: str) -> list[ResearchConsent]:
    stmt = select(ResearchConsent).where(
        ResearchConsent.user_id == user_id, ResearchConsent.withdrawn_at.is_(None)
    )
    return list(db.scalars(stmt.order_by(ResearchConsent.given_at)))


def status(db: Session, user: User) -> ConsentStatus:
    active = active_rows(db, user.id)
    if active:
        row = active[-1]
        return ConsentStatus(True, row.version, current_version(), row.given_at, None)
    stmt = select(ResearchConsent.withdrawn_at).where(
        ResearchConsent.user_id == user.id, ResearchConsent.withdrawn_at.is_not(None)
    )
    last = db.scalar(stmt.order_by(ResearchConsent.withdrawn_at.desc()).limit(1))
    return ConsentStatus(False, None, current_version(), None, last)


def give(db: Session, user: User, version: str | None) -> ConsentStatus:
    """Agree to the current text; 422 when ``version`` names another text."""
    expected = current_version()
    if version != expected:
        raise Invalid(
            "invalid fields",
            {
                "version": f"must be the current consent text {expected!r} (got {version!r})"
            },
        )
    active = active_rows(db, user.id)
    if any(row.version == expected for row in active):
        return status(db, user)  # already given: nothing changes, nothing to audit
    now = utcnow()
    for row in active:  # an older text: superseded by this one
        row.withdrawn_at = now
    row = ResearchConsent(user_id=user.id, version=expected, given_at=now)
    db.add(row)
    db.flush()
    audit.record(db, "consent.give", user.id, "consent", row.id, version=expected)
    db.commit()
    return status(db, user)


def withdraw(db: Session, user: User) -> ConsentStatus:
    """Withdraw every active consent of the user (nothing happens without one)."""
    active = active_rows(db, user.id)
    if not active:
        return status(db, user)
    now = utcnow()
    for row in active:
        row.withdrawn_at = now
        audit.record(
            db, "consent.withdraw", user.id, "consent", row.id, version=row.version
        )
    db.commit()
    return status(db, user)


def decide(
    db: Session, user: User, research: bool, version: str | None
) -> ConsentStatus:
    """Give (research true) or withdraw (research false); rolls back on failure."""
    try:
        return give(db, user, version) if research else withdraw(db, user)
    except Exception:
        db.rollback()
        raise
