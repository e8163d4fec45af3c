"""Frames over 64 KiB disconnect their sender (docs/security.md, row 13).

Engine.io enforces ``max_http_buffer_size`` before any Socket.IO handler runs, so
these tests talk to the real server: a threaded werkzeug server for WebSocket
frames, and the WSGI app for long-polling POST bodies.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import websocket
from flask import Flask
from flask.testing import FlaskClient
from rtc_helpers import NS, wait_until
from werkzeug.serving import make_server

import signaling

BIG_TEXT = "x" * 70_000  # the frame is > 64 KiB; the text alone is valid length
SMALL_TEXT = "x" * 3_000
UUID = "123e4567-e89b-12d3-a456-426614174000"


@pytest.fixture
def server_url(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"ws://127.0.0.1:{server.server_port}/socket.io/?EIO=4&transport=websocket"
    server.shutdown()
    thread.join(timeout=5)


def _ws_connect(url: str, token: str) -> websocket.WebSocket:
    ws = websocket.create_connection(url, timeout=5, suppress_origin=True)
    assert ws.recv().startswith("0{")
    ws.send("40" + NS + "," + json.dumps({"token": token}))
    assert ws.recv().startswith("40" + NS + ',{"sid"')
    return ws


def _ws_call(ws: websocket.WebSocket, ack_id: int, event: str, payload: Any) -> Any:
    ws.send(f"42{NS},{ack_id}" + json.dumps([event, payload]))
    prefix = f"43{NS},{ack_id}"
    while True:
        frame = ws.recv()
        if frame == "2":  # engine.io ping
            ws.send("3")
        elif frame.startswith(prefix):
            return json.loads(frame[len(prefix) :])[0]


def test_websocket_frame_over_64_kib_disconnects_only_its_sender(
    app: Flask, server_url: str
) -> None:
    hub = signaling.current_hub(app)
    therapist = _ws_connect(server_url, "token-t1")
    flooder = _ws_connect(server_url, "token-c1")
    assert _ws_call(therapist, 1, "join", {"session_id": "s1"})["ok"] is True
    assert _ws_call(flooder, 1, "join", {"session_id": "s1"})["ok"] is True
    big = {"session_id": "s1", "text": BIG_TEXT, "client_msg_id": UUID}
    flooder.send(f"42{NS},2" + json.dumps(["chat", big]))
    assert wait_until(lambda: not hub.presence.connections("c1"))
    opcode, _ = flooder.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE  # the server closed the socket
    flooder.shutdown()
    # the other participant keeps working
    assert _ws_call(therapist, 2, "leave", {"session_id": "s1"})["ok"] is True
    therapist.close()


def test_websocket_frame_under_64_kib_is_handled(server_url: str) -> None:
    ws = _ws_connect(server_url, "token-c1")
    assert _ws_call(ws, 1, "join", {"session_id": "s1"})["ok"] is True
    chat = {
        "session_id": "s1",
        "text": SMALL_TEXT,
        "client_msg_id": "123e4567-e89b-12d3-a456-426614174000",
    }
    ack = _ws_call(ws, 2, "chat", chat)
    assert ack["ok"] is True and ack["message"]["text"] == SMALL_TEXT
    ws.close()


def _polling_connect(http: FlaskClient, token: str) -> tuple[str, str]:
    body = http.get("/socket.io/?EIO=4&transport=polling").get_data(as_text=True)
    eio_sid = json.loads(body[1:])["sid"]
    url = f"/socket.io/?EIO=4&transport=polling&sid={eio_sid}"
    connect_packet = "40" + NS + "," + json.dumps({"token": token})
    assert http.post(url, data=connect_packet).status_code == 200
    assert http.get(url).get_data(as_text=True).startswith("40" + NS + ',{"sid"')
    return eio_sid, url


def _in_thread(target: Any) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def _drain(q: Any) -> None:
    while True:
        try:
            q.get_nowait()
        except queue.Empty:
            return
        q.task_done()


def test_polling_body_over_64_kib_disconnects_its_sender(
    app: Flask, http: FlaskClient
) -> None:
    hub = signaling.current_hub(app)
    eio_sid, url = _polling_connect(http, "token-c1")
    eio_socket = signaling.socketio.server.eio.sockets[eio_sid]
    # a real client always has a long-poll GET open
    poll = _in_thread(lambda: app.test_client().get(url))
    time.sleep(0.1)
    body = (
        "42" + NS + "," + json.dumps(["chat", {"session_id": "s1", "text": BIG_TEXT}])
    )
    result: dict[str, int] = {}
    post = _in_thread(
        lambda: result.update(status=app.test_client().post(url, data=body).status_code)
    )
    assert wait_until(lambda: eio_socket.closed)
    assert hub.presence.connections("c1") == set()  # our disconnect handler ran
    poll.join(timeout=5)
    assert eio_sid not in signaling.socketio.server.eio.sockets
    # engine.io quirk (see docs/signaling.md): the POST waits in close(wait=True)
    # for a poll that never comes, so the test drains the queue for it
    _drain(eio_socket.queue)
    post.join(timeout=5)
    assert result == {"status": 400}


def test_max_http_buffer_size_is_64_kib(app: Flask) -> None:
    assert signaling.socketio.server.eio.max_http_buffer_size == 64 * 1024


def test_refused_connect_tells_the_reason_as_a_code(server_url: str) -> None:
    ws = websocket.create_connection(server_url, timeout=5, suppress_origin=True)
    try:
        assert ws.recv().startswith("0{")
        ws.send("40" + NS + "," + json.dumps({"token": "forged"}))
        frame = ws.recv()
        assert frame.startswith("44" + NS + ",")
        assert json.loads(frame[len(NS) + 3 :]) == {
            "message": "unauthenticated",  # the code, as clients read it
            "data": {"code": "unauthenticated", "message": "sign in again"},
        }
    finally:
        ws.close()
