"""Presence shared by several processes, in Redis.

Keys (``prefix`` defaults to ``teletherapy:rtc:``; ids are length-prefixed so no
id can forge another key):

- ``{prefix}user:{uid}`` – sorted set of the user's sids, scored by expiry (ms);
- ``{prefix}place:{len}:{session}:{uid}`` – the sid holding the place, with a TTL;
- ``{prefix}live:{len}:{session}`` – set once, when the session first goes live;
- ``{prefix}lost`` – a pub/sub channel: ``[session, uid, sid]`` each time a claim
  takes a place from ``sid`` or a release gives it up (atomic with the change,
  in the same Lua script), so the process holding ``sid`` drops its join.

Each process refreshes its own entries every ``ttl / 3`` seconds (see
``signaling.Hub.refresh_presence``); entries of a dead process expire after
``ttl`` seconds, so a crash leaves a ghost for at most that long.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any, cast

import redis
import redis.client

from signaling.presence import Place

# KEYS: place, channel; ARGV: sid, ttl ms, session, user
_CLAIM = """
local previous = redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'GET')
if previous and previous ~= ARGV[1] then
  redis.call('publish', KEYS[2], cjson.encode({ARGV[3], ARGV[4], previous}))
end
return previous
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('del', KEYS[1])
  redis.call('publish', KEYS[2], cjson.encode({ARGV[2], ARGV[3], ARGV[1]}))
  return 1
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
REFRESH_CHUNK = 250


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
        self._claim = client.register_script(_CLAIM)
        self._release = client.register_script(_RELEASE)
        self._touch = client.register_script(_TOUCH)
        self._channel = f"{prefix}lost"

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
        """Atomically take the place (``SET … GET``) and publish the replaced sid."""
        keys = [self._place_key(session_id, user_id), self._channel]
        args: list[str | int] = [sid, self._ttl_ms, session_id, user_id]
        previous = self._claim(keys=keys, args=args)
        return None if previous in (None, sid) else str(previous)

    def release(self, session_id: str, user_id: str, sid: str) -> bool:
        """Compare-and-delete, so a replaced connection cannot evict its successor;
        a release that happened is published."""
        keys = [self._place_key(session_id, user_id), self._channel]
        return bool(self._release(keys=keys, args=[sid, session_id, user_id]))

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
        places: Iterable[Place],
    ) -> list[Place]:
        """Extend this process's entries by one TTL; return the places that are
        no longer held by their sid (taken, released or expired meanwhile).

        Sent in pipelines of ``REFRESH_CHUNK`` entries with a yield between them:
        one pipeline for thousands of sockets kept the process (its gevent hub)
        busy parsing replies for long enough to show in relay p99."""
        pairs, touched = list(connections), list(places)
        for start in range(0, len(pairs), REFRESH_CHUNK):
            self._refresh_connections(pairs[start : start + REFRESH_CHUNK])
            time.sleep(0)  # let other greenlets (or threads) run
        lost: list[Place] = []
        for start in range(0, len(touched), REFRESH_CHUNK):
            lost += self._touch_places(touched[start : start + REFRESH_CHUNK])
            time.sleep(0)
        return lost

    def _refresh_connections(self, pairs: list[tuple[str, str]]) -> None:
        expiry = self._expiry()
        now_ms = int(time.time() * 1000)
        pipe = self._redis.pipeline(transaction=False)
        for user_id, sid in pairs:
            key = self._user_key(user_id)
            pipe.zadd(key, {sid: expiry}, xx=True)
            pipe.pexpire(key, self._ttl_ms)
            pipe.zremrangebyscore(key, "-inf", now_ms)
        pipe.execute()

    def _touch_places(self, places: list[Place]) -> list[Place]:
        if not places:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for session_id, user_id, sid in places:
            key = self._place_key(session_id, user_id)
            self._touch(keys=[key], args=[sid, self._ttl_ms], client=pipe)
        held = pipe.execute()
        return [place for place, ok in zip(places, held, strict=True) if not ok]

    def watch(self) -> LostPlaces:
        """Subscribe to the lost-place channel (confirmed before returning)."""
        return LostPlaces(self._redis, self._channel)


class LostPlaces:
    """The ``{prefix}lost`` channel, read by one background task per process."""

    def __init__(self, client: redis.Redis, channel: str) -> None:
        self._pubsub: redis.client.PubSub = client.pubsub()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
        self._pubsub.subscribe(channel)
        # read the confirmation now: a place lost after this call is never missed
        reply = self._pubsub.get_message(timeout=5)
        if reply is None or reply.get("type") not in ("subscribe", b"subscribe"):
            self._pubsub.close()
            raise redis.ConnectionError("lost-place channel: no subscribe reply")

    def poll(self, timeout: float) -> list[Place]:
        """Every place published since the last call; waits up to ``timeout``."""
        found: list[Place] = []
        message = self._pubsub.get_message(timeout=timeout)
        while message is not None:
            kind = message.get("type")
            place = _place(message.get("data")) if kind in _MESSAGE else None
            if place is not None:
                found.append(place)
            message = self._pubsub.get_message(timeout=0)
        return found

    def close(self) -> None:
        """Unsubscribe and return the connection."""
        self._pubsub.close()


_MESSAGE = ("message", b"message")  # not the (re)subscribe confirmations


def _place(data: object) -> Place | None:
    """``[session, uid, sid]`` from the channel; anything else is ignored."""
    try:
        value = json.loads(data) if isinstance(data, str | bytes) else None
    except ValueError:
        return None
    if (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(part, str) for part in value)
    ):
        return (value[0], value[1], value[2])
    return None
