"""chat (idempotent), quality samples, end (therapist only)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from rtc_helpers import FakePolicy, Peer, expect_error

import signaling

UUID = "123e4567-e89b-12d3-a456-426614174000"
SAMPLE = {"rtt_ms": 42.5, "jitter_ms": 3, "packet_loss_pct": 0.5, "bitrate_kbps": 900}


@pytest.fixture
def pair(connect: Any) -> tuple[Peer, Peer]:
    client, therapist = connect("c1"), connect("t1")
    client.join()
    therapist.join()
    client.received()
    therapist.received()
    return client, therapist


def _chat(text: str = "hello", msg_id: str = UUID) -> dict[str, Any]:
    return {"session_id": "s1", "text": text, "client_msg_id": msg_id}


# --- chat ---


def test_chat_is_acked_with_the_stored_message_and_sent_to_the_other(
    pair: tuple[Peer, Peer],
) -> None:
    client, therapist = pair
    text = "<b>verbatim</b> & 'quotes' \u2014 ✓"
    ack = client.call("chat", _chat(text))
    assert ack["ok"] is True
    message = ack["message"]
    assert set(message) == {
        "id",
        "session_id",
        "sender_id",
        "sender_role",
        "text",
        "sent_at",
        "client_msg_id",
        "seq",
    }
    assert message["text"] == text and message["sender_id"] == "c1"
    assert therapist.received() == [("chat", message)]
    assert client.received() == []


def test_same_client_msg_id_returns_the_same_message_and_sends_nothing(
    pair: tuple[Peer, Peer], policy: FakePolicy
) -> None:
    client, therapist = pair
    first = client.call("chat", _chat("once"))
    therapist.received()
    again = client.call("chat", _chat("once"))
    assert again == first
    assert therapist.received() == []
    assert len(policy.messages) == 1


def test_client_msg_id_is_lowercased(pair: tuple[Peer, Peer]) -> None:
    client, _ = pair
    ack = client.call("chat", _chat(msg_id=UUID.upper()))
    assert ack["message"]["client_msg_id"] == UUID


CHAT_INVALID = [
    ({"session_id": "s1", "text": "", "client_msg_id": UUID}, "text"),
    ({"session_id": "s1", "text": "x" * 4001, "client_msg_id": UUID}, "text"),
    ({"session_id": "s1", "text": 5, "client_msg_id": UUID}, "text"),
    ({"session_id": "s1", "text": None, "client_msg_id": UUID}, "text"),
    ({"session_id": "s1", "client_msg_id": UUID}, "text"),
    ({"session_id": "s1", "text": "hi"}, "client_msg_id"),
    (
        {"session_id": "s1", "text": "hi", "client_msg_id": "not-a-uuid"},
        "client_msg_id",
    ),
    ({"session_id": "s1", "text": "hi", "client_msg_id": UUID[:-1]}, "client_msg_id"),
    (
        {"session_id": "s1", "text": "hi", "client_msg_id": "{" + UUID + "}"},
        "client_msg_id",
    ),
    (
        {"session_id": "s1", "text": "hi", "client_msg_id": UUID.replace("-", "")},
        "client_msg_id",
    ),
    ({"session_id": "s1", "text": "hi", "client_msg_id": 12}, "client_msg_id"),
    ({"session_id": "s1", "text": "hi", "client_msg_id": UUID, "seq": 1}, "seq"),
]


@pytest.mark.parametrize(("payload", "field"), CHAT_INVALID)
def test_invalid_chat_is_refused_and_never_stored(
    pair: tuple[Peer, Peer], policy: FakePolicy, payload: dict[str, Any], field: str
) -> None:
    client, therapist = pair
    error = expect_error(client.call("chat", payload), "invalid")
    assert field in error["message"]
    assert policy.messages == {}
    assert therapist.received() == []


def test_chat_text_of_4000_characters_is_accepted(pair: tuple[Peer, Peer]) -> None:
    client, _ = pair
    assert client.call("chat", _chat("x" * 4000))["ok"] is True


def test_invalid_chat_message_does_not_quote_the_text(pair: tuple[Peer, Peer]) -> None:
    client, _ = pair
    payload = {"session_id": "s1", "text": "PRIVATE " * 600, "client_msg_id": UUID}
    error = expect_error(client.call("chat", payload), "invalid")
    assert "PRIVATE" not in error["message"]


def test_chat_refused_by_the_policy_returns_its_code(
    pair: tuple[Peer, Peer], policy: FakePolicy
) -> None:
    client, therapist = pair
    policy.sessions["s1"].status = "ended"  # ended elsewhere (REST)
    expect_error(client.call("chat", _chat()), "session_closed")
    assert therapist.received() == []


# --- quality ---


def test_quality_sample_is_stored(pair: tuple[Peer, Peer], policy: FakePolicy) -> None:
    client, _ = pair
    ack = client.call("quality", {"session_id": "s1", **SAMPLE, "frames_dropped": 2})
    assert ack == {"ok": True}
    assert policy.quality == [("c1", "s1", {**SAMPLE, "frames_dropped": 2})]


def test_quality_without_frames_dropped_is_accepted(
    pair: tuple[Peer, Peer], policy: FakePolicy
) -> None:
    client, therapist = pair
    assert client.call("quality", {"session_id": "s1", **SAMPLE})["ok"] is True
    assert "frames_dropped" not in policy.quality[0][2]
    assert therapist.received() == []  # samples are not broadcast


@pytest.mark.parametrize("field", [*SAMPLE, "frames_dropped"])
@pytest.mark.parametrize(
    "value", [math.nan, math.inf, -math.inf, -1, -0.001, True, False, "1", None, [1]]
)
def test_quality_values_must_be_finite_non_negative_numbers(
    pair: tuple[Peer, Peer], policy: FakePolicy, field: str, value: Any
) -> None:
    client, _ = pair
    payload = {"session_id": "s1", **SAMPLE, field: value}
    error = expect_error(client.call("quality", payload), "invalid")
    assert field in error["message"]
    assert policy.quality == []


@pytest.mark.parametrize(("loss", "ok"), [(100, True), (100.0001, False), (0, True)])
def test_packet_loss_is_a_percentage(
    pair: tuple[Peer, Peer], loss: float, ok: bool
) -> None:
    client, _ = pair
    ack = client.call(
        "quality", {"session_id": "s1", **SAMPLE, "packet_loss_pct": loss}
    )
    assert ack["ok"] is ok


@pytest.mark.parametrize("missing", list(SAMPLE))
def test_quality_requires_every_measure(pair: tuple[Peer, Peer], missing: str) -> None:
    client, _ = pair
    payload = {"session_id": "s1", **{k: v for k, v in SAMPLE.items() if k != missing}}
    error = expect_error(client.call("quality", payload), "invalid")
    assert missing in error["message"]


def test_quality_rejects_unknown_fields(pair: tuple[Peer, Peer]) -> None:
    client, _ = pair
    payload = {"session_id": "s1", **SAMPLE, "mos": 4}
    assert "mos" in expect_error(client.call("quality", payload), "invalid")["message"]


# --- end ---


def test_client_cannot_end_the_session(
    pair: tuple[Peer, Peer], policy: FakePolicy
) -> None:
    client, therapist = pair
    expect_error(client.call("end", {"session_id": "s1"}), "forbidden")
    assert "end_session" not in policy.calls
    assert therapist.received() == [] and client.received() == []


def test_therapist_ends_and_each_participant_gets_their_rating_url(
    pair: tuple[Peer, Peer], policy: FakePolicy
) -> None:
    client, therapist = pair
    assert therapist.call("end", {"session_id": "s1"}) == {
        "ok": True,
        "session_id": "s1",
    }
    assert client.received() == [
        (
            "session_ended",
            {"session_id": "s1", "rating_url": "/sessions/s1/rating?for=c1"},
        )
    ]
    assert therapist.received() == [
        (
            "session_ended",
            {"session_id": "s1", "rating_url": "/sessions/s1/rating?for=t1"},
        )
    ]
    assert policy.sessions["s1"].status == "ended"


def test_after_end_the_room_is_closed(pair: tuple[Peer, Peer]) -> None:
    client, therapist = pair
    therapist.call("end", {"session_id": "s1"})
    client.received()
    expect_error(
        client.call("signal", {"session_id": "s1", "candidate": None}), "not_joined"
    )
    expect_error(client.join(), "session_closed")
    therapist.disconnect()
    assert client.received() == []  # no peer_left after the end


def test_end_refused_by_the_policy_returns_its_code(
    pair: tuple[Peer, Peer], policy: FakePolicy
) -> None:
    client, therapist = pair
    policy.sessions["s1"].therapist_id = "someone-else"  # e.g. reassigned
    expect_error(therapist.call("end", {"session_id": "s1"}), "forbidden")
    assert client.received() == []


def test_end_with_extra_fields_is_invalid(pair: tuple[Peer, Peer]) -> None:
    _, therapist = pair
    payload = {"session_id": "s1", "force": True}
    expect_error(therapist.call("end", payload), "invalid")


def test_session_ended_elsewhere_closes_the_room(
    app: Any, pair: tuple[Peer, Peer]
) -> None:
    client, therapist = pair
    urls = {"t1": "/r/t1", "c1": "/r/c1"}
    signaling.close_session("s1", urls, app=app)
    assert client.received() == [
        ("session_ended", {"session_id": "s1", "rating_url": "/r/c1"})
    ]
    assert therapist.received() == [
        ("session_ended", {"session_id": "s1", "rating_url": "/r/t1"})
    ]
    expect_error(client.call("chat", _chat()), "not_joined")
    therapist.disconnect()
    assert client.received() == []


def test_other_sessions_of_the_same_user_are_not_ended(app: Any, connect: Any) -> None:
    in_s1, in_s2 = connect("t1"), connect("t1")
    in_s1.join("s1")
    signaling.current_hub(app).policy.sessions["s2"].therapist_id = "t1"  # type: ignore[attr-defined]
    in_s2.join("s2")
    signaling.close_session("s1", {"t1": "/r", "c1": "/r"}, app=app)
    assert in_s2.received() == []
    assert in_s2.call("signal", {"session_id": "s2", "candidate": None})["ok"]
