"""Baseline: python-socketio with gevent, relaying `signal` to the room; nothing else.

No authentication, validation, policy or rate limit: what is left when the product's
work is taken out. The transport is the app's: gevent's WSGI server, simple-websocket,
and TCP_NODELAY on each WebSocket (signaling.nodelay; the app sets it too), so the
ratio measures per-message work, not socket options. Usage: python -m bench.bare_relay PORT
"""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402
from typing import Any  # noqa: E402

import socketio  # noqa: E402
from gevent import pywsgi  # noqa: E402

from signaling.nodelay import NoDelayMiddleware  # noqa: E402

sio = socketio.Server(
    async_mode="gevent", cors_allowed_origins=[], async_handlers=False
)


@sio.on("join", namespace="/rtc")  # type: ignore[untyped-decorator]  # socketio has no hints
def join(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    sio.enter_room(sid, data["session_id"], namespace="/rtc")
    return {"ok": True, "state": "live"}


@sio.on("signal", namespace="/rtc")  # type: ignore[untyped-decorator]  # socketio has no hints
def signal(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    body = {"from": sid, "description": data["description"]}
    sio.emit("signal", body, to=data["session_id"], skip_sid=sid, namespace="/rtc")
    return {"ok": True}


if __name__ == "__main__":
    app = NoDelayMiddleware(socketio.WSGIApp(sio))
    pywsgi.WSGIServer(("127.0.0.1", int(sys.argv[1])), app, log=None).serve_forever()
