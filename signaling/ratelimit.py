"""Per-connection token buckets.

Flask extensions (Flask-Limiter) never see ``/socket.io/`` traffic, so events are
limited inside the handlers. Each connection gets one bucket per event; the clock
is injectable so tests can move time by hand.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Clock = Callable[[], float]
_EPSILON = 1e-9  # 1/50 s of refill must buy one token despite float rounding


@dataclass(frozen=True)
class Limit:
    """``rate`` tokens a second, at most ``burst`` saved up."""

    rate: float
    burst: int


# signal/chat/quality are the contract's numbers; join/end/leave protect the
# database from a client that loops on them; media_mode (a person's switch to
# audio only and back, a few a call) gets quality's numbers: it is a row beside
# the samples.
LIMITS: Mapping[str, Limit] = {
    "signal": Limit(rate=50, burst=100),
    "chat": Limit(rate=5, burst=20),
    "quality": Limit(rate=1, burst=5),
    "media_mode": Limit(rate=1, burst=5),
    "join": Limit(rate=2, burst=10),
    "leave": Limit(rate=2, burst=10),
    "end": Limit(rate=2, burst=10),
}


class TokenBucket:
    """A classic token bucket; starts full."""

    def __init__(self, limit: Limit, clock: Clock) -> None:
        self._limit = limit
        self._clock = clock
        self._tokens = float(limit.burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Spend one token if there is one."""
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._stamp)
            self._stamp = now
            refill = self._tokens + elapsed * self._limit.rate
            self._tokens = min(float(self._limit.burst), refill)
            if self._tokens < 1.0 - _EPSILON:
                return False
            self._tokens -= 1.0
            return True


class ConnectionLimiter:
    """The buckets of one connection, one per limited event."""

    def __init__(self, clock: Clock, limits: Mapping[str, Limit] = LIMITS) -> None:
        self._buckets = {name: TokenBucket(lim, clock) for name, lim in limits.items()}

    def allow(self, event: str) -> bool:
        """Whether ``event`` may run now; unlimited events always may."""
        bucket = self._buckets.get(event)
        return True if bucket is None else bucket.take()
