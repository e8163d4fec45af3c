"""Who is connected, and which connection holds each user's place in a session.

Presence is per (session, user), never per connection: a user who joins again
from a new connection *claims* the place and the old connection is replaced, so
reconnects leave no ghosts. It also records every connection of a user (and,
under the key ``credential:{name}``, of a credential), which is how
:func:`signaling.disconnect_user` and :func:`signaling.disconnect_credential`
find sockets to close.

:class:`MemoryPresence` serves one process. With several processes (a Redis
message queue), use :class:`signaling.presence_redis.RedisPresence`: the same
operations on shared keys with a TTL that a heartbeat refreshes, so entries of a
process killed with ``kill -9`` expire on their own; it also publishes every
place taken from or given up by a connection, so the process holding that
connection can drop its join without asking presence on each event.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Protocol

Place = tuple[str, str, str]
"""``(session_id, user_id, sid)``: one connection's place in a session."""


class PlaceWatch(Protocol):
    """A subscription to places lost anywhere (taken over or given up)."""

    def poll(self, timeout: float) -> list[Place]:
        """The places lost since the last call; waits up to ``timeout`` seconds."""
        ...

    def close(self) -> None:
        """Unsubscribe."""
        ...


class Presence(Protocol):
    """Shared presence state. Every method is atomic on its own."""

    def add_connection(self, user_id: str, sid: str) -> None:
        """Record a new connection of ``user_id``."""
        ...

    def remove_connection(self, user_id: str, sid: str) -> None:
        """Forget a closed connection."""
        ...

    def connections(self, user_id: str) -> set[str]:
        """Every live connection of ``user_id``, in any process."""
        ...

    def claim(self, session_id: str, user_id: str, sid: str) -> str | None:
        """Make ``sid`` the user's place in the session; return the replaced sid."""
        ...

    def release(self, session_id: str, user_id: str, sid: str) -> bool:
        """Give up the place if ``sid`` still holds it; ``True`` if it did."""
        ...

    def holders(self, session_id: str, user_ids: Sequence[str]) -> dict[str, str]:
        """The holding connection of each present user among ``user_ids``."""
        ...

    def first_live(self, session_id: str) -> bool:
        """``True`` exactly once per session: the first time it goes live."""
        ...

    def forget_live(self, session_id: str) -> None:
        """Undo :meth:`first_live` (it failed, or the session ended)."""
        ...

    def refresh(
        self,
        connections: Iterable[tuple[str, str]],
        places: Iterable[Place],
    ) -> list[Place]:
        """Heartbeat for this process's ``(user, sid)`` and ``(session, user, sid)``;
        returns the places among them that are no longer held by their sid."""
        ...

    def watch(self) -> PlaceWatch | None:
        """Subscribe to lost places (other processes'); ``None`` in one process,
        where every place change happens in this process's own handlers."""
        ...

    @property
    def heartbeat_seconds(self) -> float | None:
        """How often :meth:`refresh` must run; ``None`` when entries never expire."""
        ...


class MemoryPresence:
    """Presence for a single process; all state dies with it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: dict[str, set[str]] = {}
        self._places: dict[tuple[str, str], str] = {}
        self._live: set[str] = set()

    @property
    def heartbeat_seconds(self) -> float | None:
        """In-memory entries never expire."""
        return None

    def add_connection(self, user_id: str, sid: str) -> None:
        """Record a new connection of ``user_id``."""
        with self._lock:
            self._connections.setdefault(user_id, set()).add(sid)

    def remove_connection(self, user_id: str, sid: str) -> None:
        """Forget a closed connection."""
        with self._lock:
            sids = self._connections.get(user_id, set())
            sids.discard(sid)
            if not sids:
                self._connections.pop(user_id, None)

    def connections(self, user_id: str) -> set[str]:
        """Every connection of ``user_id``."""
        with self._lock:
            return set(self._connections.get(user_id, ()))

    def claim(self, session_id: str, user_id: str, sid: str) -> str | None:
        """Make ``sid`` the user's place; return the replaced sid, if any."""
        with self._lock:
            previous = self._places.get((session_id, user_id))
            self._places[(session_id, user_id)] = sid
        return None if previous == sid else previous

    def release(self, session_id: str, user_id: str, sid: str) -> bool:
        """Give up the place if ``sid`` still holds it."""
        with self._lock:
            if self._places.get((session_id, user_id)) != sid:
                return False
            del self._places[(session_id, user_id)]
            return True

    def holders(self, session_id: str, user_ids: Sequence[str]) -> dict[str, str]:
        """The holding connection of each present user."""
        with self._lock:
            found = {uid: self._places.get((session_id, uid)) for uid in user_ids}
        return {uid: sid for uid, sid in found.items() if sid is not None}

    def first_live(self, session_id: str) -> bool:
        """``True`` the first time only."""
        with self._lock:
            if session_id in self._live:
                return False
            self._live.add(session_id)
            return True

    def forget_live(self, session_id: str) -> None:
        """Undo :meth:`first_live`."""
        with self._lock:
            self._live.discard(session_id)

    def refresh(
        self,
        connections: Iterable[tuple[str, str]],
        places: Iterable[Place],
    ) -> list[Place]:
        """Nothing expires in memory; report places no longer held by their sid."""
        with self._lock:
            return [p for p in places if self._places.get(p[:2]) != p[2]]

    def watch(self) -> PlaceWatch | None:
        """One process: nobody else takes places."""
        return None
