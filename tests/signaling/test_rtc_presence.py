"""Presence stores: the same contract in memory and in Redis (db 15)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from rtc_helpers import FakeClock, Peer, make_app, make_policy, wait_until

import signaling
from signaling.presence import MemoryPresence, Presence
from signaling.presence_redis import RedisPresence

U = "123e4567-e89b-12d3-a456-426614174000"


def _redis(client: redis.Redis, prefix: str, ttl: float = 60.0) -> RedisPresence:
    return RedisPresence(client, prefix=prefix, ttl_seconds=ttl)


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


def test_replacement_by_another_process_arrives_as_an_event(
    redis_app: Any, redis_client: redis.Redis, prefix: str
) -> None:
    therapist = Peer(redis_app, auth={"token": "token-t1"})
    therapist.join()
    hub = signaling.current_hub(redis_app)
    # another process's connection takes t1's place in s1: presence publishes it
    _redis(redis_client, prefix).claim("s1", "t1", "sid-in-process-2")
    assert wait_until(lambda: hub.joined(therapist.sid, "s1") is None)
    ack = therapist.call("signal", {"session_id": "s1", "candidate": None})
    assert ack["error"]["code"] == "not_joined"


def test_a_session_closed_by_another_process_drops_the_join(
    redis_app: Any, redis_client: redis.Redis, prefix: str
) -> None:
    client, therapist = (
        Peer(redis_app, auth={"token": f"token-{u}"}) for u in ("c1", "t1")
    )
    client.join()
    therapist.join()
    hub = signaling.current_hub(redis_app)
    _redis(redis_client, prefix).release("s1", "c1", client.sid)  # close_room there
    assert wait_until(lambda: hub.joined(client.sid, "s1") is None)
    ack = client.call("chat", {"session_id": "s1", "text": "hi", "client_msg_id": U})
    assert ack["error"]["code"] == "not_joined"
    assert hub.joined(therapist.sid, "s1") is not None  # only that place


def test_heartbeat_drops_a_join_whose_place_vanished_unannounced(
    redis_app: Any, redis_client: redis.Redis, prefix: str
) -> None:
    therapist = Peer(redis_app, auth={"token": "token-t1"})
    therapist.join()
    hub = signaling.current_hub(redis_app)
    redis_client.delete(f"{prefix}place:2:s1:t1")  # expired; no message
    assert hub.joined(therapist.sid, "s1") is not None
    hub.refresh_presence()
    assert hub.joined(therapist.sid, "s1") is None
    ack = therapist.call("signal", {"session_id": "s1", "candidate": None})
    assert ack["error"]["code"] == "not_joined"


def test_a_late_lost_message_does_not_undo_a_newer_join(redis_app: Any) -> None:
    therapist = Peer(redis_app, auth={"token": "token-t1"})
    therapist.join()
    hub = signaling.current_hub(redis_app)
    # e.g. "t1 lost s1" published before this connection claimed it back
    assert hub.lose_place("s1", "t1", therapist.sid) is False
    assert therapist.call("signal", {"session_id": "s1", "candidate": None})["ok"]


def test_lost_place_channel_reports_claims_and_releases_only(
    redis_client: redis.Redis, prefix: str
) -> None:
    presence = _redis(redis_client, prefix)
    watch = presence.watch()
    try:
        presence.claim("s", "u", "a")  # nobody replaced: nothing
        presence.claim("s", "u", "b")  # a lost it
        presence.release("s", "u", "a")  # not the holder: nothing
        presence.release("s", "u", "b")  # b gave it up
        redis_client.publish(f"{prefix}lost", "not json")
        redis_client.publish(f"{prefix}lost", '["too", "short"]')
        found: list[tuple[str, str, str]] = []
        deadline = time.monotonic() + 2
        while len(found) < 2 and time.monotonic() < deadline:
            found += watch.poll(timeout=0.1)
        found += watch.poll(timeout=0.2)  # the malformed ones never come out
        assert found == [("s", "u", "a"), ("s", "u", "b")]
    finally:
        watch.close()


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
    # A TTL of 1.5 s (heartbeat every 0.5 s): at 0.3 s one stall of 0.2 s under the
    # full suite's load let a key lapse (seen once in CI); the claim is unchanged.
    presence = _redis(redis_client, prefix, ttl=1.5)
    app = make_app(make_policy(), FakeClock(), presence=presence)
    try:
        peer = Peer(app, auth={"token": "token-c1"})
        peer.join()
        time.sleep(4.0)  # over two TTLs; only the background heartbeat keeps us
        assert presence.connections("c1") != set()
        assert presence.holders("s1", ["c1"]) != {}
    finally:
        signaling.current_hub(app).stop()


def test_redis_refresh_in_chunks_reports_every_lost_place(
    redis_client: redis.Redis, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signaling.presence_redis as module

    monkeypatch.setattr(module, "REFRESH_CHUNK", 2)
    presence = _redis(redis_client, prefix)
    places = [(f"s{i}", "u", f"sid{i}") for i in range(5)]
    for session_id, user_id, sid in places:
        presence.add_connection(user_id, sid)
        presence.claim(session_id, user_id, sid)
    presence.claim("s1", "u", "elsewhere")
    presence.release("s4", "u", "sid4")
    lost = presence.refresh([("u", sid) for _s, _u, sid in places], places)
    assert lost == [places[1], places[4]]
    assert presence.connections("u") == {sid for _s, _u, sid in places}
