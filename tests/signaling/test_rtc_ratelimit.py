"""Token buckets per connection (docs/security.md, row 14), with an injected clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from rtc_helpers import FakeClock, FakePolicy, Peer, expect_error

from signaling.ratelimit import LIMITS, ConnectionLimiter, Limit, TokenBucket

SAMPLE = {"rtt_ms": 1, "jitter_ms": 1, "packet_loss_pct": 0, "bitrate_kbps": 1}


def _signal() -> dict[str, Any]:
    return {"session_id": "s1", "candidate": None}


def _chat() -> dict[str, Any]:
    return {"session_id": "s1", "text": "hi", "client_msg_id": str(uuid.uuid4())}


def _quality() -> dict[str, Any]:
    return {"session_id": "s1", **SAMPLE}


CASES: list[tuple[str, Callable[[], dict[str, Any]], float, int]] = [
    ("signal", _signal, 50, 100),
    ("chat", _chat, 5, 20),
    ("quality", _quality, 1, 5),
]


def test_contract_limits() -> None:
    assert LIMITS["signal"] == Limit(50, 100)
    assert LIMITS["chat"] == Limit(5, 20)
    assert LIMITS["quality"] == Limit(1, 5)


def test_bucket_allows_a_burst_then_refills_at_its_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(Limit(rate=2, burst=3), clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.advance(0.49)
    assert bucket.take() is False
    clock.advance(0.01)
    assert bucket.take() is True
    clock.advance(100)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_bucket_survives_a_clock_going_backwards() -> None:
    clock = FakeClock()
    bucket = TokenBucket(Limit(rate=1, burst=1), clock)
    assert bucket.take()
    clock.advance(-50)
    assert bucket.take() is False


def test_unlimited_events_are_always_allowed() -> None:
    limiter = ConnectionLimiter(FakeClock(), {"signal": Limit(1, 1)})
    assert all(limiter.allow("other") for _ in range(1000))


@pytest.mark.parametrize(("event", "make", "rate", "burst"), CASES)
def test_event_is_limited_per_connection(
    connect: Any,
    clock: FakeClock,
    policy: FakePolicy,
    event: str,
    make: Callable[[], dict[str, Any]],
    rate: float,
    burst: int,
) -> None:
    client, therapist = connect("c1"), connect("t1")
    client.join()
    therapist.join()
    acks = [client.call(event, make()) for _ in range(burst)]
    assert all(ack["ok"] for ack in acks)
    therapist.received()
    expect_error(client.call(event, make()), "rate_limited")
    assert therapist.received() == []  # throttled events go nowhere
    clock.advance(1 / rate)
    assert client.call(event, make())["ok"] is True
    expect_error(client.call(event, make()), "rate_limited")
    # another connection has its own bucket
    assert therapist.call(event, make())["ok"] is True


@pytest.mark.parametrize(("event", "make", "rate", "burst"), CASES)
def test_sustained_rate_is_allowed(
    connect: Any,
    clock: FakeClock,
    event: str,
    make: Callable[[], dict[str, Any]],
    rate: float,
    burst: int,
) -> None:
    client = connect("c1")
    client.join()
    for _ in range(3 * burst):
        clock.advance(1 / rate)
        assert client.call(event, make())["ok"] is True


def test_invalid_events_also_spend_tokens(connect: Any) -> None:
    client: Peer = connect("c1")
    client.join()
    for _ in range(LIMITS["signal"].burst):
        expect_error(client.call("signal", "junk"), "invalid")
    expect_error(client.call("signal", _signal()), "rate_limited")


def test_join_is_limited_to_protect_the_database(
    connect: Any, policy: FakePolicy
) -> None:
    client = connect("c1")
    for _ in range(LIMITS["join"].burst):
        client.join()
    expect_error(client.call("join", {"session_id": "s1"}), "rate_limited")
