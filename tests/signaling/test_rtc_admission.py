"""Connects per client address and open sockets per account (docs/security.md, row 14)."""

from __future__ import annotations

import pytest
from rtc_helpers import FakeClock, FakePolicy, Peer, Refusals, make_app

from signaling.admission import Admission
from signaling.presence import MemoryPresence


def test_connects_past_the_rate_are_refused_per_address(
    policy: FakePolicy, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(policy, clock, RTC_CONNECT_RATE_LIMIT="2 per minute")
    refusals = Refusals(monkeypatch)
    assert not Peer(app, auth={"token": "forged"}).connected  # counts as well
    assert Peer(app, auth={"token": "token-c1"}).connected
    assert not Peer(app, auth={"token": "token-t1"}).connected
    assert refusals.codes == ["unauthenticated", "rate_limited"]
    assert refusals.seen[-1]["data"]["code"] == "rate_limited"
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.9"
    assert Peer(app, auth={"token": "token-t1"}, flask_test_client=elsewhere).connected
    assert "identify" in policy.calls


def test_refused_address_never_reaches_the_policy(
    policy: FakePolicy, clock: FakeClock
) -> None:
    app = make_app(policy, clock, RTC_CONNECT_RATE_LIMIT="1 per minute")
    assert Peer(app, auth={"token": "token-c1"}).connected
    policy.calls.clear()
    assert not Peer(app, auth={"token": "token-c1"}).connected
    assert "identify" not in policy.calls


def test_open_sockets_are_limited_per_account(
    policy: FakePolicy, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(policy, clock, RTC_MAX_SOCKETS_PER_USER=2)
    refusals = Refusals(monkeypatch)
    first, _second = (
        Peer(app, auth={"token": "token-c1"}),
        Peer(app, auth={"token": "token-c1"}),
    )
    assert not Peer(app, auth={"token": "token-c1"}).connected
    assert refusals.seen == [
        {
            "message": "too_many_connections",
            "data": {
                "code": "too_many_connections",
                "message": refusals.seen[0]["data"]["message"],
            },
        }
    ]
    assert Peer(app, auth={"token": "token-t1"}).connected
    first.disconnect()
    assert Peer(app, auth={"token": "token-c1"}).connected


def test_no_limits_configured_means_none() -> None:
    admission = Admission.from_config({})
    assert all(admission.attempt("192.0.2.1") for _ in range(1000))
    assert admission.room_for_one_more(10_000)


def test_limits_come_from_the_config() -> None:
    admission = Admission.from_config(
        {"RTC_CONNECT_RATE_LIMIT": "3 per minute", "RTC_MAX_SOCKETS_PER_USER": 4}
    )
    assert [admission.attempt("192.0.2.1") for _ in range(4)] == [True] * 3 + [False]
    assert admission.attempt("192.0.2.2")
    assert admission.room_for_one_more(3) and not admission.room_for_one_more(4)


def test_no_socket_limit_asks_presence_nothing_at_connect(
    policy: FakePolicy, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    presence = MemoryPresence()
    asked: list[str] = []
    counted = presence.connections

    def connections(owner: str) -> set[str]:
        asked.append(owner)
        return counted(owner)

    monkeypatch.setattr(presence, "connections", connections)
    app = make_app(policy, clock, presence=presence, RTC_MAX_SOCKETS_PER_USER=0)
    assert Peer(app, auth={"token": "token-c1"}).connected
    assert asked == []  # no limit: no round trip to count the account's sockets
