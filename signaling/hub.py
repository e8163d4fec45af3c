"""The Socket.IO server object and the per-app signaling state.

``socketio`` is created unbound; ``signaling.init_app`` binds it. A :class:`Hub`
per app holds the injected policy, the presence store and this process's own
``sid → connection`` map (who the socket is, which sessions it joined, its rate
limits). Handlers never scan Socket.IO's rooms: that walk is unlocked and
O(rooms) (WEBRTC-NOTES #3).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from flask import Flask, current_app
from flask_socketio import SocketIO

from signaling.policy import JoinGrant, Policy, Principal
from signaling.presence import Presence
from signaling.ratelimit import Clock, ConnectionLimiter

NAMESPACE = "/rtc"
EXTENSION_KEY = "signaling"
logger = logging.getLogger("signaling")

socketio = SocketIO()


def session_room(session_id: str) -> str:
    """The room of one session's current connections."""
    return f"session:{session_id}"


def user_room(user_id: str) -> str:
    """The room of every connection of one user."""
    return f"user:{user_id}"


@dataclass
class Connection:
    """One Socket.IO connection to ``/rtc`` in this process."""

    sid: str
    principal: Principal
    limiter: ConnectionLimiter
    joined: dict[str, JoinGrant] = field(default_factory=dict)


class Hub:
    """Signaling state of one Flask app in one process."""

    def __init__(
        self,
        policy: Policy,
        presence: Presence,
        clock: Clock,
        allowed_origins: Iterable[str],
    ) -> None:
        self.policy = policy
        self.presence = presence
        self.clock = clock
        self.allowed_origins = frozenset(normalize_origin(o) for o in allowed_origins)
        self._lock = threading.Lock()
        self._connections: dict[str, Connection] = {}
        self._heartbeat = False
        self._stopped = threading.Event()

    def origin_allowed(self, origin: str | None) -> bool:
        """No Origin (native client) passes; ``null`` and foreign ones do not."""
        if origin is None:
            return True
        normalized = normalize_origin(origin)
        return normalized != "null" and normalized in self.allowed_origins

    def engineio_origin_allowed(self, origin: str | None, environ: object) -> bool:
        """The same rule for engine.io's handshake check (a callable, because an
        empty list would switch engine.io's check off)."""
        return self.origin_allowed(origin)

    def local_sids(self, user_id: str) -> set[str]:
        """Sids of ``user_id`` connected to this process."""
        with self._lock:
            conns = list(self._connections.values())
        return {c.sid for c in conns if c.principal.user_id == user_id}

    def add(self, connection: Connection) -> None:
        """Register a new connection."""
        with self._lock:
            self._connections[connection.sid] = connection

    def pop(self, sid: str) -> Connection | None:
        """Remove and return a closing connection."""
        with self._lock:
            return self._connections.pop(sid, None)

    def get(self, sid: str) -> Connection | None:
        """The connection with this sid, if it lives in this process."""
        with self._lock:
            return self._connections.get(sid)

    def joined(self, sid: str, session_id: str) -> JoinGrant | None:
        """The grant under which ``sid`` joined ``session_id``, if it did."""
        with self._lock:
            connection = self._connections.get(sid)
            return None if connection is None else connection.joined.get(session_id)

    def set_joined(self, sid: str, grant: JoinGrant) -> bool:
        """Remember that ``sid`` is in ``grant.session_id``; ``False`` if the
        connection closed meanwhile."""
        with self._lock:
            connection = self._connections.get(sid)
            if connection is None:
                return False
            connection.joined[grant.session_id] = grant
            return True

    def drop_joined(self, sid: str, session_id: str) -> JoinGrant | None:
        """Forget that ``sid`` is in ``session_id``; return the grant it had."""
        with self._lock:
            connection = self._connections.get(sid)
            if connection is None:
                return None
            return connection.joined.pop(session_id, None)

    def snapshot(
        self,
    ) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
        """This process's ``(user, sid)`` and ``(session, user, sid)`` entries."""
        with self._lock:
            conns = list(self._connections.values())
        pairs = [(c.principal.user_id, c.sid) for c in conns]
        places = [
            (session_id, c.principal.user_id, c.sid)
            for c in conns
            for session_id in list(c.joined)
        ]
        return pairs, places

    def refresh_presence(self) -> None:
        """Extend this process's presence entries (heartbeat)."""
        pairs, places = self.snapshot()
        self.presence.refresh(pairs, places)

    def start_heartbeat(self) -> None:
        """Start the refresh loop once, if the presence store expires entries."""
        interval = self.presence.heartbeat_seconds
        with self._lock:
            if interval is None or self._heartbeat:
                return
            self._heartbeat = True
        socketio.start_background_task(self._heartbeat_loop, interval)

    def stop(self) -> None:
        """End the heartbeat loop (tests, shutdown)."""
        self._stopped.set()

    def _heartbeat_loop(self, interval: float) -> None:
        while not self._stopped.is_set():
            socketio.sleep(interval)
            if self._stopped.is_set():
                return
            try:
                self.refresh_presence()
            except Exception as exc:  # the loop must outlive a Redis hiccup
                logger.error("presence refresh failed: %s", type(exc).__name__)


def normalize_origin(origin: str) -> str:
    """Compare origins case-insensitively and without a trailing slash."""
    return origin.strip().rstrip("/").lower()


def current_hub(app: Flask | None = None) -> Hub:
    """The hub of ``app`` (default: the current app)."""
    target = app if app is not None else current_app
    return cast(Hub, target.extensions[EXTENSION_KEY])


def server() -> Any:
    """The bound python-socketio server (untyped library object)."""
    return socketio.server
