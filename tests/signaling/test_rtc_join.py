"""join / leave / presence: waiting room, live state, replaced connections."""

from __future__ import annotations

from typing import Any

import pytest
from rtc_helpers import FakePolicy, expect_error

import signaling

T1 = {"user_id": "t1", "role": "therapist"}
C1 = {"user_id": "c1", "role": "client"}


def test_join_ack_has_the_contract_fields(connect: Any, policy: FakePolicy) -> None:
    ack = connect("c1").join()
    assert ack == {
        "ok": True,
        "self": C1,
        "peers": [],
        "ice_servers": [{"urls": ["stun:stun.example:3478"]}],
        "polite": True,
        "state": "waiting",
        "chat": [],
    }


def test_join_unknown_session_is_not_found(connect: Any) -> None:
    expect_error(connect("c1").join("nope"), "not_found")


def test_join_another_users_session_is_not_found(connect: Any) -> None:
    error = expect_error(connect("c2").join("s1"), "not_found")
    assert "t1" not in error["message"] and "c1" not in error["message"]


def test_join_closed_session_is_session_closed(connect: Any) -> None:
    expect_error(connect("c1").join("s-ended"), "session_closed")


def test_refused_join_puts_nobody_in_the_room(connect: Any) -> None:
    therapist, stranger = connect("t1"), connect("c2")
    therapist.join()
    expect_error(stranger.join("s1"), "not_found")
    expect_error(
        stranger.call("signal", {"session_id": "s1", "candidate": None}), "not_joined"
    )
    assert therapist.received() == []


def test_client_waits_until_the_therapist_joins_then_both_are_live(
    connect: Any, policy: FakePolicy
) -> None:
    client, therapist = connect("c1"), connect("t1")
    assert client.join()["state"] == "waiting"
    assert policy.mark_live_calls == []
    ack = therapist.join()
    assert ack["state"] == "live"
    assert ack["peers"] == [C1]
    assert policy.mark_live_calls == ["s1"]
    assert client.events("peer_joined") == [T1]
    assert therapist.received() == []


def test_mark_live_is_called_exactly_once(connect: Any, policy: FakePolicy) -> None:
    client, therapist = connect("c1"), connect("t1")
    client.join()
    therapist.join()
    therapist.call("leave", {"session_id": "s1"})
    therapist.join()
    connect("t1").join()  # replaces
    connect("c1").join()  # replaces
    assert policy.mark_live_calls == ["s1"]


def test_mark_live_failure_does_not_fail_the_join_and_is_retried(
    connect: Any, policy: FakePolicy
) -> None:
    client, therapist = connect("c1"), connect("t1")
    client.join()
    policy.fail.add("mark_live")
    assert therapist.join()["state"] == "live"
    policy.fail.clear()
    therapist.call("leave", {"session_id": "s1"})
    therapist.join()
    assert policy.mark_live_calls == ["s1"]


def test_already_live_session_is_not_marked_again(
    connect: Any, policy: FakePolicy
) -> None:
    policy.sessions["s1"].status = "live"  # e.g. after a server restart
    connect("c1").join()
    assert connect("t1").join()["state"] == "live"
    assert policy.mark_live_calls == []


@pytest.mark.parametrize(("user", "polite"), [("c1", True), ("t1", False)])
def test_client_is_polite_and_therapist_is_not(
    connect: Any, user: str, polite: bool
) -> None:
    assert connect(user).join()["polite"] is polite


def test_join_ack_carries_the_chat_history(connect: Any) -> None:
    client = connect("c1")
    client.join()
    msg_id = "123e4567-e89b-12d3-a456-426614174000"
    sent = client.call(
        "chat", {"session_id": "s1", "text": "hi", "client_msg_id": msg_id}
    )
    assert connect("t1").join()["chat"] == [sent["message"]]


def test_leave_sends_peer_left_to_the_others(connect: Any) -> None:
    client, therapist = connect("c1"), connect("t1")
    client.join()
    therapist.join()
    client.received()
    assert therapist.call("leave", {"session_id": "s1"}) == {"ok": True}
    assert client.events("peer_left") == [T1]
    assert therapist.received() == []


def test_after_leave_events_are_not_joined(connect: Any) -> None:
    client = connect("c1")
    client.join()
    client.call("leave", {"session_id": "s1"})
    expect_error(
        client.call("signal", {"session_id": "s1", "candidate": None}), "not_joined"
    )


def test_disconnect_sends_peer_left(connect: Any) -> None:
    client, therapist = connect("c1"), connect("t1")
    client.join()
    therapist.join()
    client.received()
    therapist.disconnect()
    assert client.events("peer_left") == [T1]


def test_state_returns_to_waiting_when_the_peer_is_gone(connect: Any) -> None:
    client, therapist = connect("c1"), connect("t1")
    client.join()
    therapist.join()
    therapist.disconnect()
    client.call("leave", {"session_id": "s1"})
    ack = client.join()
    assert ack["state"] == "waiting" and ack["peers"] == []


def test_second_connection_replaces_the_first_without_peer_left(connect: Any) -> None:
    client, old, new = connect("c1"), connect("t1"), connect("t1")
    client.join()
    old.join()
    client.received()
    ack = new.join()
    assert ack["peers"] == [C1] and ack["state"] == "live"
    assert old.events("replaced") == [{"session_id": "s1"}]
    assert old.connected  # replaced, not disconnected
    received = client.received()
    assert ("peer_left", T1) not in received
    assert received == [("peer_joined", T1)]  # the peer renegotiates with `new`
    # the old connection is out of the room: it neither sends nor receives
    expect_error(
        old.call("signal", {"session_id": "s1", "candidate": None}), "not_joined"
    )
    client.call("signal", {"session_id": "s1", "candidate": None})
    assert old.received() == []
    assert new.events("signal") == [{"from": "c1", "candidate": None}]


def test_replaced_connection_disconnecting_sends_no_peer_left(connect: Any) -> None:
    client, old, new = connect("c1"), connect("t1"), connect("t1")
    client.join()
    old.join()
    new.join()
    client.received()
    old.disconnect()
    assert client.received() == []
    new.disconnect()
    assert client.events("peer_left") == [T1]


def test_nobody_appears_twice_in_peers(connect: Any) -> None:
    for _ in range(3):
        connect("t1").join()
    ack = connect("c1").join()
    assert ack["peers"] == [T1]


def test_joining_twice_on_one_connection_is_harmless(connect: Any) -> None:
    client, therapist = connect("c1"), connect("t1")
    client.join()
    therapist.join()
    client.received()
    ack = therapist.join()
    assert ack["ok"] is True and ack["peers"] == [C1]
    assert client.received() == []  # no second peer_joined, no replaced
    assert therapist.received() == []


def test_sessions_are_isolated(connect: Any) -> None:
    c1, t1, c2, t2 = connect("c1"), connect("t1"), connect("c2"), connect("t2")
    for peer, session in [(c1, "s1"), (t1, "s1"), (c2, "s2"), (t2, "s2")]:
        peer.join(session)
    for peer in (c1, t1, c2, t2):
        peer.received()
    t1.call("signal", {"session_id": "s1", "candidate": None})
    assert c2.received() == [] and t2.received() == []
    assert c1.events("signal") == [{"from": "t1", "candidate": None}]


def test_inactive_user_joining_is_refused_and_disconnected(
    connect: Any, policy: FakePolicy
) -> None:
    client = connect("c1")
    policy.inactive.add("c1")
    expect_error(client.join(), "unauthenticated")
    assert not client.connected


def test_connection_closed_during_join_leaves_no_ghost(
    app: Any, connect: Any, policy: FakePolicy
) -> None:
    hub = signaling.current_hub(app)
    therapist, client = connect("t1"), connect("c1")
    therapist.join()
    original = policy.ice_servers

    def logout_meanwhile(principal: Any) -> Any:
        hub.pop(next(iter(hub.local_sids("c1"))))  # disconnect handler ran first
        return original(principal)

    policy.ice_servers = logout_meanwhile  # type: ignore[method-assign]
    expect_error(client.join(), "unauthenticated")
    assert hub.presence.holders("s1", ["c1"]) == {}
