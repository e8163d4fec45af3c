"""/rtc against the real app and database: the policy, stored chat and quality, end, logout."""

import uuid

import pytest
from sqlalchemy import select

import signaling
from teletherapy.extensions import db
from teletherapy.models import ChatMessage, QualitySample, TherapySession

from .helpers import pair, session_for

NS = "/rtc"


def rtc(app, flask_client=None, token=None):  # type: ignore[no-untyped-def]
    return signaling.socketio.test_client(
        app,
        namespace=NS,
        flask_test_client=flask_client,
        auth={"token": token} if token else None,
    )


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].split()[1]


@pytest.fixture
def call(app, make_user, token_for):  # type: ignore[no-untyped-def]
    therapist, patient = pair(app, make_user)
    s = session_for(app, therapist, patient, "video")
    t = rtc(app, token=_token(token_for(therapist)))
    c = rtc(app, token=_token(token_for(patient)))
    return s, t, c, therapist, patient


def test_cookie_login_authenticates_the_socket(app, client, auth, make_user):
    therapist, patient = pair(app, make_user)
    auth.login(patient)
    sock = rtc(app, flask_client=client)
    assert sock.is_connected(NS)
    s = session_for(app, therapist, patient)
    ack = sock.emit("join", {"session_id": s.id}, namespace=NS, callback=True)
    assert ack["ok"] and ack["state"] == "waiting" and ack["polite"] is True


@pytest.mark.parametrize("role", ["researcher", "admin"])
def test_roles_outside_sessions_cannot_open_a_socket(app, make_user, token_for, role):
    sock = rtc(app, token=_token(token_for(make_user(role))))
    assert not sock.is_connected(NS)


def test_join_goes_live_once_and_records_started_at(app, call):
    s, t, c, *_ = call
    assert (
        c.emit("join", {"session_id": s.id}, namespace=NS, callback=True)["state"]
        == "waiting"
    )
    ack = t.emit("join", {"session_id": s.id}, namespace=NS, callback=True)
    assert ack["state"] == "live" and ack["polite"] is False
    with app.app_context():
        row = db.session.get(TherapySession, s.id)
        assert row.status == "live" and row.started_at is not None


def test_outsider_cannot_join_and_learns_nothing(app, call, make_user, token_for):
    s, *_ = call
    other_therapist, _ = pair(app, make_user)
    sock = rtc(app, token=_token(token_for(other_therapist)))
    theirs = sock.emit("join", {"session_id": s.id}, namespace=NS, callback=True)
    unknown = sock.emit(
        "join", {"session_id": str(uuid.uuid4())}, namespace=NS, callback=True
    )
    assert theirs == unknown and theirs["error"]["code"] == "not_found"


def test_chat_is_stored_once_and_relayed(app, call):
    s, t, c, _therapist, _patient = call
    for sock in (c, t):
        sock.emit("join", {"session_id": s.id}, namespace=NS, callback=True)
    t.get_received(NS)
    payload = {
        "session_id": s.id,
        "text": "<i>hi</i>",
        "client_msg_id": str(uuid.uuid4()),
    }
    first = c.emit("chat", payload, namespace=NS, callback=True)
    again = c.emit("chat", payload, namespace=NS, callback=True)
    assert first["ok"] and first["message"] == again["message"]
    assert (
        first["message"]["text"] == "<i>hi</i>"
        and first["message"]["sender_role"] == "client"
    )
    relayed = [e for e in t.get_received(NS) if e["name"] == "chat"]
    assert len(relayed) == 1
    with app.app_context():
        rows = db.session.scalars(
            select(ChatMessage).where(ChatMessage.session_id == s.id)
        ).all()
        assert [(r.text, r.seq) for r in rows] == [("<i>hi</i>", 1)]


def test_quality_samples_are_stored(app, call):
    s, _t, c, *_ = call
    c.emit("join", {"session_id": s.id}, namespace=NS, callback=True)
    sample = {
        "session_id": s.id,
        "rtt_ms": 42.5,
        "jitter_ms": 3,
        "packet_loss_pct": 0.5,
        "bitrate_kbps": 900,
    }
    assert c.emit("quality", sample, namespace=NS, callback=True)["ok"]
    bad = c.emit(
        "quality", {**sample, "packet_loss_pct": 101}, namespace=NS, callback=True
    )
    assert bad["error"]["code"] == "invalid"
    with app.app_context():
        rows = db.session.scalars(select(QualitySample)).all()
        assert [(r.rtt_ms, r.packet_loss_pct) for r in rows] == [(42.5, 0.5)]


def test_therapist_ends_and_both_get_their_rating_page(app, call):
    s, t, c, *_ = call
    for sock in (c, t):
        sock.emit("join", {"session_id": s.id}, namespace=NS, callback=True)
    assert (
        c.emit("end", {"session_id": s.id}, namespace=NS, callback=True)["error"][
            "code"
        ]
        == "forbidden"
    )
    c.get_received(NS)
    assert t.emit("end", {"session_id": s.id}, namespace=NS, callback=True)["ok"]
    ended = [e for e in c.get_received(NS) if e["name"] == "session_ended"]
    assert ended and "/rating" in ended[0]["args"][0]["rating_url"]
    with app.app_context():
        row = db.session.get(TherapySession, s.id)
        assert row.status == "ended" and row.ended_at >= row.started_at
    again = c.emit("join", {"session_id": s.id}, namespace=NS, callback=True)
    assert again["error"]["code"] == "session_closed"


def test_api_end_reaches_open_sockets(app, client, call, token_for):
    s, t, c, therapist, _ = call
    for sock in (c, t):
        sock.emit("join", {"session_id": s.id}, namespace=NS, callback=True)
    c.get_received(NS)
    r = client.post(f"/api/v1/sessions/{s.id}/end", headers=token_for(therapist))
    assert r.status_code == 200
    assert any(e["name"] == "session_ended" for e in c.get_received(NS))


def test_logout_closes_the_users_sockets(app, client, auth, make_user):
    _therapist, patient = pair(app, make_user)
    auth.login(patient)
    sock = rtc(app, flask_client=client)
    assert sock.is_connected(NS)
    auth.logout()
    assert not sock.is_connected(NS)
    assert not rtc(app, flask_client=client).is_connected(NS)  # the old cookie is void


def test_deactivation_closes_the_users_sockets(app, client, auth, make_user, token_for):
    _therapist, patient = pair(app, make_user)
    sock = rtc(app, token=_token(token_for(patient)))
    assert sock.is_connected(NS)
    auth.login(make_user("admin"))
    client.post(f"/admin/users/{patient.id}/active/0")
    assert not sock.is_connected(NS)
