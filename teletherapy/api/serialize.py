"""Model → JSON dicts for the API (and socket payloads)."""

from typing import Any

from flask import url_for

from ..models import ChatMessage, TherapySession, User
from ..times import api_time


def user(u: User) -> dict[str, Any]:
    return {"id": u.id, "role": u.role, "display_name": u.display_name}


def session(s: TherapySession) -> dict[str, Any]:
    return {
        "id": s.id,
        "therapist_id": s.therapist_id,
        "client_id": s.client_id,
        "modality": s.modality,
        "scheduled_start": api_time(s.scheduled_start),
        "duration_minutes": s.duration_minutes,
        "status": s.status,
        "started_at": api_time(s.started_at),
        "ended_at": api_time(s.ended_at),
        "join_url": url_for("sessions.join", session_id=s.id),
    }


def message(m: ChatMessage, sender_role: str) -> dict[str, Any]:
    return {
        "id": m.id,
        "session_id": m.session_id,
        "sender_id": m.sender_id,
        "sender_role": sender_role,
        "text": m.text,
        "sent_at": api_time(m.sent_at),
        "client_msg_id": m.client_msg_id,
        "seq": m.seq,
    }
