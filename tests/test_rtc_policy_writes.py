"""Quality samples are stored by group commit: durable acks, fewer transactions, no cross-talk."""

import threading
import uuid

import pytest
from sqlalchemy import select

import signaling
from signaling import Denied, Principal
from teletherapy.extensions import db
from teletherapy.models import ChatMessage, QualitySample, User
from teletherapy.services.quality import QualityWriter

from .helpers import pair, session_for
from .quality_writer_helpers import concurrently, hold_first_batch

SAMPLE = {"rtt_ms": 40.0, "jitter_ms": 2.0, "packet_loss_pct": 0.1, "bitrate_kbps": 900}


@pytest.fixture
def world(app, make_user):  # type: ignore[no-untyped-def]
    therapist, client = pair(app, make_user)
    s = session_for(app, therapist, client)
    policy = signaling.current_hub(app).policy
    return (
        policy,
        s,
        Principal(therapist.id, "therapist"),
        Principal(client.id, "client"),
    )


def _stored(app) -> list[tuple[str, float]]:  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = db.session.scalars(select(QualitySample)).all()
        return sorted((r.user_id, r.rtt_ms) for r in rows)


def test_concurrent_samples_share_transactions_and_each_is_stored_once(
    app, world, monkeypatch
):  # type: ignore[no-untyped-def]
    policy, s, _therapist, client = world
    batches = hold_first_batch(monkeypatch, until=19)
    calls = [
        (lambda i=i: policy.record_quality(client, s.id, {**SAMPLE, "rtt_ms": i}))
        for i in range(20)
    ]
    assert concurrently(calls) == [None] * 20  # every ack after its commit
    assert _stored(app) == sorted((client.user_id, float(i)) for i in range(20))
    sizes = [len(b) for b in batches]
    assert len(sizes) < 20 and sum(sizes) == 20


def test_an_inactive_sender_is_refused_inside_the_shared_transaction(
    app, world, monkeypatch
):  # type: ignore[no-untyped-def]
    policy, s, therapist, client = world
    with app.app_context():
        db.session.get(User, therapist.user_id).active = False
        db.session.commit()
    hold_first_batch(monkeypatch, until=3)
    results = concurrently(
        [
            lambda: policy.record_quality(client, s.id, SAMPLE),
            lambda: policy.record_quality(therapist, s.id, SAMPLE),
            lambda: policy.record_quality(client, s.id, SAMPLE),
            lambda: policy.record_quality(therapist, s.id, SAMPLE),
        ]
    )
    refused = Denied("unauthenticated", "sign in again")
    assert results == [None, refused, None, refused]
    assert _stored(app) == [(client.user_id, 40.0)] * 2


def test_a_bad_row_fails_alone(app, world, monkeypatch):  # type: ignore[no-untyped-def]
    policy, s, _therapist, client = world
    hold_first_batch(monkeypatch, until=3)
    unknown_session = str(uuid.uuid4())  # violates the foreign key
    results = concurrently(
        [
            lambda: policy.record_quality(client, s.id, SAMPLE),
            lambda: policy.record_quality(client, unknown_session, SAMPLE),
            lambda: policy.record_quality(client, s.id, SAMPLE),
        ]
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], Exception)
    assert _stored(app) == [(client.user_id, 40.0)] * 2


def test_chat_checks_the_account_and_the_session_in_its_transaction(app, world):  # type: ignore[no-untyped-def]
    policy, s, therapist, client = world
    msg_id = str(uuid.uuid4())
    with app.app_context():
        stored = policy.record_chat(client, s.id, "hello", msg_id)
        assert stored.created and stored.message["sender_role"] == "client"
        unknown = policy.record_chat(client, str(uuid.uuid4()), "hi", msg_id)
        assert unknown == Denied("not_found", "no such session")
        db.session.get(User, therapist.user_id).active = False
        db.session.commit()
        refused = policy.record_chat(therapist, s.id, "hi", str(uuid.uuid4()))
        assert refused == Denied("unauthenticated", "sign in again")
        rows = db.session.scalars(select(ChatMessage)).all()
        assert [(r.sender_id, r.text) for r in rows] == [(client.user_id, "hello")]


def test_a_backlog_gets_more_writers_and_every_sample_is_stored(
    app, world, monkeypatch
):  # type: ignore[no-untyped-def]
    import teletherapy.services.quality as module

    policy, s, _therapist, client = world
    monkeypatch.setattr(module, "QUALITY_BATCH_MAX", 2)
    writers: set[int] = set()
    release = threading.Event()
    insert = QualityWriter._insert

    def held(self, conn, batch):  # type: ignore[no-untyped-def]
        writers.add(threading.get_ident())
        release.wait(10)  # the first batches wait until the backlog built up
        return insert(self, conn, batch)

    monkeypatch.setattr(QualityWriter, "_insert", held)
    threading.Timer(1.0, release.set).start()
    calls = [
        (lambda i=i: policy.record_quality(client, s.id, {**SAMPLE, "rtt_ms": i}))
        for i in range(12)
    ]
    assert concurrently(calls) == [None] * 12
    assert _stored(app) == sorted((client.user_id, float(i)) for i in range(12))
    assert 1 < len(writers) <= module.QUALITY_WRITERS
