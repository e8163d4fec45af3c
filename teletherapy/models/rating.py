"""Alliance ratings: one per participant per session, immutable once stored."""

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_id, utcnow

PERSPECTIVES = ("client", "therapist")


class Rating(Base):
    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("session_id", "rater_id"),
        CheckConstraint(f"perspective IN {PERSPECTIVES}", name="perspective"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("therapy_sessions.id"), index=True
    )
    rater_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    perspective: Mapped[str] = mapped_column(String(16))
    instrument_id: Mapped[str] = mapped_column(String(64))
    instrument_version: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict[str, Any]]
    total: Mapped[float | None]
    subscales: Mapped[dict[str, Any]]
    # Therapist's optional meta-perception answers (how they think the client rated).
    meta_answers: Mapped[dict[str, Any] | None]
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
