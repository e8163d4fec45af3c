"""The production server mode answers: gevent, health, the served socket.io client."""

import requests


def test_live_server_runs_gevent_and_serves_the_socketio_client(live_server, world):
    health = requests.get(live_server.url + "/healthz", timeout=5).json()
    assert health == {
        "status": "ok",
        "database": "ok",
        "message_queue": "disabled",
        "async_mode": "gevent",
    }
    js = requests.get(live_server.url + "/vendor/socket.io.esm.min.js", timeout=5)
    assert js.status_code == 200 and "javascript" in js.headers["Content-Type"]
    session = world.schedule("video")
    assert session["status"] == "scheduled"
