"""Presence stores: the same contract in memory and in Redis (db 15)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from rtc_helpers import FakeClock, Peer, make_app, make_policy

import signaling
from signaling.presence import MemoryPresence, Presence
from signaling.presence_redis import RedisPresence

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        client.ping()
    except redis.ConnectionError:
        client.close()
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    yield client
    client.close()


@pytest.fixture
def prefix(redis_client: redis.Redis) -> Iterator[str]:
    value = f"test-rtc-{uuid.uuid4().hex}:"
    yield value
    keys = list(redis_client.scan_iter(match=value + "*"))
    if keys:
        redis_client.delete(*keys)


def _redis(client: redis.Redis, prefix: str, ttl: float = 60.0) -> RedisPresence:
    return RedisPresence(client, prefix=prefix, ttl_seconds=ttl)


@pytest.fixture(params=["memory", "redis"])
def presence(request: pytest.FixtureRequest) -> Presence:
    if request.param == "memory":
        return MemoryPresence()
    client = request.getfixturevalue("redis_client")
    return _redis(client, request.getfixturevalue("prefix"))


def test_connections_are_tracked_per_user(presence: Presence) -> None:
    presence.add_connection("u1", "a")
    presence.add_connection("u1", "b")
    presence.add_connection("u2", "c")
    assert presence.connections("u1") == {"a", "b"}
    presence.remove_connection("u1", "a")
    assert presence.connections("u1") == {"b"}
    presence.remove_connection("u1", "b")
    presence.remove_connection("u1", "never")
    assert presence.connections("u1") == set()
    assert presence.connections("u2") == {"c"}


def test_claim_returns_the_replaced_connection(presence: Presence) -> None:
    assert presence.claim("s", "u1", "a") is None
    assert presence.claim("s", "u1", "a") is None  # same connection again
    assert presence.claim("s", "u1", "b") == "a"
    assert presence.holders("s", ["u1", "u2"]) == {"u1": "b"}


def test_release_only_by_the_holder(presence: Presence) -> None:
    presence.claim("s", "u1", "a")
    presence.claim("s", "u1", "b")
    assert presence.release("s", "u1", "a") is False  # replaced: no peer_left
    assert presence.holders("s", ["u1"]) == {"u1": "b"}
    assert presence.release("s", "u1", "b") is True
    assert presence.release("s", "u1", "b") is False
    assert presence.holders("s", ["u1"]) == {}


def test_places_are_per_session(presence: Presence) -> None:
    presence.claim("s1", "u1", "a")
    presence.claim("s2", "u1", "b")
    assert presence.holders("s1", ["u1"]) == {"u1": "a"}
    assert presence.holders("s2", ["u1"]) == {"u1": "b"}
    assert presence.holders("s3", []) == {}


def test_ids_with_separators_cannot_collide(presence: Presence) -> None:
    presence.claim("a:b", "c", "sid-1")
    assert presence.holders("a", ["b:c"]) == {}


def test_first_live_is_true_once(presence: Presence) -> None:
    assert presence.first_live("s") is True
    assert presence.first_live("s") is False
    presence.forget_live("s")
    assert presence.first_live("s") is True


def test_refresh_keeps_entries(presence: Presence) -> None:
    presence.add_connection("u1", "a")
    presence.claim("s", "u1", "a")
    presence.refresh([("u1", "a")], [("s", "u1", "a")])
    assert presence.connections("u1") == {"a"}
    assert presence.holders("s", ["u1"]) == {"u1": "a"}


def test_memory_presence_needs_no_heartbeat() -> None:
    assert MemoryPresence().heartbeat_seconds is None


def test_redis_entries_of_a_dead_process_expire(
    redis_client: redis.Redis, prefix: str
) -> None:
    presence = _redis(redis_client, prefix, ttl=0.3)
    assert presence.heartbeat_seconds == pytest.approx(0.1)
    presence.add_connection("u1", "a")
    presence.claim("s", "u1", "a")
    time.sleep(0.2)
    presence.refresh([("u1", "a")], [("s", "u1", "a")])  # alive process
    time.sleep(0.2)
    assert presence.connections("u1") == {"a"}
    assert presence.holders("s", ["u1"]) == {"u1": "a"}
    time.sleep(0.4)  # no more heartbeats: kill -9
    assert presence.connections("u1") == set()
    assert presence.holders("s", ["u1"]) == {}


def test_redis_refresh_does_not_resurrect_released_entries(
    redis_client: redis.Redis, prefix: str
) -> None:
    presence = _redis(redis_client, prefix)
    presence.add_connection("u1", "a")
    presence.claim("s", "u1", "a")
    presence.remove_connection("u1", "a")
    presence.claim("s", "u1", "b")
    presence.refresh([("u1", "a")], [("s", "u1", "a")])
    assert presence.connections("u1") == set()
    assert presence.holders("s", ["u1"]) == {"u1": "b"}


# --- the app on Redis presence: what a second process would share ---


@pytest.fixture
def redis_app(redis_client: redis.Redis, prefix: str) -> Iterator[Any]:
    app = make_app(make_policy(), FakeClock(), presence=_redis(redis_client, prefix))
    yield app
    signaling.current_hub(app).stop()


def test_join_replace_and_leave_work_on_redis_presence(redis_app: Any) -> None:
    client = Peer(redis_app, auth={"token": "token-c1"})
    old = Peer(redis_app, auth={"token": "token-t1"})
    client.join()
    old.join()
    new = Peer(redis_app, auth={"token": "token-t1"})
    assert new.join()["peers"] == [{"user_id": "c1", "role": "client"}]
    assert old.events("replaced") == [{"session_id": "s1"}]
    client.received()
    old.disconnect()
    assert client.received() == []
    new.disconnect()
    assert client.events("peer_left") == [{"user_id": "t1", "role": "therapist"}]


def test_replacement_by_another_process_is_noticed_on_the_next_event(
    redis_app: Any, redis_client: redis.Redis, prefix: str
) -> None:
    therapist = Peer(redis_app, auth={"token": "token-t1"})
    therapist.join()
    # another process's connection takes t1's place in s1
    _redis(redis_client, prefix).claim("s1", "t1", "sid-in-process-2")
    ack = therapist.call("signal", {"session_id": "s1", "candidate": None})
    assert ack["error"]["code"] == "not_joined"


def test_disconnect_user_finds_sockets_through_shared_presence(
    redis_app: Any, redis_client: redis.Redis, prefix: str
) -> None:
    local = Peer(redis_app, auth={"token": "token-c1"})
    _redis(redis_client, prefix).add_connection("c1", "sid-in-process-2")
    with redis_app.app_context():
        assert signaling.disconnect_user("c1") == 2
    assert not local.connected


def test_hub_heartbeat_refreshes_this_process(
    redis_client: redis.Redis, prefix: str
) -> None:
    presence = _redis(redis_client, prefix, ttl=0.3)
    app = make_app(make_policy(), FakeClock(), presence=presence)
    try:
        peer = Peer(app, auth={"token": "token-c1"})
        peer.join()
        time.sleep(0.8)  # several TTLs; the background heartbeat keeps us
        assert presence.connections("c1") != set()
        assert presence.holders("s1", ["c1"]) != {}
    finally:
        signaling.current_hub(app).stop()
