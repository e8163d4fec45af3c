"""Outcome questionnaires (PHQ-9, GAD-7) a client answers, or skips, before a session.

Not ratings of the alliance: blinding does not apply to them, and the safety flag
(PHQ-9 item 9 above 0) is stored with the answers so the therapist is told before
the session starts.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_id, utcnow

# A deployment's or a therapist's interval can be "every n-th session" up to this.
MAX_EVERY_N = 52


class OutcomeResponse(Base):
    """One outcome questionnaire per client, session and instrument: answered or skipped."""

    __tablename__ = "outcome_responses"
    __table_args__ = (
        UniqueConstraint("session_id", "client_id", "instrument_id"),
        # A skip stores no answers, no total, no band and raises no flag; an answered
        # questionnaire stores all three.
        CheckConstraint(
            "(skipped AND answers IS NULL AND total IS NULL AND band IS NULL"
            " AND NOT flagged)"
            " OR (NOT skipped AND answers IS NOT NULL AND total IS NOT NULL"
            " AND band IS NOT NULL)",
            name="skipped",
        ),
        CheckConstraint("total IS NULL OR total >= 0", name="total"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("therapy_sessions.id"), index=True
    )
    client_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    instrument_id: Mapped[str] = mapped_column(String(64))
    instrument_version: Mapped[str] = mapped_column(String(32))
    # SQL NULL (not JSON null) for a skip, so the CHECK above can see it
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    total: Mapped[int | None]
    band: Mapped[str | None] = mapped_column(String(32))
    skipped: Mapped[bool] = mapped_column(default=False)
    # The instrument's safety rule fired (PHQ-9: item 9 above 0)
    flagged: Mapped[bool] = mapped_column(default=False)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutcomeSettings(Base):
    """A therapist's own choice of outcome measures and interval (else the deployment's)."""

    __tablename__ = "outcome_settings"
    __table_args__ = (
        CheckConstraint(f"every_n BETWEEN 1 AND {MAX_EVERY_N}", name="every_n"),
    )

    therapist_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    # Instrument ids of kind "outcome"; an empty list asks nothing
    measures: Mapped[list[str]] = mapped_column(JSON)
    every_n: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
