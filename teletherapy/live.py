"""Tell live participants about changes made outside the socket (API, dashboard)."""

from flask import url_for

import signaling

from .models import TherapySession


def rating_url(session: TherapySession) -> str:
    return url_for("sessions.rate", session_id=session.id)


def notify_ended(session: TherapySession) -> None:
    """Every connection of both participants gets session_ended with its rating page."""
    payload = {"session_id": session.id, "rating_url": rating_url(session)}
    for user_id in (session.therapist_id, session.client_id):
        signaling.socketio.emit(
            "session_ended", payload, to=f"user:{user_id}", namespace="/rtc"
        )
