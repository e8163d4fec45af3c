"""WebRTC signaling over Socket.IO, namespace ``/rtc``.

An adapter: it relays and checks, and asks an injected :class:`Policy` for every
decision that needs stored data. It never imports the application.

    socketio = SocketIO()                   # unbound, module level
    init_app(app, policy)                   # once per app
    disconnect_user(user_id)                # on logout and deactivation
    disconnect_credential(credential)       # a token revoked, a login ended

    close_session(session_id, urls)         # ended elsewhere (REST)

``init_app`` reads ``app.config``: ``ASYNC_MODE`` (required), ``REDIS_URL``
(message queue and shared presence; unset = one process), ``ALLOWED_ORIGINS``
(browser origins allowed to connect; a list or a comma-separated string), and
optionally ``SIGNALING_PRESENCE_PREFIX``, ``SIGNALING_PRESENCE_TTL`` (seconds),
``SIGNALING_WEBSOCKET_ONLY``, ``SIGNALING_CHANNEL`` (the message queue's
pub/sub channel; Redis channels ignore the database number, so deployments
sharing one Redis need different channels) and ``SIGNALING_GC_TUNING`` /
``SIGNALING_GC_THRESHOLD`` (see ``signaling.gctune``), and the connect limits
``RTC_CONNECT_RATE_LIMIT``, ``RTC_MAX_SOCKETS_PER_USER`` and
``RATELIMIT_STORAGE_URI`` (see ``signaling.admission``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask

from signaling import gctune
from signaling.admission import Admission
from signaling.credentials import SIGNED_OUT, credential_key, error_body
from signaling.hub import (
    EXTENSION_KEY,
    NAMESPACE,
    Hub,
    close_sockets,
    current_hub,
    socketio,
    user_room,
)
from signaling.nodelay import NoDelayMiddleware
from signaling.policy import (
    ChatResult,
    Denied,
    JoinGrant,
    Participant,
    Policy,
    Principal,
)
from signaling.presence import MemoryPresence, Presence
from signaling.ratelimit import Clock

__all__ = [
    "MAX_FRAME_BYTES",
    "NAMESPACE",
    "ChatResult",
    "Denied",
    "Hub",
    "JoinGrant",
    "MemoryPresence",
    "Participant",
    "Policy",
    "Presence",
    "Principal",
    "close_session",
    "current_hub",
    "disconnect_credential",
    "disconnect_user",
    "init_app",
    "socketio",
]

MAX_FRAME_BYTES = 64 * 1024


def init_app(
    app: Flask,
    policy: Policy,
    *,
    presence: Presence | None = None,
    clock: Clock = time.monotonic,
) -> Hub:
    """Bind signaling to ``app`` with ``policy``; returns the app's hub."""
    from signaling import events

    origins = _origins(app.config.get("ALLOWED_ORIGINS") or [])
    presence = presence or _default_presence(app)
    hub = Hub(
        policy,
        presence,
        clock,
        origins,
        gctune.from_config(app.config),
        Admission.from_config(app.config),
    )
    app.extensions[EXTENSION_KEY] = hub
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        message_queue=app.config.get("REDIS_URL") or None,
        cors_allowed_origins=hub.engineio_origin_allowed,
        max_http_buffer_size=MAX_FRAME_BYTES,
        async_handlers=False,
        **_fresh_options(app),
    )
    events.bind(app, hub)
    app.wsgi_app = NoDelayMiddleware(app.wsgi_app)  # type: ignore[method-assign]  # Flask's middleware idiom
    return hub


def _fresh_options(app: Flask) -> dict[str, Any]:
    """Options Flask-SocketIO would otherwise keep from an earlier ``init_app``
    (it merges kwargs into one dict): the transports, and a stale queue manager
    when this app has no ``REDIS_URL``. ``SIGNALING_WEBSOCKET_ONLY`` refuses
    long-polling (no sticky sessions needed behind a balancer)."""
    options: dict[str, Any] = {
        "transports": ["websocket"]
        if app.config.get("SIGNALING_WEBSOCKET_ONLY")
        else None
    }
    if app.config.get("REDIS_URL"):
        options["channel"] = app.config.get("SIGNALING_CHANNEL") or "flask-socketio"
    else:
        options["client_manager"] = None
    return options


def _origins(value: str | Iterable[str]) -> list[str]:
    """A list, or a comma/space separated string (environment variables)."""
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    return [origin for origin in value if origin]


def _default_presence(app: Flask) -> Presence:
    url = app.config.get("REDIS_URL")
    if not url:
        return MemoryPresence()
    from signaling.presence_redis import RedisPresence

    return RedisPresence.from_url(
        url,
        prefix=app.config.get("SIGNALING_PRESENCE_PREFIX", "teletherapy:rtc:"),
        ttl_seconds=float(app.config.get("SIGNALING_PRESENCE_TTL", 60)),
    )


def close_session(
    session_id: str, rating_urls: Mapping[str, str], app: Flask | None = None
) -> None:
    """Tell a session's room it ended outside the socket (e.g. the REST API).

    ``rating_urls`` maps each participant's user id to their rating page; the
    connections present get ``session_ended`` and leave the room, exactly as
    after the therapist's ``end`` event.
    """
    from signaling.actions import close_room

    close_room(current_hub(app), session_id, rating_urls)


def disconnect_user(user_id: str, app: Flask | None = None) -> int:
    """Close every ``/rtc`` connection of ``user_id``, in every process.

    Sids come from presence (shared through Redis when there are several
    processes) plus this process's own map; ``server.disconnect`` closes local
    sids directly and publishes the others on the message queue. The user's
    sockets first get ``error`` ``{"code": "signed_out"}``. Returns how many
    connections were asked to close.
    """
    hub = current_hub(app)
    sids = hub.presence.connections(user_id) | hub.local_sids(user_id)
    return close_sockets(sids, user_room(user_id), SIGNED_OUT)


def disconnect_credential(
    credential: str,
    app: Flask | None = None,
    *,
    code: str = "signed_out",
    message: str = "",
) -> int:
    """Close every ``/rtc`` connection opened with ``credential`` (the policy's
    :attr:`Principal.credential`, e.g. a revoked token), in every process.

    Like :func:`disconnect_user`, with the credential's presence entries and
    room: the sockets first get ``error`` ``{"code": code, "message"}``
    (``signed_out`` by default, ``session_expired`` for a lapsed credential).
    Returns how many connections were asked to close.
    """
    if not credential:
        return 0
    hub = current_hub(app)
    key = credential_key(credential)
    sids = hub.presence.connections(key) | hub.local_credential_sids(credential)
    return close_sockets(sids, key, error_body(code, message))
