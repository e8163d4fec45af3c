"""Shared pieces of the /rtc tests: a fake policy, a minimal app, a peer wrapper."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import flask_login
from flask import Flask, abort
from socketio import packet

import signaling
from signaling import ChatResult, Denied, JoinGrant, Participant, Principal

NS = "/rtc"
ORIGIN = "https://app.example"


REDIS_URL = "redis://127.0.0.1:6379/15"  # the signaling tests' own Redis database


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeSession:
    therapist_id: str
    client_id: str
    status: str = "scheduled"
    modality: str = "video"


class User(flask_login.UserMixin):
    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self.id = principal.user_id


@dataclass
class FakePolicy:
    """Everything in memory; records what signaling asked for."""

    users: dict[str, str] = field(default_factory=dict)  # user_id → platform role
    tokens: dict[str, str] = field(default_factory=dict)  # token → user_id
    inactive: set[str] = field(default_factory=set)
    sessions: dict[str, FakeSession] = field(default_factory=dict)
    messages: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    quality: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    mark_live_calls: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    fail: set[str] = field(default_factory=set)  # method names that raise
    denied_events: set[tuple[str, str]] = field(default_factory=set)  # (role, event)
    revoked: set[str] = field(default_factory=set)  # revoked tokens
    expires: dict[str, float] = field(default_factory=dict)  # token → UNIX time

    # a runtime value that only the exception's message carries
    marker: str = field(default_factory=lambda: uuid.uuid4().hex)

    def _enter(self, name: str, *args: object) -> None:
        self.calls.append(name)
        if name in self.fail:  # like a database error quoting its parameters
            raise RuntimeError(f"{name} failed ({self.marker}) for {args!r}")

    def identify(self, auth: Mapping[str, object] | None) -> Principal | None:
        self._enter("identify")
        user = flask_login.current_user
        if user.is_authenticated:
            return user.principal  # type: ignore[no-any-return]
        token = auth.get("token") if auth else None
        user_id = self.tokens.get(token) if isinstance(token, str) else None
        if user_id is None or user_id in self.inactive or token in self.revoked:
            return None
        credential = f"token:{token}"
        return Principal(
            user_id, self.users[user_id], credential, self.expires.get(token)
        )

    def check_credential(self, principal: Principal) -> Denied | None:
        self._enter("check_credential")
        token = principal.credential.removeprefix("token:")
        if token in self.revoked:
            return Denied("signed_out")
        expires_at = principal.expires_at
        if expires_at is not None and time.time() >= expires_at:
            return Denied("session_expired")
        return None

    def allows(self, principal: Principal, event: str) -> bool:
        return (principal.role, event) not in self.denied_events

    def is_active(self, principal: Principal) -> bool:
        return principal.user_id not in self.inactive

    def can_join(self, principal: Principal, session_id: str) -> JoinGrant | Denied:
        self._enter("can_join")
        session = self.sessions.get(session_id)
        ids = (session.therapist_id, session.client_id) if session else ()
        if session is None or principal.user_id not in ids:
            return Denied("not_found")
        if session.status in ("ended", "cancelled"):
            return Denied("session_closed")
        role = "therapist" if principal.user_id == session.therapist_id else "client"
        participants = (
            Participant(session.therapist_id, "therapist"),
            Participant(session.client_id, "client"),
        )
        return JoinGrant(
            session_id, role, session.modality, participants, session.status
        )

    def mark_live(self, session_id: str) -> None:
        self._enter("mark_live")
        self.mark_live_calls.append(session_id)
        self.sessions[session_id].status = "live"

    def chat_history(
        self, principal: Principal, session_id: str
    ) -> list[dict[str, Any]]:
        self._enter("chat_history")
        found = [m for (s, _, _), m in self.messages.items() if s == session_id]
        return sorted(found, key=lambda m: int(m["seq"]))

    def record_chat(
        self, principal: Principal, session_id: str, text: str, client_msg_id: str
    ) -> ChatResult | Denied:
        self._enter("record_chat", text, client_msg_id)
        # the account is checked with the write, as the app does
        if principal.user_id in self.inactive:
            return Denied("unauthenticated", "sign in again")
        if self.sessions[session_id].status in ("ended", "cancelled"):
            return Denied("session_closed")
        key = (session_id, principal.user_id, client_msg_id)
        if key in self.messages:
            return ChatResult(self.messages[key], created=False)
        role = "therapist" if principal.role == "therapist" else "client"
        message = {
            "id": str(uuid.uuid4()),
            "session_id": session_id,
            "sender_id": principal.user_id,
            "sender_role": role,
            "text": text,
            "sent_at": "2025-01-01T00:00:00Z",
            "client_msg_id": client_msg_id,
            "seq": len(self.messages) + 1,
        }
        self.messages[key] = message
        return ChatResult(message, created=True)

    def record_quality(
        self, principal: Principal, session_id: str, sample: Mapping[str, float | int]
    ) -> Denied | None:
        self._enter("record_quality", sample)
        # the account is checked with the write, as the app does
        if principal.user_id in self.inactive:
            return Denied("unauthenticated", "sign in again")
        self.quality.append((principal.user_id, session_id, dict(sample)))
        return None

    def end_session(
        self, principal: Principal, session_id: str
    ) -> Mapping[str, str] | Denied:
        self._enter("end_session")
        session = self.sessions[session_id]
        if principal.user_id != session.therapist_id:
            return Denied("forbidden")
        session.status = "ended"
        return {
            uid: f"/sessions/{session_id}/rating?for={uid}"
            for uid in (session.therapist_id, session.client_id)
        }

    def ice_servers(self, principal: Principal) -> list[dict[str, Any]]:
        self._enter("ice_servers")
        return [{"urls": ["stun:stun.example:3478"]}]


def make_policy() -> FakePolicy:
    policy = FakePolicy()
    for user_id, role in [
        ("t1", "therapist"),
        ("c1", "client"),
        ("t2", "therapist"),
        ("c2", "client"),
    ]:
        policy.users[user_id] = role
        policy.tokens[f"token-{user_id}"] = user_id
    policy.sessions["s1"] = FakeSession("t1", "c1")
    policy.sessions["s2"] = FakeSession("t2", "c2")
    policy.sessions["s-ended"] = FakeSession("t1", "c1", status="ended")
    return policy


def make_app(policy: FakePolicy, clock: FakeClock, **config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="test-secret",
        TESTING=True,
        ASYNC_MODE="threading",
        ALLOWED_ORIGINS=[ORIGIN],
        REDIS_URL=None,
    )
    presence = config.pop("presence", None)
    app.config.update(config)
    login = flask_login.LoginManager(app)

    @login.user_loader
    def load(user_id: str) -> User | None:
        role = policy.users.get(user_id)
        return User(Principal(user_id, role)) if role else None

    @app.post("/login/<user_id>")
    def log_in(user_id: str) -> str:
        user = load(user_id)
        if user is None:
            abort(404)
        flask_login.login_user(user)
        return "ok"

    @app.post("/logout")
    def log_out() -> str:
        user_id = flask_login.current_user.get_id()
        flask_login.logout_user()
        if user_id:
            signaling.disconnect_user(user_id)
        return "ok"

    signaling.init_app(app, policy, clock=clock, presence=presence)
    return app


class Peer:
    """A Socket.IO test client with helpers for acks and received events."""

    def __init__(self, app: Flask, **kwargs: Any) -> None:
        self.client = signaling.socketio.test_client(app, namespace=NS, **kwargs)

    @property
    def connected(self) -> bool:
        return bool(self.client.is_connected(NS))

    @property
    def sid(self) -> str:
        manager = signaling.socketio.server.manager
        return str(manager.sid_from_eio_sid(self.client.eio_sid, NS))

    def call(self, event: str, *args: Any) -> Any:
        return self.client.emit(event, *args, callback=True, namespace=NS)

    def join(self, session_id: str = "s1") -> dict[str, Any]:
        ack = self.call("join", {"session_id": session_id})
        assert isinstance(ack, dict)
        return ack

    def received(self) -> list[tuple[str, Any]]:
        if not self.connected:
            return []
        packets = self.client.get_received(NS)
        return [(p["name"], p["args"][0] if p["args"] else None) for p in packets]

    def events(self, name: str) -> list[Any]:
        return [args for event, args in self.received() if event == name]

    def disconnect(self) -> None:
        self.client.disconnect(namespace=NS)


def expect_error(ack: Any, code: str) -> dict[str, Any]:
    assert isinstance(ack, dict), ack
    assert ack["ok"] is False, ack
    assert ack["error"]["code"] == code, ack
    assert isinstance(ack["error"]["message"], str) and ack["error"]["message"]
    return dict(ack["error"])


def wait_until(condition: Callable[[], object], seconds: float = 3.0) -> bool:
    """Poll ``condition`` until it holds or ``seconds`` pass; its last answer."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return bool(condition())


class Refusals:
    """Records the data of every CONNECT_ERROR the bound server builds (the test
    client itself keeps only "not connected")."""

    def __init__(self, monkeypatch: Any) -> None:
        seen: list[Any] = []
        self.seen = seen

        class Recording(packet.Packet):  # type: ignore[misc]
            def __init__(self, packet_type: int = packet.EVENT, *args: Any, **kw: Any):
                if packet_type == packet.CONNECT_ERROR:
                    seen.append(args[0] if args else kw.get("data"))
                super().__init__(packet_type, *args, **kw)

        monkeypatch.setattr(signaling.socketio.server, "packet_class", Recording)

    @property
    def codes(self) -> list[str]:
        return [refusal["message"] for refusal in self.seen]
