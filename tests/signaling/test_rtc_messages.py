"""Validation messages say what was expected and what came, never the value."""

from __future__ import annotations

from typing import Any

import pytest

from signaling.messages import (
    ChatMessage,
    QualityMessage,
    SessionRef,
    SignalingError,
    SignalMessage,
    json_type,
    parse,
    session_of,
    single_payload,
)


def _error(model: Any, payload: Any) -> SignalingError:
    with pytest.raises(SignalingError) as caught:
        parse(model, payload)
    return caught.value


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "null"),
        (True, "boolean"),
        (1, "integer"),
        (1.5, "number"),
        ("x", "string"),
        ([], "array"),
        ({}, "object"),
        (object(), "unknown"),
    ],
)
def test_json_type_names(value: Any, name: str) -> None:
    assert json_type(value) == name


def test_message_names_field_expectation_and_type() -> None:
    err = _error(ChatMessage, {"session_id": "s", "text": 5, "client_msg_id": "x"})
    assert err.code == "invalid"
    assert "text: Input should be a valid string (got integer)" in err.message
    assert "client_msg_id" in err.message


def test_missing_and_unexpected_fields_are_named() -> None:
    err = _error(SessionRef, {"sessionId": "s"})
    assert "session_id: field required (got nothing)" in err.message
    assert "sessionId: unexpected field" in err.message


def test_hostile_field_names_are_not_echoed() -> None:
    err = _error(SessionRef, {"session_id": "s", "<script>alert(1)</script>": 1})
    assert "<script>" not in err.message and "<field>" in err.message


def test_many_errors_are_summarised() -> None:
    payload = {"session_id": 1, **{f"f{i}": i for i in range(10)}}
    err = _error(QualityMessage, payload)
    assert err.message.count(";") == 3 and "more" in err.message


def test_too_large_wins_over_other_errors() -> None:
    payload = {"session_id": "s", "description": {"type": "x", "sdp": "a" * 20_000}}
    assert _error(SignalMessage, payload).code == "too_large"


def test_sdp_size_counts_utf8_bytes() -> None:
    payload = {"session_id": "s", "description": {"type": "offer", "sdp": "é" * 8192}}
    assert parse(SignalMessage, payload).description is not None
    payload["description"]["sdp"] += "é"  # type: ignore[index]
    assert _error(SignalMessage, payload).code == "too_large"


def test_lone_surrogates_do_not_crash_the_size_check() -> None:
    payload = {"session_id": "s", "description": {"type": "offer", "sdp": "\ud800"}}
    assert parse(SignalMessage, payload).description is not None


def test_quality_sample_excludes_the_session() -> None:
    message = parse(
        QualityMessage,
        {
            "session_id": "s",
            "rtt_ms": 1,
            "jitter_ms": 2,
            "packet_loss_pct": 3,
            "bitrate_kbps": 4,
        },
    )
    assert message.sample() == {
        "rtt_ms": 1,
        "jitter_ms": 2,
        "packet_loss_pct": 3,
        "bitrate_kbps": 4,
    }


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "s1",
        [],
        {"session_id": None},
        {"session_id": ""},
        {"session_id": "x" * 129},
    ],
)
def test_session_of_refuses_anything_but_a_short_string(payload: Any) -> None:
    with pytest.raises(SignalingError) as caught:
        session_of(payload)
    assert caught.value.code == "invalid"


def test_single_payload_requires_exactly_one_argument() -> None:
    assert single_payload(({"a": 1},)) == {"a": 1}
    for args in [(), (1, 2)]:
        with pytest.raises(SignalingError):
            single_payload(args)
