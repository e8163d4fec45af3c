"""Statuses are StrEnums that the database, the API and JSON see as plain strings."""

import json

from sqlalchemy import text

from teletherapy.extensions import db
from teletherapy.models import STATUSES, SessionStatus
from teletherapy.services.rating_submission import RatingFormStatus

from .helpers import pair


def test_members_are_their_plain_strings() -> None:
    assert STATUSES == ("scheduled", "live", "ended", "cancelled")
    assert all(type(s) is str for s in STATUSES)  # the CHECK constraint prints them
    assert (
        json.dumps([SessionStatus.LIVE, RatingFormStatus.CLOSED])
        == '["live", "closed"]'
    )
    assert f"{SessionStatus.ENDED}" == "ended" and SessionStatus.ENDED == "ended"


def test_stored_and_answered_as_plain_strings(app, client, make_user, token_for):
    therapist, patient = pair(app, make_user)
    t = token_for(therapist)
    body = {
        "client_id": patient.id,
        "modality": "video",
        "scheduled_start": "2026-12-01T10:00:00+01:00",
        "duration_minutes": 50,
    }
    s = client.post("/api/v1/sessions", json=body, headers=t).get_json()
    r = client.post(f"/api/v1/sessions/{s['id']}/cancel", headers=t)
    assert b'"status":"cancelled"' in r.get_data().replace(b" ", b"")
    with app.app_context():
        raw = db.session.execute(
            text("SELECT status FROM therapy_sessions WHERE id = :id"), {"id": s["id"]}
        ).scalar_one()
    assert raw == "cancelled"


def test_the_api_literals_are_the_models_values():
    """The document's enums are spelled out for the type checker; they must be the
    values the database's CHECK constraints accept, in the same order."""
    from typing import get_args

    from teletherapy.api.schemas import ModalityName, UserOut
    from teletherapy.models import MODALITIES, ROLES

    assert get_args(ModalityName) == MODALITIES
    assert get_args(UserOut.model_fields["role"].annotation) == ROLES
