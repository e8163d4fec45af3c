"""Failed sign-ins per account and address: a lock-out that cannot be used as a weapon."""

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class LoginThrottle(Base):
    """One e-mail address tried from one network address: failures and locks so far.

    Keyed by the SHA-256 of the normalized e-mail, whether or not it is an account:
    unknown addresses lock exactly like real ones, so the lock-out reveals nothing,
    and no mistyped e-mail is stored in clear.
    """

    __tablename__ = "login_throttles"
    __table_args__ = (
        CheckConstraint("failures >= 0", name="failures"),
        CheckConstraint("lockouts >= 0", name="lockouts"),
    )

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    # Locks so far from this address: each lasts twice as long as the one before.
    lockouts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
