"""TCP_NODELAY on every WebSocket connection to the app.

Without it, a relayed message written shortly after an earlier one to the same
client waited for that client's delayed ACK (Nagle's algorithm): measured 40 ms
on the first ``signal`` after a ``join`` — the offer of every call — with our
server and with a bare python-socketio one alike (docs/performance.md). Signaling
messages are small and latency-bound, so they go out at once. Neither gevent's
WSGI server nor simple-websocket sets the option, and the server object is built
inside ``socketio.run``, so the option is set per connection, from the WSGI
environ of the WebSocket request, before engine.io takes the socket over.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def tcp_socket(environ: dict[str, Any]) -> socket.socket | None:
    """The client connection's socket, where the WSGI server exposes it."""
    for key in ("werkzeug.socket", "gunicorn.socket"):
        if environ.get(key) is not None:
            return environ[key]  # type: ignore[no-any-return]  # the server's socket object
    stream = environ.get("wsgi.input")
    stream = getattr(stream, "rfile", stream)  # gevent.pywsgi.Input
    sock = getattr(getattr(stream, "raw", None), "_sock", None)  # its SocketIO
    return sock if isinstance(sock, socket.socket) else None


def set_nodelay(environ: dict[str, Any]) -> bool:
    """Switch Nagle's algorithm off for this request's connection, if it is TCP."""
    sock = tcp_socket(environ)
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return False
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        return False
    return True


class NoDelayMiddleware:
    """Sets TCP_NODELAY on WebSocket upgrade requests, then calls the app."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            set_nodelay(environ)
        return self.app(environ, start_response)
