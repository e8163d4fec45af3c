"""Transport and process tuning: TCP_NODELAY on WebSockets, the garbage collector."""

from __future__ import annotations

import dataclasses
import gc
import socket
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from rtc_helpers import FakeClock, Peer, make_app, make_policy

import signaling
from signaling import gctune
from signaling.nodelay import NoDelayMiddleware
from signaling.presence import MemoryPresence


@pytest.fixture
def tcp() -> Iterator[socket.socket]:
    """The server side of a loopback TCP connection."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        accepted, _addr = listener.accept()
        with client, accepted:
            yield accepted


def _nodelay(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def _call(environ: dict[str, Any]) -> list[bytes]:
    app = NoDelayMiddleware(lambda _environ, _start: [b"ok"])
    return list(app(environ, lambda *_args: None))


@pytest.mark.parametrize("server", ["werkzeug", "gevent"])
def test_websocket_upgrades_get_tcp_nodelay(tcp: socket.socket, server: str) -> None:
    environ: dict[str, Any] = {"HTTP_UPGRADE": "WebSocket"}
    if server == "werkzeug":
        environ["werkzeug.socket"] = tcp
    else:  # gevent.pywsgi: wsgi.input.rfile is the socket's buffered reader
        environ["wsgi.input"] = SimpleNamespace(rfile=tcp.makefile("rb"))
    assert not _nodelay(tcp)
    assert _call(environ) == [b"ok"]
    assert _nodelay(tcp)


def test_plain_http_requests_keep_their_socket_options(tcp: socket.socket) -> None:
    assert _call({"werkzeug.socket": tcp}) == [b"ok"]
    assert not _nodelay(tcp)


def test_init_app_wraps_the_wsgi_app() -> None:
    app = make_app(make_policy(), FakeClock())
    assert isinstance(app.wsgi_app, NoDelayMiddleware)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"ASYNC_MODE": "gevent"}, gctune.GcTuning(True)),
        ({"ASYNC_MODE": "threading"}, gctune.GcTuning(False)),
        (
            {"ASYNC_MODE": "gevent", "SIGNALING_GC_TUNING": "false"},
            gctune.GcTuning(False),
        ),
        (
            {"ASYNC_MODE": "threading", "SIGNALING_GC_TUNING": True},
            gctune.GcTuning(True),
        ),
        (
            {"ASYNC_MODE": "gevent", "SIGNALING_GC_THRESHOLD": "1000, 10 10"},
            gctune.GcTuning(True, (1000, 10, 10)),
        ),
        (
            {"ASYNC_MODE": "gevent", "SIGNALING_GC_THRESHOLD": [700, 10, 10]},
            gctune.GcTuning(True, (700, 10, 10)),
        ),
    ],
)
def test_gc_tuning_is_read_from_config(
    config: dict[str, object], expected: gctune.GcTuning
) -> None:
    assert gctune.from_config(config) == expected


@pytest.mark.parametrize("value", ["1,2", "1,2,0", [1, 2, 3, 4], "a,b,c"])
def test_a_wrong_gc_threshold_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="SIGNALING_GC_THRESHOLD"):
        gctune.from_config({"SIGNALING_GC_THRESHOLD": value})


@pytest.fixture
def gc_state() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("gc_state")
def test_gc_tuning_freezes_the_heap_and_raises_the_threshold() -> None:
    gctune.GcTuning(True, (12_345, 20, 100)).apply()
    assert gc.get_threshold() == (12_345, 20, 100)
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("gc_state")
def test_disabled_gc_tuning_leaves_the_collector_alone() -> None:
    before = gc.get_threshold()
    gctune.GcTuning(False, (12_345, 20, 100)).apply()
    assert gc.get_threshold() == before


def test_a_rejoin_while_a_lost_place_is_checked_stays_joined() -> None:
    presence = MemoryPresence()
    app = make_app(make_policy(), FakeClock(), presence=presence)
    therapist = Peer(app, auth={"token": "token-t1"})
    therapist.join()
    hub = signaling.current_hub(app)
    sid = therapist.sid

    def rejoined_meanwhile(session_id: str, user_ids: list[str]) -> dict[str, str]:
        # presence still named another connection when asked; this one joins again
        # (a new grant) before the answer comes back
        grant = hub.joined(sid, session_id)
        assert grant is not None
        hub.set_joined(sid, dataclasses.replace(grant))
        return {"t1": "sid-elsewhere"}

    presence.holders = rejoined_meanwhile  # type: ignore[method-assign]
    assert hub.lose_place("s1", "t1", sid) is False
    assert hub.joined(sid, "s1") is not None
    assert therapist.call("signal", {"session_id": "s1", "candidate": None})["ok"]
