"""A socket lives no longer than the credential that opened it.

The policy names that credential in :attr:`Principal.credential` (an API token, a
cookie login) and says when it lapses (:attr:`Principal.expires_at`). Every
connection enters the room ``credential:{credential}`` and is recorded in presence
under the same key (presence keeps any owner's sids, not only users'), so
:func:`signaling.disconnect_credential` finds its sockets in every process, as
:func:`signaling.disconnect_user` does with the user's.

Expiry needs no database and no per-event check: each hub keeps its own
connections' deadlines in a heap (:class:`Deadlines`) and a background task
closes the due ones every :data:`EXPIRY_CHECK_SECONDS`.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable

EXPIRY_CHECK_SECONDS = 0.5
SIGNED_OUT = {"code": "signed_out", "message": "signed out; sign in again"}
SESSION_EXPIRED = {
    "code": "session_expired",
    "message": "your sign-in reached its time limit; sign in again",
}
BODIES = {body["code"]: body for body in (SIGNED_OUT, SESSION_EXPIRED)}


def credential_key(credential: str) -> str:
    """The room and presence key of one credential's connections (user ids are
    UUIDs, so the prefix keeps the two kinds of presence key apart)."""
    return f"credential:{credential}"


def error_body(code: str, message: str = "") -> dict[str, str]:
    """The ``error`` event sent before a credential's sockets close."""
    known = BODIES.get(code, SIGNED_OUT)
    return {"code": code, "message": message or known["message"]}


class Deadlines:
    """When each connection's credential lapses, earliest first.

    A closed connection's entry stays until its deadline (then it is skipped)
    or until the hub has no connection left (:meth:`clear`).
    """

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.now = now
        self._lock = threading.Lock()
        self._heap: list[tuple[float, str]] = []

    def add(self, sid: str, expires_at: float) -> None:
        """Remember that ``sid`` must close at ``expires_at`` (UNIX seconds)."""
        with self._lock:
            heapq.heappush(self._heap, (expires_at, sid))

    def due(self) -> list[str]:
        """Take the sids whose deadline has come."""
        now = self.now()
        found: list[str] = []
        with self._lock:
            while self._heap and self._heap[0][0] <= now:
                found.append(heapq.heappop(self._heap)[1])
        return found

    def clear(self) -> None:
        """Forget every deadline (the hub has no connection left)."""
        with self._lock:
            self._heap.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._heap)
