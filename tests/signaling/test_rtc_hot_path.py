"""The frequent events stay cheap: no presence round trip, no request context.

`signal`, `chat`, `quality` (and `leave`) are authorized from the join state this
process keeps; replacements by other processes arrive as events
(test_rtc_presence.py). These tests pin that down so a later change cannot put a
Redis or database round trip back on every relayed message unnoticed.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import has_app_context, has_request_context
from rtc_helpers import FakeClock, FakePolicy, Peer, make_app, make_policy

import signaling
from signaling.presence import Presence

SAMPLE = {"rtt_ms": 1, "jitter_ms": 1, "packet_loss_pct": 0, "bitrate_kbps": 1}


class CountingPresence:
    """Wraps a presence store and counts every call by method name."""

    def __init__(self, inner: Presence) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if not callable(value):
            return value

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return value(*args, **kwargs)

        return counted


@dataclass
class ContextPolicy(FakePolicy):
    """Records, per policy method, whether a Flask app/request context was active."""

    contexts: list[tuple[str, bool, bool]] = field(default_factory=list)

    def _enter(self, name: str, *args: object) -> None:
        self.contexts.append((name, has_app_context(), has_request_context()))
        super()._enter(name, *args)


def _pair(app: Any) -> tuple[Peer, Peer]:
    client = Peer(app, auth={"token": "token-c1"})
    therapist = Peer(app, auth={"token": "token-t1"})
    client.join()
    therapist.join()
    client.received()
    return client, therapist


def test_frequent_events_never_ask_presence(presence: Presence) -> None:
    counting = CountingPresence(presence)
    app = make_app(make_policy(), FakeClock(), presence=counting)
    try:
        client, therapist = _pair(app)
        counting.calls.clear()
        for _ in range(20):
            ack = therapist.call("signal", {"session_id": "s1", "candidate": None})
            assert ack == {"ok": True}
        chat = {"session_id": "s1", "text": "hi", "client_msg_id": str(uuid.uuid4())}
        assert client.call("chat", chat)["ok"]
        assert client.call("quality", {"session_id": "s1", **SAMPLE})["ok"]
        assert len(client.events("signal")) == 20
        assert counting.calls == Counter()
    finally:
        signaling.current_hub(app).stop()


def test_database_events_get_an_app_context_and_join_a_request_context() -> None:
    policy = ContextPolicy(**vars(make_policy()))
    app = make_app(policy, FakeClock())
    client, _therapist = _pair(app)
    chat = {"session_id": "s1", "text": "hi", "client_msg_id": str(uuid.uuid4())}
    assert client.call("chat", chat)["ok"]
    assert client.call("quality", {"session_id": "s1", **SAMPLE})["ok"]
    seen = {name: (app_ctx, req_ctx) for name, app_ctx, req_ctx in policy.contexts}
    # connect and join: the handshake's request (login cookie, audit address)
    for name in ("identify", "can_join", "chat_history", "ice_servers"):
        assert seen[name] == (True, True), name
    # the frequent database events: an app context (db session), no request
    for name in ("record_chat", "record_quality"):
        assert seen[name] == (True, False), name


def test_signal_runs_without_any_flask_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app(make_policy(), FakeClock())
    client, therapist = _pair(app)
    seen: list[tuple[bool, bool]] = []
    hub = signaling.current_hub(app)
    allows = hub.policy.allows

    def spy(principal: Any, event: str) -> bool:
        seen.append((has_app_context(), has_request_context()))
        return allows(principal, event)

    monkeypatch.setattr(hub.policy, "allows", spy)
    assert therapist.call("signal", {"session_id": "s1", "candidate": None})["ok"]
    assert seen == [(False, False)]
    assert client.events("signal") == [
        {"from": "t1", "candidate": None},
    ]
