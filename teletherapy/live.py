"""Tell live participants about changes made outside the socket (API, dashboard)."""

from flask import url_for

import signaling

from .models import TherapySession


def rating_url(session: TherapySession) -> str:
    return url_for("rating_forms.form", session_id=session.id)


def notify_ended(session: TherapySession) -> None:
    """Both participants' open calls of this session end and land on their rating page."""
    url = rating_url(session)
    signaling.close_session(
        session.id, {session.therapist_id: url, session.client_id: url}
    )
