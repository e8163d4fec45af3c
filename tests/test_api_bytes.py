"""The API's JSON bytes stay those of the hand-built dicts the views once returned.

The views now serialize through the pydantic models the OpenAPI document shows
(teletherapy/api/schemas.py); the reference dicts below are the earlier views' code,
kept here so every response (token, me, sessions, a session, its messages, the rating
form, a submission, pending ratings) is compared byte for byte on both databases.
"""

from typing import Any

from flask import url_for
from sqlalchemy import select

from teletherapy import config, instruments_app
from teletherapy.extensions import db
from teletherapy.live import rating_url
from teletherapy.models import ApiToken, ChatMessage, Rating, TherapySession, User
from teletherapy.services import chat, instruments
from teletherapy.times import api_time

from .conftest import PASSWORD
from .helpers import pair, session_for
from .rating_helpers import answers_for, ended_session, rating_path


def _user(u: User) -> dict[str, Any]:
    return {"id": u.id, "role": u.role, "display_name": u.display_name}


def _session(s: TherapySession) -> dict[str, Any]:
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


def _message(m: ChatMessage, sender_role: str) -> dict[str, Any]:
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


def _rating(row: Rating) -> dict[str, Any]:
    return {
        "id": row.id,
        "perspective": row.perspective,
        "instrument_id": row.instrument_id,
        "instrument_version": row.instrument_version,
        "answers": row.answers,
        "meta_answers": row.meta_answers,
        "scores": {"total": row.total, "subscales": row.subscales},
        "submitted_at": api_time(row.submitted_at),
    }


def _same(app, response, expected: Any, status: int = 200) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    with app.test_request_context():
        want = app.json.response(expected).get_data()
    assert response.get_data() == want


def _ratings(app, sid: str) -> dict[str, Rating]:  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = db.session.scalars(select(Rating).where(Rating.session_id == sid))
        return {r.perspective: r for r in rows}


def test_every_non_research_response_keeps_its_bytes(app, client, make_user):  # type: ignore[no-untyped-def]
    app.config["RATING_REVEAL_POLICY"] = "reveal_after_both"
    therapist, patient = pair(app, make_user)
    later = session_for(app, therapist, patient)
    sid = ended_session(app, therapist, patient)
    pending_sid = ended_session(app, therapist, patient, "in_person")
    with app.app_context():
        msg, _ = chat.record(db.session, sid, patient.id, "hello ✓", "c-1")

    r = client.post(
        "/api/v1/auth/token", json={"email": therapist.email, "password": PASSWORD}
    )
    token = r.get_json()["token"]
    with app.app_context():
        row = db.session.scalars(select(ApiToken)).one()
        me = db.session.get(User, therapist.id)
        expected = {"token": token, "expires_at": api_time(row.expires_at)}
        _same(app, r, {**expected, "user": _user(me)})
    t = {"Authorization": f"Bearer {token}"}
    ct = {
        "Authorization": "Bearer "
        + client.post(
            "/api/v1/auth/token", json={"email": patient.email, "password": PASSWORD}
        ).get_json()["token"]
    }

    with app.test_request_context():
        me = db.session.get(User, therapist.id)
        _same(
            app,
            client.get("/api/v1/me", headers=t),
            {**_user(me), "email": me.email, "timezone": me.timezone},
        )
        rows = [db.session.get(TherapySession, i) for i in (later.id, sid, pending_sid)]
        listed = client.get("/api/v1/sessions?limit=2", headers=t)
        got = listed.get_json()
        by_id = {s.id: _session(s) for s in rows}
        _same(
            app,
            listed,
            {"items": [by_id[i["id"]] for i in got["items"]], "next": got["next"]},
        )
        _same(app, client.get(f"/api/v1/sessions/{sid}", headers=t), by_id[sid])
        m = db.session.get(ChatMessage, msg.id)
        _same(
            app,
            client.get(f"/api/v1/sessions/{sid}/messages", headers=t),
            {"items": [_message(m, "client")], "next": None},
        )

    answers = answers_for(app, "dta-c", 4) | {"g1": 5, "b3": 2}
    r = client.post(rating_path(sid), json={"answers": answers}, headers=ct)
    _same(app, r, {"rating": _rating(_ratings(app, sid)["client"])}, 201)
    t_answers = answers_for(app, "dta-t", 3)
    r = client.post(
        rating_path(sid),
        json={"answers": t_answers, "meta_answers": {"m-goal": 4}},
        headers=t,
    )
    _same(app, r, {"rating": _rating(_ratings(app, sid)["therapist"])}, 201)

    form = client.get(rating_path(sid), headers=t)
    body = form.get_json()
    with app.test_request_context():
        s = db.session.get(TherapySession, sid)
        own, theirs = _ratings(app, sid)["therapist"], _ratings(app, sid)["client"]
        assert body["revealed_scores"] is not None
        _same(
            app,
            form,
            {
                "status": "submitted",
                "perspective": "therapist",
                "instrument": body["instrument"],
                "meta_instrument": None,
                "closes_at": body["closes_at"],
                "submitted_at": api_time(own.submitted_at),
                "rating": _rating(own),
                "revealed_scores": {
                    "perspective": "client",
                    "total": theirs.total,
                    "subscales": dict(theirs.subscales),
                },
                "visibility": body["visibility"],
                "rating_url": rating_url(s),
            },
        )
        p = db.session.get(TherapySession, pending_sid)
        pending = client.get("/api/v1/ratings/pending", headers=t)
        closes = pending.get_json()["items"][0]["closes_at"]
        _same(
            app,
            pending,
            {
                "items": [
                    {
                        "session_id": p.id,
                        "perspective": "therapist",
                        "modality": p.modality,
                        "ended_at": api_time(p.ended_at),
                        "closes_at": closes,
                        "rating_url": rating_url(p),
                    }
                ],
                "next": None,
            },
        )

    pending_form = client.get(rating_path(pending_sid), headers=t)
    body = pending_form.get_json()
    with app.test_request_context():
        p = db.session.get(TherapySession, pending_sid)
        registry = instruments_app.registry()
        settings = config.settings()
        shown = instruments.for_modality(
            registry.latest("dta-t"), "in_person", settings
        )
        meta = instruments.for_modality(
            registry.latest("dta-meta"), "in_person", settings
        )
        _same(
            app,
            pending_form,
            {
                **body,
                "instrument": shown.form_dict(),
                "meta_instrument": meta.form_dict(),
                "status": "pending",
                "submitted_at": None,
                "rating": None,
                "revealed_scores": None,
                "rating_url": rating_url(p),
            },
        )
