"""Malformed signaling cannot crash the server (docs/security.md, row 12)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rtc_helpers import FakeClock, Peer, make_app, make_policy

UUID = "123e4567-e89b-12d3-a456-426614174000"
EVENTS = ["join", "signal", "chat", "quality", "end", "leave"]
CODES = {
    "invalid",
    "too_large",
    "not_joined",
    "rate_limited",
    "not_found",
    "session_closed",
    "forbidden",
    "internal",
    "unauthenticated",
}
FIELDS = [
    "session_id",
    "description",
    "candidate",
    "type",
    "sdp",
    "sdpMid",
    "sdpMLineIndex",
    "usernameFragment",
    "text",
    "client_msg_id",
    "rtt_ms",
    "jitter_ms",
    "packet_loss_pct",
    "bitrate_kbps",
    "frames_dropped",
]

leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(
        ["s1", "s2", "offer", "answer", "123e4567-e89b-12d3-a456-426614174000"]
    )
)
json_values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(FIELDS) | st.text(max_size=10), inner, max_size=5
        )
    ),
    max_leaves=20,
)
shaped = st.fixed_dictionaries(
    {"session_id": st.sampled_from(["s1", "s2", "s-ended", ""]) | json_values},
    optional={name: json_values for name in FIELDS[1:]},
)
VALID: list[dict[str, Any]] = [
    {"session_id": "s1"},
    {"session_id": "s1", "description": {"type": "offer", "sdp": "v=0"}},
    {"session_id": "s1", "candidate": {"candidate": "c", "sdpMid": "0"}},
    {"session_id": "s1", "candidate": None},
    {"session_id": "s1", "text": "hi", "client_msg_id": UUID},
    {
        "session_id": "s1",
        "rtt_ms": 1,
        "jitter_ms": 1,
        "packet_loss_pct": 1,
        "bitrate_kbps": 1,
    },
]


@st.composite
def near_valid(draw: st.DrawFn) -> dict[str, Any]:
    """A valid payload of some event with one field replaced, added or removed."""
    payload = dict(draw(st.sampled_from(VALID)))
    key = draw(st.sampled_from([*payload, *FIELDS]))
    if draw(st.booleans()):
        payload[key] = draw(json_values)
    else:
        payload.pop(key, None)
    return payload


payloads = st.one_of(json_values, shaped, near_valid(), st.sampled_from(VALID))
arguments = st.one_of(
    payloads.map(lambda p: [p]),
    st.lists(payloads, max_size=3),
)


def _assert_ack(ack: Any) -> None:
    assert isinstance(ack, dict), ack
    assert isinstance(ack.get("ok"), bool), ack
    if not ack["ok"]:
        assert ack["error"]["code"] in CODES, ack
        # the fake policy never fails, so `internal` would mean a crash we hid
        assert ack["error"]["code"] != "internal", ack
        assert isinstance(ack["error"]["message"], str), ack


@settings(
    max_examples=200,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(EVENTS), arguments, st.booleans()),
        min_size=1,
        max_size=6,
    )
)
def test_every_event_acks_any_payload(steps: list[tuple[str, list[Any], bool]]) -> None:
    clock = FakeClock()
    app = make_app(make_policy(), clock)
    client = Peer(app, auth={"token": "token-c1"})
    therapist = Peer(app, auth={"token": "token-t1"})
    client.join()
    for event, args, by_therapist in steps:
        clock.advance(10)
        sender = therapist if by_therapist else client
        if sender.connected:
            _assert_ack(sender.call(event, *args))
    # the server still serves a well-formed exchange afterwards
    clock.advance(10)
    fresh = Peer(app, auth={"token": "token-c2"})
    assert fresh.join("s2")["ok"] is True
    assert fresh.call("signal", {"session_id": "s2", "candidate": None}) == {"ok": True}
