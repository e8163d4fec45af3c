"""A socket lives no longer than the credential that opened it (docs/security.md, row 21):
revocation (``disconnect_credential``), expiry (the hub's deadline check) and the
credential re-checked on ``join``. The real policy is tested in
tests/test_rtc_credentials.py."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from rtc_helpers import FakeClock, FakePolicy, Peer, expect_error, make_app, wait_until

import signaling
from signaling.credentials import Deadlines, credential_key
from signaling.presence import Presence


def _errors(peer: Peer) -> list[Any]:
    return [p["args"][0] for p in peer.client.queue if p["name"] == "error"]


def test_disconnect_credential_closes_only_that_credentials_sockets(
    policy: FakePolicy, clock: FakeClock, presence: Presence
) -> None:
    app = make_app(policy, clock, presence=presence)
    policy.tokens["token-c1-phone"] = "c1"
    first, second = (
        Peer(app, auth={"token": "token-c1"}),
        Peer(app, auth={"token": "token-c1"}),
    )
    phone, therapist = (
        Peer(app, auth={"token": "token-c1-phone"}),
        Peer(app, auth={"token": "token-t1"}),
    )
    first.join()
    therapist.join()
    therapist.received()
    assert signaling.disconnect_credential("token:token-c1", app=app) == 2
    assert not first.connected and not second.connected
    assert phone.connected and therapist.connected  # same person, other credential
    assert _errors(first) == [
        {"code": "signed_out", "message": "signed out; sign in again"}
    ]
    assert therapist.events("peer_left") == [{"user_id": "c1", "role": "client"}]
    assert presence.connections(credential_key("token:token-c1")) == set()


def test_disconnect_credential_of_nothing_is_a_no_op(app: Flask, connect: Any) -> None:
    peer = connect("c1")
    assert signaling.disconnect_credential("token:unknown", app=app) == 0
    assert signaling.disconnect_credential("", app=app) == 0
    assert peer.connected


def test_join_rechecks_the_credential(connect: Any, policy: FakePolicy) -> None:
    client, therapist = connect("c1"), connect("t1")
    client.join()
    therapist.join()
    client.call("leave", {"session_id": "s1"})
    policy.revoked.add("token-c1")
    expect_error(client.call("join", {"session_id": "s1"}), "unauthenticated")
    assert "check_credential" in policy.calls
    assert not client.connected
    assert [e["code"] for e in _errors(client)] == ["signed_out"]
    assert therapist.connected


def test_join_refuses_a_lapsed_credential_itself(
    app: Flask, connect: Any, policy: FakePolicy
) -> None:
    policy.expires["token-c1"] = time.time() + 3600
    client = connect("c1")
    signaling.current_hub(app).wall_clock = lambda: time.time() + 7200
    expect_error(client.call("join", {"session_id": "s1"}), "unauthenticated")
    assert "check_credential" not in policy.calls  # the lapse is signaling's
    assert not client.connected
    assert _errors(client) == [
        {
            "code": "session_expired",
            "message": "your sign-in reached its time limit; sign in again",
        }
    ]


def test_end_rechecks_the_credential(connect: Any, policy: FakePolicy) -> None:
    therapist = connect("t1")
    therapist.join()
    policy.revoked.add("token-t1")
    expect_error(therapist.call("end", {"session_id": "s1"}), "unauthenticated")
    assert policy.sessions["s1"].status == "scheduled"
    assert not therapist.connected


def test_a_socket_closes_when_its_credential_expires(
    connect: Any, policy: FakePolicy
) -> None:
    policy.expires["token-c1"] = time.time() + 0.3
    client, therapist = connect("c1"), connect("t1")
    client.join()
    therapist.join()
    therapist.received()
    assert wait_until(lambda: not client.connected, 2.0)
    assert _errors(client) == [
        {
            "code": "session_expired",
            "message": "your sign-in reached its time limit; sign in again",
        }
    ]
    assert therapist.connected  # no expiry of its own
    assert therapist.events("peer_left") == [{"user_id": "c1", "role": "client"}]


def test_an_expiry_far_away_closes_nothing(
    app: Flask, connect: Any, policy: FakePolicy
) -> None:
    policy.expires["token-c1"] = time.time() + 3600
    client = connect("c1")
    assert signaling.current_hub(app).close_expired() == 0
    time.sleep(0.6)  # one check interval
    assert client.connected and client.join()["ok"]


def test_the_heartbeat_refreshes_credential_entries(app: Flask, connect: Any) -> None:
    peer = connect("c1")
    pairs, _places = signaling.current_hub(app).snapshot()
    assert (credential_key("token:token-c1"), peer.sid) in pairs
    assert ("c1", peer.sid) in pairs


def test_deadlines_come_due_in_order_and_clear() -> None:
    now = [100.0]
    deadlines = Deadlines(lambda: now[0])
    deadlines.add("b", 102.0)
    deadlines.add("a", 101.0)
    deadlines.add("c", 105.0)
    assert deadlines.due() == []
    now[0] = 102.0
    assert deadlines.due() == ["a", "b"]
    assert len(deadlines) == 1
    deadlines.clear()
    now[0] = 200.0
    assert deadlines.due() == []
