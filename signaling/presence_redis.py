"""Presence shared by several processes, in Redis.

Keys (``prefix`` defaults to ``teletherapy:rtc:``; ids are length-prefixed so no
id can forge another key):

- ``{prefix}user:{uid}`` – sorted set of the user's sids, scored by expiry (ms);
- ``{prefix}place:{len}:{session}:{uid}`` – the sid holding the place, with a TTL;
- ``{prefix}live:{len}:{session}`` – set once, when the session first goes live.

Each process refreshes its own entries every ``ttl / 3`` seconds (see
``signaling.Hub.refresh_presence``); entries of a dead process expire after
``ttl`` seconds, so a crash leaves a ghost for at most that long.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any, cast

import redis

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""
_TOUCH = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
LIVE_TTL_MS = 24 * 3600 * 1000


class RedisPresence:
    """:class:`signaling.presence.Presence` on Redis, with expiring entries."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "teletherapy:rtc:",
        ttl_seconds: float = 60.0,
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._ttl_ms = int(ttl_seconds * 1000)
        self._release = client.register_script(_RELEASE)
        self._touch = client.register_script(_TOUCH)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisPresence:
        """Connect with ``decode_responses`` so sids come back as ``str``."""
        return cls(redis.Redis.from_url(url, decode_responses=True), **kwargs)

    @property
    def heartbeat_seconds(self) -> float | None:
        """Refresh three times per TTL."""
        return self._ttl_ms / 3000

    def _user_key(self, user_id: str) -> str:
        return f"{self._prefix}user:{user_id}"

    def _place_key(self, session_id: str, user_id: str) -> str:
        return f"{self._prefix}place:{len(session_id)}:{session_id}:{user_id}"

    def _live_key(self, session_id: str) -> str:
        return f"{self._prefix}live:{len(session_id)}:{session_id}"

    def _expiry(self) -> int:
        return int(time.time() * 1000) + self._ttl_ms

    def add_connection(self, user_id: str, sid: str) -> None:
        """Record a connection; the set itself expires with its newest member."""
        key = self._user_key(user_id)
        pipe = self._redis.pipeline()
        pipe.zadd(key, {sid: self._expiry()})
        pipe.pexpire(key, self._ttl_ms)
        pipe.execute()

    def remove_connection(self, user_id: str, sid: str) -> None:
        """Forget a closed connection."""
        self._redis.zrem(self._user_key(user_id), sid)

    def connections(self, user_id: str) -> set[str]:
        """Unexpired connections of ``user_id`` in every process."""
        now = int(time.time() * 1000)
        found = self._redis.zrangebyscore(self._user_key(user_id), now, "+inf")
        return {str(sid) for sid in cast("list[str]", found)}

    def claim(self, session_id: str, user_id: str, sid: str) -> str | None:
        """Atomically take the place (``SET … GET``); return the replaced sid."""
        key = self._place_key(session_id, user_id)
        previous = self._redis.set(key, sid, px=self._ttl_ms, get=True)
        return None if previous in (None, sid) else str(previous)

    def release(self, session_id: str, user_id: str, sid: str) -> bool:
        """Compare-and-delete, so a replaced connection cannot evict its successor."""
        key = self._place_key(session_id, user_id)
        return bool(self._release(keys=[key], args=[sid]))

    def holders(self, session_id: str, user_ids: Sequence[str]) -> dict[str, str]:
        """The holding sid of each present user."""
        if not user_ids:
            return {}
        keys = [self._place_key(session_id, uid) for uid in user_ids]
        values = cast("list[str | None]", self._redis.mget(keys))
        return {uid: sid for uid, sid in zip(user_ids, values, strict=True) if sid}

    def first_live(self, session_id: str) -> bool:
        """``SET NX``: true for the first caller in any process."""
        key = self._live_key(session_id)
        return bool(self._redis.set(key, "1", nx=True, px=LIVE_TTL_MS))

    def forget_live(self, session_id: str) -> None:
        """Undo :meth:`first_live`."""
        self._redis.delete(self._live_key(session_id))

    def refresh(
        self,
        connections: Iterable[tuple[str, str]],
        places: Iterable[tuple[str, str, str]],
    ) -> None:
        """Extend this process's entries by one TTL."""
        expiry = self._expiry()
        pipe = self._redis.pipeline(transaction=False)
        for user_id, sid in connections:
            key = self._user_key(user_id)
            pipe.zadd(key, {sid: expiry}, xx=True)
            pipe.pexpire(key, self._ttl_ms)
            pipe.zremrangebyscore(key, "-inf", int(time.time() * 1000))
        for session_id, user_id, sid in places:
            key = self._place_key(session_id, user_id)
            self._touch(keys=[key], args=[sid, self._ttl_ms], client=pipe)
        pipe.execute()
