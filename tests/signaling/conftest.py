"""Fixtures for the /rtc tests: a minimal Flask app with flask-login, no database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rtc_helpers import FakeClock, FakePolicy, Peer, make_app, make_policy


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
