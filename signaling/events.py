"""Socket.IO handlers of the ``/rtc`` namespace.

Each client event runs: rate limit → payload shape and ``session_id`` →
joined? → field validation → policy → emit. Every one answers an ack
``{"ok": true, ...}`` or ``{"ok": false, "error": {"code", "message"}}``; only
:func:`dispatch` catches broad exceptions, and it logs their type, never their
text (it may quote a payload).

Two ways in, by what an event needs from Flask (docs/performance.md):

- ``connect``, ``disconnect``, ``join`` and ``end`` go through Flask-SocketIO,
  which builds a request context from the handshake for every event (the login
  cookie at connect; audit addresses and ``url_for`` in the policy).
- ``signal``, ``leave``, ``chat`` and ``quality`` are the frequent ones. They are
  registered on the python-socketio server itself (:func:`bind`), skipping that
  per-event request context, which cost more than all of signaling's own work:
  ``signal`` and ``leave`` run with no Flask context (memory and presence only),
  ``chat`` and ``quality`` in an application context (the policy's database
  session is released at its teardown). ``media_mode`` is rare but writes
  beside ``quality`` through the same policy path, so it runs as ``quality``
  does.

Importing this module registers the Flask-SocketIO handlers on
``signaling.hub.socketio``; it must happen before ``socketio.init_app``
(``signaling.init_app`` does it, then calls :func:`bind`).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping

from flask import Flask, request
from flask_socketio import ConnectionRefusedError

from signaling.actions import (
    chat,
    end,
    join,
    leave,
    media_mode,
    quality,
    signal,
    vacate,
)
from signaling.admission import TOO_MANY_ATTEMPTS, TOO_MANY_SOCKETS
from signaling.credentials import credential_key
from signaling.hub import (
    NAMESPACE,
    Connection,
    Hub,
    current_hub,
    logger,
    server,
    socketio,
    user_room,
)
from signaling.messages import Ack, SignalingError, error, single_payload
from signaling.policy import Principal
from signaling.ratelimit import ConnectionLimiter

Action = Callable[[Hub, Connection, object], Ack]


def _sid() -> str:
    return str(request.sid)  # type: ignore[attr-defined]  # Flask-SocketIO sets request.sid


def _refuse(code: str, message: str) -> ConnectionRefusedError:
    """``connect_error``: ``message`` is the code, ``data`` the error object."""
    return ConnectionRefusedError(code, {"code": code, "message": message})


def on_connect(auth: object = None) -> None:
    """Refuse foreign origins, address floods, unknown users and accounts with
    too many sockets (in that order); register the connection."""
    hub = current_hub()
    if not hub.origin_allowed(request.headers.get("Origin")):
        logger.info("rtc connect refused: origin not allowed")
        raise _refuse("origin_not_allowed", "this page's origin may not connect")
    if not _attempt(hub, request.remote_addr or "unknown"):
        raise _refuse("rate_limited", TOO_MANY_ATTEMPTS)
    principal = _identify(hub, auth)
    if principal is None:
        raise _refuse("unauthenticated", "sign in again")
    if not _room_for_one_more(hub, principal.user_id):
        raise _refuse("too_many_connections", TOO_MANY_SOCKETS)
    sid = _sid()
    try:
        _register(hub, sid, principal)
    except Exception as exc:  # boundary: refuse rather than half-register
        _log_failure("connect", exc)
        hub.pop(sid)
        raise _refuse("internal", "the server could not register you") from None


def _attempt(hub: Hub, address: str) -> bool:
    try:
        return hub.admission.attempt(address)
    except Exception as exc:  # boundary: a broken limit store refuses, never crashes
        _log_failure("connect limit", exc)
        raise _refuse("internal", "the server could not register you") from None


def _room_for_one_more(hub: Hub, user_id: str) -> bool:
    """Under the per-account socket limit; no presence round trip without one."""
    if hub.admission.max_sockets_per_user is None:
        return True
    open_sockets = hub.presence.connections(user_id)
    return hub.admission.room_for_one_more(len(open_sockets))


def _identify(hub: Hub, auth: object) -> Principal | None:
    credentials = auth if isinstance(auth, Mapping) else None
    try:
        return hub.policy.identify(credentials)
    except Exception as exc:  # boundary: broken credentials never crash connect
        _log_failure("identify", exc)
        return None


def _register(hub: Hub, sid: str, principal: Principal) -> None:
    hub.add(Connection(sid, principal, ConnectionLimiter(hub.clock)))
    hub.presence.add_connection(principal.user_id, sid)
    server().enter_room(sid, user_room(principal.user_id), namespace=NAMESPACE)
    if principal.credential:
        key = credential_key(principal.credential)
        hub.presence.add_connection(key, sid)
        server().enter_room(sid, key, namespace=NAMESPACE)
    hub.start_background()


def on_disconnect(*_reason: object) -> None:
    """Leave every joined session; the others see ``peer_left`` unless replaced."""
    try:
        hub = current_hub()
        connection = hub.pop(_sid())
        if connection is None:
            return
        principal = connection.principal
        hub.presence.remove_connection(principal.user_id, connection.sid)
        if principal.credential:
            key = credential_key(principal.credential)
            hub.presence.remove_connection(key, connection.sid)
        for grant in list(connection.joined.values()):
            vacate(hub, connection, grant)
    except Exception as exc:  # boundary: a disconnect must never raise
        _log_failure("disconnect", exc)


def dispatch(
    hub: Hub, sid: str, event: str, action: Action, args: tuple[object, ...]
) -> Ack:
    """Run one client event: the checks every event shares, then ``action``."""
    try:
        connection = hub.get(sid)
        if connection is None:
            return error("unauthenticated", "connect again")
        if not connection.limiter.allow(event):
            return error("rate_limited", f"too many '{event}' events")
        if not hub.policy.allows(connection.principal, event):
            return error("forbidden", f"your role may not send '{event}'")
        return action(hub, connection, single_payload(args))
    except SignalingError as exc:
        return error(exc.code, exc.message)
    except Exception as exc:  # boundary: answer, never crash the server
        _log_failure(event, exc)
        return error("internal", "the server could not handle this event")


def _in_request(event: str, action: Action) -> Callable[..., Ack]:
    """A Flask-SocketIO handler: the request context is already pushed."""

    def handler(*args: object) -> Ack:
        return dispatch(current_hub(), _sid(), event, action, args)

    handler.__name__ = f"on_{event}"
    return handler


def _direct(
    app: Flask, hub: Hub, event: str, action: Action, app_context: bool
) -> Callable[..., Ack]:
    """A python-socketio handler (``sid`` first), with no request context."""

    def handler(sid: str, *args: object) -> Ack:
        if not app_context:
            return dispatch(hub, sid, event, action, args)
        with app.app_context():
            return dispatch(hub, sid, event, action, args)

    handler.__name__ = f"on_{event}"
    return handler


def _log_failure(event: str, exc: BaseException) -> None:
    stack = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("rtc %s failed: %s\n%s", event, type(exc).__name__, stack)


# event → action, for events that need the handshake's request context
IN_REQUEST: Mapping[str, Action] = {"join": join, "end": end}
# event → (action, needs an application context)
DIRECT: Mapping[str, tuple[Action, bool]] = {
    "signal": (signal, False),
    "leave": (leave, False),
    "chat": (chat, True),
    "quality": (quality, True),
    "media_mode": (media_mode, True),
}
ACTIONS: Mapping[str, Action] = {
    **IN_REQUEST,
    **{name: action for name, (action, _ctx) in DIRECT.items()},
}


def bind(app: Flask, hub: Hub) -> None:
    """Register the direct handlers on the server ``socketio.init_app`` just built."""
    for name, (action, app_context) in DIRECT.items():
        handler = _direct(app, hub, name, action, app_context)
        server().on(name, handler, namespace=NAMESPACE)


socketio.on_event("connect", on_connect, namespace=NAMESPACE)
socketio.on_event("disconnect", on_disconnect, namespace=NAMESPACE)
for _name, _action in IN_REQUEST.items():
    socketio.on_event(_name, _in_request(_name, _action), namespace=NAMESPACE)
