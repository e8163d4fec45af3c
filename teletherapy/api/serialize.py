"""Model → JSON dicts for the API (and socket payloads)."""

from datetime import UTC, datetime
from typing import Any

from flask import url_for

from ..models import ChatMessage, TherapySession, User


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def user(u: User) -> dict[str, Any]:
    return {"id": u.id, "role": u.role, "display_name": u.display_name}


def session(s: TherapySession) -> dict[str, Any]:
    return {
        "id": s.id,
        "therapist_id": s.therapist_id,
        "client_id": s.client_id,
        "modality": s.modality,
        "scheduled_start": iso(s.scheduled_start),
        "duration_minutes": s.duration_minutes,
        "status": s.status,
        "started_at": iso(s.started_at),
        "ended_at": iso(s.ended_at),
        "join_url": url_for("sessions.join", session_id=s.id),
    }


def message(m: ChatMessage, sender_role: str) -> dict[str, Any]:
    return {
        "id": m.id,
        "session_id": m.session_id,
        "sender_id": m.sender_id,
        "sender_role": sender_role,
        "text": m.text,
        "sent_at": iso(m.sent_at),
        "client_msg_id": m.client_msg_id,
        "seq": m.seq,
    }
