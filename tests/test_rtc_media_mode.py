"""media_mode against the real app and database: a switch to audio only is a row among
the session's quality samples, stored by the same group commit as the samples."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

import signaling
from signaling import Principal
from teletherapy.extensions import db
from teletherapy.models import QualitySample, User

from .helpers import pair, session_for
from .quality_writer_helpers import concurrently, hold_first_batch

NS = "/rtc"
NUMBERS = {
    "rtt_ms": 180.5,
    "jitter_ms": 12.0,
    "packet_loss_pct": 7.5,
    "bitrate_kbps": 95.0,
}


def _socket(app, token_for, user):  # type: ignore[no-untyped-def]
    token = token_for(user)["Authorization"].split()[1]
    return signaling.socketio.test_client(app, namespace=NS, auth={"token": token})


@pytest.fixture
def call(app, make_user, token_for):  # type: ignore[no-untyped-def]
    """Both people of a video session joined, their sockets' queues emptied."""
    therapist, patient = pair(app, make_user)
    s = session_for(app, therapist, patient, "video")
    t, c = _socket(app, token_for, therapist), _socket(app, token_for, patient)
    for sock in (c, t):
        assert sock.emit("join", {"session_id": s.id}, namespace=NS, callback=True)[
            "ok"
        ]
    t.get_received(NS)
    c.get_received(NS)
    return s, t, c, therapist, patient


def _rows(app, session_id: str) -> list[tuple]:  # type: ignore[no-untyped-def,type-arg]
    with app.app_context():
        stmt = select(QualitySample).where(QualitySample.session_id == session_id)
        rows = [
            (
                r.user_id,
                r.audio_only,
                r.switch_reason,
                r.rtt_ms,
                r.jitter_ms,
                r.packet_loss_pct,
                r.bitrate_kbps,
                r.frames_dropped,
            )
            for r in db.session.scalars(stmt)
        ]
        return sorted(rows, key=str)  # None and booleans do not compare


def test_a_switch_is_stored_beside_the_samples_and_the_other_side_is_told(app, call):  # type: ignore[no-untyped-def]
    s, t, c, _therapist, patient = call
    sample = {"session_id": s.id, **NUMBERS, "frames_dropped": 3}
    assert c.emit("quality", sample, namespace=NS, callback=True) == {"ok": True}
    switch = {"session_id": s.id, "audio_only": True, "reason": "low_bandwidth"}
    ack = c.emit("media_mode", {**switch, **NUMBERS}, namespace=NS, callback=True)
    assert ack == {"ok": True}
    numbers = tuple(NUMBERS.values())
    assert _rows(app, s.id) == sorted(
        [
            (patient.id, None, None, *numbers, 3.0),  # an ordinary sample
            (patient.id, True, "low_bandwidth", *numbers, None),  # the switch
        ],
        key=str,
    )
    told = [e["args"][0] for e in t.get_received(NS) if e["name"] == "media_mode"]
    assert told == [{"from": patient.id, "audio_only": True, "reason": "low_bandwidth"}]
    assert c.get_received(NS) == []


def test_switching_back_is_stored_as_false(app, call):  # type: ignore[no-untyped-def]
    s, t, _c, therapist, _patient = call
    back = {"session_id": s.id, "audio_only": False, "reason": "user", **NUMBERS}
    assert t.emit("media_mode", back, namespace=NS, callback=True)["ok"]
    assert [r[:3] for r in _rows(app, s.id)] == [(therapist.id, False, "user")]


def test_a_deactivated_account_is_refused_and_nothing_is_stored(app, call):  # type: ignore[no-untyped-def]
    s, t, c, therapist, _patient = call
    with app.app_context():
        db.session.get(User, therapist.id).active = False
        db.session.commit()
    switch = {"session_id": s.id, "audio_only": True, "reason": "user", **NUMBERS}
    ack = t.emit("media_mode", switch, namespace=NS, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "unauthenticated"
    assert _rows(app, s.id) == []
    assert not [e for e in c.get_received(NS) if e["name"] == "media_mode"]


def test_an_invalid_switch_names_the_field_and_stores_nothing(app, call):  # type: ignore[no-untyped-def]
    s, _t, c, *_ = call
    switch = {"session_id": s.id, "audio_only": "yes", "reason": "user", **NUMBERS}
    ack = c.emit("media_mode", switch, namespace=NS, callback=True)
    assert ack["error"]["code"] == "invalid"
    assert ack["error"]["message"].startswith("audio_only: ")
    assert _rows(app, s.id) == []


@pytest.mark.parametrize(
    ("audio_only", "reason"), [(True, None), (None, "user"), (True, "bandwidth")]
)
def test_the_database_refuses_a_half_marked_switch(app, call, audio_only, reason):  # type: ignore[no-untyped-def]
    s, _t, _c, _therapist, patient = call
    insert = text(
        "INSERT INTO quality_samples (id, session_id, user_id, at, rtt_ms, jitter_ms,"
        " packet_loss_pct, bitrate_kbps, audio_only, switch_reason) VALUES ('q1', :s,"
        " :u, CURRENT_TIMESTAMP, 1, 1, 1, 1, :audio_only, :reason)"
    )
    values = {"s": s.id, "u": patient.id, "audio_only": audio_only, "reason": reason}
    with app.app_context(), pytest.raises(IntegrityError):
        db.session.execute(insert, values)
        db.session.commit()


def test_switches_and_samples_share_one_group_commit(app, call, monkeypatch):  # type: ignore[no-untyped-def]
    s, _t, _c, therapist, patient = call
    policy = signaling.current_hub(app).policy
    held = hold_first_batch(monkeypatch, until=3)
    client = Principal(patient.id, "client")
    calls = [
        lambda: policy.record_quality(client, s.id, NUMBERS),
        lambda: policy.record_media_mode(
            Principal(therapist.id, "therapist"), s.id, True, "user", NUMBERS
        ),
        lambda: policy.record_quality(client, s.id, NUMBERS),
        lambda: policy.record_media_mode(client, s.id, False, "user", NUMBERS),
    ]
    assert concurrently(calls) == [None] * 4  # each acked after its commit
    assert sorted((r[:3] for r in _rows(app, s.id)), key=str) == sorted(
        [
            (patient.id, None, None),
            (patient.id, None, None),
            (patient.id, False, "user"),
            (therapist.id, True, "user"),
        ],
        key=str,
    )
    # one INSERT held samples (audio_only NULL) and switches together
    batches = [[row.get("audio_only") for row in b] for b in held]
    assert any({None, True} <= set(b) or {None, False} <= set(b) for b in batches)
    assert sum(map(len, batches)) == 4
