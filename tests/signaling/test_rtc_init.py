"""init_app reads the config it documents and wires the server as specified."""

from __future__ import annotations

import subprocess
import sys

import pytest
import socketio as python_socketio
from flask import Flask
from rtc_helpers import ORIGIN, FakeClock, FakePolicy, Peer, make_app

import signaling
from signaling.presence import MemoryPresence
from signaling.presence_redis import RedisPresence


def test_server_options_follow_the_contract(app: Flask) -> None:
    options = signaling.socketio.server_options
    assert options["async_mode"] == "threading"
    assert options["async_handlers"] is False
    assert options["max_http_buffer_size"] == 64 * 1024
    assert options["message_queue"] is None
    assert "ping_interval" not in options  # the default (25 s) is kept
    assert signaling.socketio.server.async_mode == "threading"
    assert app.extensions["signaling"] is signaling.current_hub(app)


def test_async_mode_comes_from_the_config(policy: FakePolicy, clock: FakeClock) -> None:
    make_app(policy, clock, ASYNC_MODE="gevent")
    assert signaling.socketio.server.async_mode == "gevent"


def test_async_mode_is_required(policy: FakePolicy) -> None:
    app = Flask(__name__)
    with pytest.raises(KeyError):
        signaling.init_app(app, policy)


def test_without_redis_presence_is_in_memory(app: Flask) -> None:
    assert isinstance(signaling.current_hub(app).presence, MemoryPresence)
    assert not isinstance(
        signaling.socketio.server.manager, python_socketio.PubSubManager
    )


def test_redis_url_enables_the_queue_and_shared_presence(
    policy: FakePolicy, clock: FakeClock
) -> None:
    url = "redis://127.0.0.1:6379/15"
    app = make_app(policy, clock, REDIS_URL=url, SIGNALING_PRESENCE_TTL=30)
    hub = signaling.current_hub(app)
    assert isinstance(hub.presence, RedisPresence)
    assert hub.presence.heartbeat_seconds == 10
    assert isinstance(signaling.socketio.server.manager, python_socketio.RedisManager)
    assert signaling.socketio.server_options["message_queue"] == url


def test_engineio_origin_check_is_the_allow_list(app: Flask) -> None:
    check = signaling.socketio.server.eio.cors_allowed_origins
    assert check(ORIGIN, {}) is True
    assert check("null", {}) is False
    assert check("https://evil.example", {}) is False


def test_websocket_only_transport_can_be_required(
    policy: FakePolicy, clock: FakeClock
) -> None:
    make_app(policy, clock, SIGNALING_WEBSOCKET_ONLY=True)
    assert signaling.socketio.server.eio.transports == ["websocket"]
    make_app(policy, clock)
    assert "polling" in signaling.socketio.server.eio.transports


def test_handlers_survive_building_many_apps(
    policy: FakePolicy, clock: FakeClock
) -> None:
    for _ in range(3):
        app = make_app(policy, clock)
    peer = Peer(app, auth={"token": "token-c1"})
    assert peer.join()["ok"] is True


def test_signaling_imports_neither_the_app_nor_ratings() -> None:
    code = (
        "import sys, signaling, signaling.events, signaling.presence_redis\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('teletherapy', 'ratings')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
