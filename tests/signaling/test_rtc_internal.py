"""Failures inside the policy: an `internal` ack, a type-only log, no leak."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from rtc_helpers import FakePolicy, Peer, expect_error

UUID = "123e4567-e89b-12d3-a456-426614174000"
SAMPLE = {"rtt_ms": 1, "jitter_ms": 1, "packet_loss_pct": 0, "bitrate_kbps": 1}
SECRET_TEXT = "my private worries"
SECRET_SDP = "v=0\r\no=- SECRET-SDP 2 IN IP4 192.0.2.7\r\n"


@pytest.fixture
def pair(connect: Any) -> tuple[Peer, Peer]:
    client, therapist = connect("c1"), connect("t1")
    client.join()
    therapist.join()
    client.received()
    therapist.received()
    return client, therapist


FAILING = [
    (
        "record_chat",
        "chat",
        {"session_id": "s1", "text": SECRET_TEXT, "client_msg_id": UUID},
    ),
    ("record_quality", "quality", {"session_id": "s1", **SAMPLE}),
    ("end_session", "end", {"session_id": "s1"}),
]


@pytest.mark.parametrize(("method", "event", "payload"), FAILING)
def test_policy_failure_is_an_internal_error_without_details(
    pair: tuple[Peer, Peer],
    policy: FakePolicy,
    caplog: pytest.LogCaptureFixture,
    method: str,
    event: str,
    payload: dict[str, Any],
) -> None:
    client, therapist = pair
    policy.fail.add(method)
    caplog.set_level(logging.DEBUG)
    sender = therapist if event == "end" else client
    error = expect_error(sender.call(event, payload), "internal")
    assert policy.marker not in error["message"]
    assert "RuntimeError" not in error["message"]
    logged = caplog.text
    assert "RuntimeError" in logged
    assert policy.marker not in logged and SECRET_TEXT not in logged
    assert client.received() == [] and therapist.received() == []


@pytest.mark.parametrize("method", ["can_join", "chat_history", "ice_servers"])
def test_failed_join_leaves_no_trace(
    connect: Any, policy: FakePolicy, method: str
) -> None:
    therapist, client = connect("t1"), connect("c1")
    therapist.join()
    policy.fail.add(method)
    expect_error(client.join(), "internal")
    assert therapist.received() == []  # no peer_joined
    expect_error(
        client.call("signal", {"session_id": "s1", "candidate": None}), "not_joined"
    )


def test_server_keeps_serving_after_a_failure(
    pair: tuple[Peer, Peer], policy: FakePolicy
) -> None:
    client, therapist = pair
    policy.fail.add("record_quality")
    expect_error(client.call("quality", {"session_id": "s1", **SAMPLE}), "internal")
    assert client.call("signal", {"session_id": "s1", "candidate": None})["ok"]
    assert therapist.events("signal") == [{"from": "c1", "candidate": None}]


def test_nothing_private_is_ever_logged(
    pair: tuple[Peer, Peer], caplog: pytest.LogCaptureFixture
) -> None:
    client, therapist = pair
    caplog.set_level(logging.DEBUG)
    description = {"type": "offer", "sdp": SECRET_SDP}
    client.call("signal", {"session_id": "s1", "description": description})
    client.call(
        "signal", {"session_id": "s1", "description": {"type": "x", "sdp": SECRET_SDP}}
    )
    client.call(
        "chat", {"session_id": "s1", "text": SECRET_TEXT, "client_msg_id": UUID}
    )
    client.call("chat", {"session_id": "s1", "text": SECRET_TEXT, "client_msg_id": "x"})
    therapist.call("end", {"session_id": "s1"})
    for record in caplog.records:
        text = record.getMessage()
        assert "SECRET-SDP" not in text and SECRET_TEXT not in text
