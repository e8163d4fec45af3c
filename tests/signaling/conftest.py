"""Fixtures for the /rtc tests: a minimal Flask app with flask-login, no database."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from rtc_helpers import REDIS_URL, FakeClock, FakePolicy, Peer, make_app, make_policy

from signaling.presence import MemoryPresence, Presence
from signaling.presence_redis import RedisPresence


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def policy() -> FakePolicy:
    return make_policy()


@pytest.fixture
def app(policy: FakePolicy, clock: FakeClock) -> Flask:
    return make_app(policy, clock)


@pytest.fixture
def http(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield client


@pytest.fixture
def connect(app: Flask) -> Callable[..., Peer]:
    """``connect("t1")`` → a connected peer using t1's API token."""

    def _connect(user_id: str | None = None, **kwargs: Any) -> Peer:
        if user_id is not None:
            kwargs.setdefault("auth", {"token": f"token-{user_id}"})
        return Peer(app, **kwargs)

    return _connect


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
    """A key prefix of this test's own; its keys are deleted afterwards."""
    value = f"test-rtc-{uuid.uuid4().hex}:"
    yield value
    keys = list(redis_client.scan_iter(match=value + "*"))
    if keys:
        redis_client.delete(*keys)


@pytest.fixture(params=["memory", "redis"])
def presence(request: pytest.FixtureRequest) -> Presence:
    """Each presence store in turn (Redis db 15, a fresh prefix)."""
    if request.param == "memory":
        return MemoryPresence()
    client = request.getfixturevalue("redis_client")
    return RedisPresence(client, prefix=request.getfixturevalue("prefix"))
