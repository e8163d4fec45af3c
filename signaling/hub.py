"""The Socket.IO server object and the per-app signaling state.

``socketio`` is created unbound; ``signaling.init_app`` binds it. A :class:`Hub`
per app holds the injected policy, the presence store and this process's own
``sid → connection`` map (who the socket is, which sessions it joined, its rate
limits). Handlers never scan Socket.IO's rooms: that walk is unlocked and
O(rooms) (docs/signaling.md, "Presence").

The join state in that map is what authorizes ``signal``, ``chat``, ``quality``,
``leave`` and ``end``, so they need no presence round trip. When another process
takes or clears a place held here (a newer connection of the same user, or a
session ended there), the shared presence store publishes it and
:meth:`Hub.lose_place` drops the join; the heartbeat reconciles anything a
missed message left behind.

Each connection also carries the credential that opened it
(``signaling.credentials``): the hub closes it when that credential's
``expires_at`` passes, checked by a background task over a heap of deadlines.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from flask import Flask, current_app
from flask_socketio import SocketIO

from signaling.admission import Admission
from signaling.credentials import (
    EXPIRY_CHECK_SECONDS,
    SESSION_EXPIRED,
    Deadlines,
    credential_key,
)
from signaling.gctune import GcTuning
from signaling.policy import JoinGrant, Policy, Principal
from signaling.presence import Place, PlaceWatch, Presence
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
        gc_tuning: GcTuning | None = None,
        admission: Admission | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.policy = policy
        self.admission = admission or Admission()
        self.wall_clock = wall_clock
        self.deadlines = Deadlines(wall_clock)
        self.gc_tuning = gc_tuning or GcTuning(enabled=False)
        self.presence = presence
        self.clock = clock
        self.allowed_origins = frozenset(normalize_origin(o) for o in allowed_origins)
        self._lock = threading.Lock()
        self._connections: dict[str, Connection] = {}
        self._background = False
        self._expiry_running = False
        self._stopped = threading.Event()

    def origin_allowed(self, origin: str | None) -> bool:
        """No Origin (native client) passes; ``null`` and foreign ones do not."""
        if origin is None:
            return True
        normalized = normalize_origin(origin)
        return normalized != "null" and normalized in self.allowed_origins

    def allow_origins(self, origins: Iterable[str]) -> None:
        """Replace the allow-list (``teletherapy serve`` learns its own address)."""
        self.allowed_origins = frozenset(normalize_origin(o) for o in origins)

    def engineio_origin_allowed(self, origin: str | None, environ: object) -> bool:
        """The same rule for engine.io's handshake check (a callable, because an
        empty list would switch engine.io's check off)."""
        return self.origin_allowed(origin)

    def local_sids(self, user_id: str) -> set[str]:
        """Sids of ``user_id`` connected to this process."""
        return self._local_sids(lambda p: p.user_id == user_id)

    def local_credential_sids(self, credential: str) -> set[str]:
        """Sids opened with ``credential`` in this process."""
        return self._local_sids(lambda p: p.credential == credential)

    def _local_sids(self, predicate: Callable[[Principal], bool]) -> set[str]:
        with self._lock:
            conns = list(self._connections.values())
        return {c.sid for c in conns if predicate(c.principal)}

    def add(self, connection: Connection) -> None:
        """Register a new connection; watch its credential's deadline."""
        expires_at = connection.principal.expires_at
        with self._lock:
            self._connections[connection.sid] = connection
            if expires_at is not None:
                self.deadlines.add(connection.sid, expires_at)
            start = expires_at is not None and not self._expiry_running
            self._expiry_running = self._expiry_running or start
        if start:
            socketio.start_background_task(self._expiry_loop)

    def pop(self, sid: str) -> Connection | None:
        """Remove and return a closing connection."""
        with self._lock:
            connection = self._connections.pop(sid, None)
            if not self._connections:  # the deadlines left are closed ones'
                self.deadlines.clear()
        return connection

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

    def drop_joined(
        self, sid: str, session_id: str, only: JoinGrant | None = None
    ) -> JoinGrant | None:
        """Forget that ``sid`` is in ``session_id`` (only under the grant ``only``,
        if given: a join made meanwhile stays); return the grant it had."""
        with self._lock:
            connection = self._connections.get(sid)
            if connection is None:
                return None
            if only is not None and connection.joined.get(session_id) is not only:
                return None
            return connection.joined.pop(session_id, None)

    def snapshot(
        self,
    ) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
        """This process's ``(user, sid)`` and ``(session, user, sid)`` entries."""
        with self._lock:
            conns = list(self._connections.values())
        pairs = [(c.principal.user_id, c.sid) for c in conns]
        pairs += [
            (credential_key(c.principal.credential), c.sid)
            for c in conns
            if c.principal.credential
        ]
        places = [
            (session_id, c.principal.user_id, c.sid)
            for c in conns
            for session_id in list(c.joined)
        ]
        return pairs, places

    def lose_place(self, session_id: str, user_id: str, sid: str) -> bool:
        """Another process took or cleared the place ``sid`` held: drop the join
        here. Presence is asked once, since a late message must not undo a newer
        join of the same connection. ``True`` if a join was dropped."""
        grant = self.joined(sid, session_id)
        if grant is None:
            return False
        if self.presence.holders(session_id, [user_id]).get(user_id) == sid:
            return False
        # only the join seen before asking: a rejoin during that round trip stays
        if self.drop_joined(sid, session_id, only=grant) is None:
            return False
        server().leave_room(sid, session_room(session_id), namespace=NAMESPACE)
        return True

    def refresh_presence(self) -> None:
        """Extend this process's presence entries (heartbeat); drop the joins
        whose places are gone (a missed notification, an expired entry)."""
        pairs, places = self.snapshot()
        for place in self.presence.refresh(pairs, places):
            self.lose_place(*place)

    def start_background(self) -> None:
        """Once, at the first connection: tune the garbage collector (see
        ``signaling.gctune``), and start the heartbeat and the lost-place
        listener if the presence store is shared."""
        with self._lock:
            if self._background:
                return
            self._background = True
        self.gc_tuning.apply()
        interval = self.presence.heartbeat_seconds
        if interval is not None:
            socketio.start_background_task(self._heartbeat_loop, interval)
        watch = self.presence.watch()  # subscribed before the first join
        if watch is not None:
            socketio.start_background_task(self._listen_loop, watch)

    def close_expired(self) -> int:
        """Close this process's connections whose credential has lapsed; each
        first gets ``error`` ``session_expired``. Returns how many."""
        closing = [sid for sid in self.deadlines.due() if self.get(sid) is not None]
        for sid in closing:
            close_sockets({sid}, sid, SESSION_EXPIRED)
        return len(closing)

    def _expiry_loop(self) -> None:
        """Runs while any deadline is pending (started again by :meth:`add`)."""
        while not self._stopped.is_set():
            socketio.sleep(EXPIRY_CHECK_SECONDS)
            try:
                self.close_expired()
            except Exception as exc:  # the loop must outlive one failed close
                logger.error("expiry check failed: %s", type(exc).__name__)
            with self._lock:
                if not len(self.deadlines):
                    self._expiry_running = False
                    return

    def stop(self) -> None:
        """End the background loops (tests, shutdown)."""
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

    def _listen_loop(self, watch: PlaceWatch) -> None:
        try:
            while not self._stopped.is_set():
                self._lose_all(watch)
        finally:
            watch.close()

    def _lose_all(self, watch: PlaceWatch) -> None:
        try:
            lost: list[Place] = watch.poll(timeout=1.0)
            for place in lost:
                self.lose_place(*place)
        except Exception as exc:  # the listener must outlive a Redis hiccup
            if self._stopped.is_set():
                return  # shutting down: the connection may be gone already
            logger.error("lost-place listener failed: %s", type(exc).__name__)
            socketio.sleep(1.0)


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


def close_sockets(sids: set[str], room: str, body: Mapping[str, str]) -> int:
    """Tell ``room`` why, then disconnect ``sids`` (remote ones via the queue)."""
    server().emit("error", dict(body), to=room, namespace=NAMESPACE)
    for sid in sorted(sids):
        server().disconnect(sid, namespace=NAMESPACE)
    return len(sids)
