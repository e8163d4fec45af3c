"""Therapy sessions and what happens in them: chat messages and connection-quality samples."""

from datetime import datetime
from enum import StrEnum
from typing import Literal

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, new_id, utcnow
from .user import User


class Modality(StrEnum):
    VIDEO = "video"
    AUDIO = "audio"
    CHAT = "chat"
    IN_PERSON = "in_person"


class SessionStatus(StrEnum):
    """A session's life: scheduled → live → ended, or scheduled → cancelled.

    Members equal, hash and serialize as their plain strings: the column stays a
    string under the same CHECK constraint, and the API answers the same text."""

    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"


# Plain strings (the CHECK constraints and error messages print these tuples).
MODALITIES = tuple(m.value for m in Modality)
STATUSES = tuple(s.value for s in SessionStatus)
# Why a call switched to audio only or back: the page offered it on a weak
# connection and the person accepted, or the person chose it themselves.
SWITCH_REASONS = ("low_bandwidth", "user")


class TherapySession(Base):
    __tablename__ = "therapy_sessions"
    __table_args__ = (
        CheckConstraint(f"modality IN {MODALITIES}", name="modality"),
        CheckConstraint(f"status IN {STATUSES}", name="status"),
        CheckConstraint("duration_minutes BETWEEN 5 AND 240", name="duration"),
        CheckConstraint("therapist_id <> client_id", name="distinct_people"),
        CheckConstraint(
            "ended_at IS NULL OR started_at IS NOT NULL", name="ended_after_start"
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    therapist_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    modality: Mapped[str] = mapped_column(String(16))
    scheduled_start: Mapped[datetime] = mapped_column(index=True)
    duration_minutes: Mapped[int]
    status: Mapped[str] = mapped_column(
        String(16), default=SessionStatus.SCHEDULED.value
    )
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The calendar file's SEQUENCE (RFC 5545): raised at each reschedule or cancel
    calendar_sequence: Mapped[int] = mapped_column(default=0)
    # When `teletherapy reminders send` queued this session's reminders (once)
    reminded_at: Mapped[datetime | None]

    therapist: Mapped[User] = relationship(foreign_keys=[therapist_id])
    client: Mapped[User] = relationship(foreign_keys=[client_id])

    def participant_role(self, user_id: str) -> Literal["therapist", "client"] | None:
        if user_id == self.therapist_id:
            return "therapist"
        if user_id == self.client_id:
            return "client"
        return None


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (
        UniqueConstraint("session_id", "sender_id", "client_msg_id"),
        UniqueConstraint("session_id", "seq"),
        CheckConstraint("seq >= 1", name="seq"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("therapy_sessions.id"), index=True
    )
    sender_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    client_msg_id: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class QualitySample(Base):
    """A connection-quality sample, or a switch of the call to audio only (or
    back) with the numbers of that moment: ``audio_only`` and ``switch_reason``
    are NULL for the periodic samples and both set for a switch."""

    __tablename__ = "quality_samples"
    __table_args__ = (
        CheckConstraint("packet_loss_pct BETWEEN 0 AND 100", name="loss"),
        CheckConstraint(
            "rtt_ms >= 0 AND jitter_ms >= 0 AND bitrate_kbps >= 0", name="nonneg"
        ),
        CheckConstraint(f"switch_reason IN {SWITCH_REASONS}", name="switch_reason"),
        CheckConstraint(
            "(audio_only IS NULL AND switch_reason IS NULL)"
            " OR (audio_only IS NOT NULL AND switch_reason IS NOT NULL)",
            name="switch",
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("therapy_sessions.id"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    rtt_ms: Mapped[float]
    jitter_ms: Mapped[float]
    packet_loss_pct: Mapped[float]
    bitrate_kbps: Mapped[float]
    frames_dropped: Mapped[float | None]
    audio_only: Mapped[bool | None]
    switch_reason: Mapped[str | None] = mapped_column(String(16))
