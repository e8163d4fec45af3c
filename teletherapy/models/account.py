"""Account life cycle: invitations, password resets, recovery codes, and mail to send.

Every link secret (invitation, reset) and every recovery code is stored as its
SHA-256 only; the clear value exists in the mail or on the page that shows it once.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_id, utcnow
from .user import ROLES

MAIL_STATUSES = ("queued", "sent", "failed")


class Invitation(Base):
    """An invitation to create an account: single use, expiring, revocable."""

    __tablename__ = "invitations"
    __table_args__ = (CheckConstraint(f"role IN {ROLES}", name="role"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), index=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    # A client invited into a therapist's caseload (by that therapist or the admin)
    therapist_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    invited_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    sent_count: Mapped[int] = mapped_column(default=0)
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


class PasswordReset(Base):
    """A password-reset link: single use, valid RESET_TTL_MINUTES."""

    __tablename__ = "password_resets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RecoveryCode(Base):
    """One of the ten single-use codes that stand in for the second factor."""

    __tablename__ = "recovery_codes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class OutgoingMail(Base):
    """A mail waiting to be sent, sent, or given up on (services/mail.py).

    The bodies are cleared once the mail is sent or has failed for good: a link
    secret in a mail does not stay in the database in clear.
    """

    __tablename__ = "outgoing_mail"
    __table_args__ = (
        CheckConstraint(f"status IN {MAIL_STATUSES}", name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # What the mail is (invitation, password_reset, reminder, calendar …): the
    # admin page shows it, never the body
    kind: Mapped[str] = mapped_column(String(32))
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    text_body: Mapped[str | None] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    # An iCalendar attachment (text/calendar; method=REQUEST|CANCEL), if any
    ics: Mapped[str | None] = mapped_column(Text)
    ics_method: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A sender holds the mail until then, so two processes never send it twice
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
