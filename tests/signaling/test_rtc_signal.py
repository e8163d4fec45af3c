"""signal relay, size limit, payload validation, not_joined for every event."""

from __future__ import annotations

from typing import Any

import pytest
from rtc_helpers import FakePolicy, Peer, expect_error

from signaling.messages import SDP_MAX_BYTES

UUID = "123e4567-e89b-12d3-a456-426614174000"
OFFER = {"type": "offer", "sdp": ""}
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "abcd",
}


@pytest.fixture
def pair(connect: Any) -> tuple[Peer, Peer]:
    client, therapist = connect("c1"), connect("t1")
    client.join()
    therapist.join()
    client.received()
    therapist.received()
    return client, therapist


def test_description_is_relayed_to_the_other_peer_only(pair: tuple[Peer, Peer]) -> None:
    client, therapist = pair
    offer = {"type": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"}
    assert therapist.call("signal", {"session_id": "s1", "description": offer}) == {
        "ok": True
    }
    assert client.received() == [("signal", {"from": "t1", "description": offer})]
    assert therapist.received() == []


@pytest.mark.parametrize("candidate", [CANDIDATE, None, {"candidate": ""}])
def test_candidate_is_relayed_unread(
    pair: tuple[Peer, Peer], candidate: dict[str, Any] | None
) -> None:
    client, therapist = pair
    ack = client.call("signal", {"session_id": "s1", "candidate": candidate})
    assert ack == {"ok": True}
    relayed = therapist.events("signal")
    assert len(relayed) == 1 and relayed[0]["from"] == "c1"
    expected = None if candidate is None else {**dict.fromkeys(CANDIDATE), **candidate}
    assert relayed[0]["candidate"] == expected
    assert client.received() == []


def test_signal_to_a_session_without_peer_reaches_nobody(connect: Any) -> None:
    client = connect("c1")
    client.join()
    assert client.call("signal", {"session_id": "s1", "candidate": None})["ok"]
    assert client.received() == []


def test_sdp_of_exactly_16_kib_is_relayed(pair: tuple[Peer, Peer]) -> None:
    client, therapist = pair
    sdp = "a" * SDP_MAX_BYTES
    desc = {"type": "answer", "sdp": sdp}
    assert client.call("signal", {"session_id": "s1", "description": desc})["ok"]
    assert therapist.events("signal")[0]["description"]["sdp"] == sdp


@pytest.mark.parametrize(
    "sdp", ["a" * (SDP_MAX_BYTES + 1), "é" * (SDP_MAX_BYTES // 2 + 1)]
)
def test_sdp_over_16_kib_is_too_large_and_not_relayed(
    pair: tuple[Peer, Peer], sdp: str
) -> None:
    client, therapist = pair
    desc = {"type": "offer", "sdp": sdp}
    error = expect_error(
        client.call("signal", {"session_id": "s1", "description": desc}), "too_large"
    )
    assert sdp[:20] not in error["message"]
    assert therapist.received() == []


SIGNAL_INVALID = [
    ("not an object", "payload"),
    ([1, 2], "payload"),
    (None, "payload"),
    ({"description": {"type": "offer", "sdp": ""}}, "session_id"),
    ({"session_id": 7, "candidate": None}, "session_id"),
    ({"session_id": "", "candidate": None}, "session_id"),
    ({"session_id": "s1"}, "exactly one"),
    ({"session_id": "s1", "description": None}, "description"),
    ({"session_id": "s1", "candidate": None, "description": OFFER}, "exactly one"),
    ({"session_id": "s1", "description": {"type": "bogus", "sdp": ""}}, "type"),
    ({"session_id": "s1", "description": {"type": "offer"}}, "description.sdp"),
    ({"session_id": "s1", "description": {"type": "offer", "sdp": 5}}, "sdp"),
    ({"session_id": "s1", "description": {"type": "offer", "sdp": "", "x": 1}}, "x"),
    ({"session_id": "s1", "description": "v=0"}, "description"),
    ({"session_id": "s1", "candidate": "candidate:1"}, "candidate"),
    ({"session_id": "s1", "candidate": {"candidate": 1}}, "candidate.candidate"),
    (
        {"session_id": "s1", "candidate": {"candidate": "", "sdpMLineIndex": "0"}},
        "sdpMLineIndex",
    ),
    (
        {"session_id": "s1", "candidate": {"candidate": "", "sdpMLineIndex": True}},
        "sdpMLineIndex",
    ),
    (
        {"session_id": "s1", "candidate": {"candidate": "", "sdpMLineIndex": -1}},
        "sdpMLineIndex",
    ),
    ({"session_id": "s1", "candidate": None, "extra": 1}, "extra"),
]


@pytest.mark.parametrize(("payload", "names"), SIGNAL_INVALID)
def test_invalid_signal_payloads_are_refused(
    pair: tuple[Peer, Peer], payload: Any, names: str
) -> None:
    client, therapist = pair
    error = expect_error(client.call("signal", payload), "invalid")
    assert names in error["message"]
    assert (
        "(got" in error["message"]
        or "unexpected" in error["message"]
        or ("exactly one" in error["message"])
    )
    assert therapist.received() == []


def test_wrong_number_of_arguments_is_invalid(pair: tuple[Peer, Peer]) -> None:
    client, _ = pair
    expect_error(client.call("signal"), "invalid")
    payload = {"session_id": "s1", "candidate": None}
    expect_error(client.call("signal", payload, payload), "invalid")


def test_invalid_message_never_quotes_the_sdp(pair: tuple[Peer, Peer]) -> None:
    client, _ = pair
    secret = "v=0 SECRET-SDP-CONTENT"
    payload = {"session_id": "s1", "description": {"type": "nope", "sdp": secret}}
    error = expect_error(client.call("signal", payload), "invalid")
    assert "SECRET" not in error["message"]


NOT_JOINED = [
    ("signal", {"session_id": "s1", "candidate": None}),
    ("chat", {"session_id": "s1", "text": "hi", "client_msg_id": UUID}),
    (
        "quality",
        {
            "session_id": "s1",
            "rtt_ms": 1,
            "jitter_ms": 1,
            "packet_loss_pct": 0,
            "bitrate_kbps": 1,
        },
    ),
    ("end", {"session_id": "s1"}),
    ("leave", {"session_id": "s1"}),
]


@pytest.mark.parametrize(("event", "payload"), NOT_JOINED)
def test_events_for_a_session_not_joined_are_refused(
    connect: Any, policy: FakePolicy, event: str, payload: dict[str, Any]
) -> None:
    therapist, client = connect("t1"), connect("c1")
    therapist.join()
    therapist.received()
    policy.calls.clear()
    expect_error(client.call(event, payload), "not_joined")
    assert therapist.received() == []
    assert policy.calls == []  # nothing stored, nothing asked


@pytest.mark.parametrize(("event", "payload"), NOT_JOINED)
def test_events_for_another_session_than_the_joined_one_are_refused(
    connect: Any, event: str, payload: dict[str, Any]
) -> None:
    client = connect("c2")
    client.join("s2")
    expect_error(client.call(event, payload), "not_joined")
