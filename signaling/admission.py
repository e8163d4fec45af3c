"""Who may open a socket at all: attempts per client address, sockets per account.

Flask-Limiter never sees ``/socket.io/`` (engine.io answers before Flask), so the
connect handler asks an :class:`Admission` itself, with the ``limits`` library
that Flask-Limiter is built on (a moving window in the same storage: memory, or
Redis shared by every process).

Config keys: ``RTC_CONNECT_RATE_LIMIT`` (e.g. ``"30 per minute"``; empty = no
limit), ``RTC_MAX_SOCKETS_PER_USER`` (0 = no limit) and ``RATELIMIT_STORAGE_URI``
(default ``memory://``, one count per process).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import limits
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

TOO_MANY_ATTEMPTS = "too many connection attempts from this address; wait a minute"
TOO_MANY_SOCKETS = "too many open connections for this account; close another tab"


class Admission:
    """Connect limits of one app."""

    def __init__(
        self,
        rate: str | None = None,
        storage_uri: str = "memory://",
        max_sockets_per_user: int | None = None,
    ) -> None:
        self._rate = limits.parse(rate) if rate else None
        self._limiter = (
            MovingWindowRateLimiter(storage_from_string(storage_uri))
            if self._rate is not None
            else None
        )
        self.max_sockets_per_user = max_sockets_per_user or None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Admission:
        """Read the ``RTC_*`` keys (absent = no limit)."""
        return cls(
            rate=config.get("RTC_CONNECT_RATE_LIMIT") or None,
            storage_uri=config.get("RATELIMIT_STORAGE_URI") or "memory://",
            max_sockets_per_user=int(config.get("RTC_MAX_SOCKETS_PER_USER") or 0),
        )

    def attempt(self, address: str) -> bool:
        """Count one connection attempt from ``address``; ``False`` past the limit."""
        if self._limiter is None or self._rate is None:
            return True
        return self._limiter.hit(self._rate, "rtc-connect", address)

    def room_for_one_more(self, open_sockets: int) -> bool:
        """Whether an account with ``open_sockets`` may open another."""
        limit = self.max_sockets_per_user
        return limit is None or open_sockets < limit
