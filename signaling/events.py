"""Socket.IO handlers of the ``/rtc`` namespace.

Each client event runs: rate limit → payload shape and ``session_id`` →
joined? → field validation → policy → emit. Every one answers an ack
``{"ok": true, ...}`` or ``{"ok": false, "error": {"code", "message"}}``; only
:func:`_boundary` catches broad exceptions, and it logs their type, never their
text (it may quote a payload).

Importing this module registers the handlers on ``signaling.hub.socketio``; it
must happen before ``socketio.init_app`` (``signaling.init_app`` does it).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping

from flask import request
from flask_socketio import ConnectionRefusedError

from signaling.actions import (
    chat,
    end,
    join,
    leave,
    quality,
    signal,
    vacate,
)
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
    return str(request.sid)  # type: ignore[attr-defined]


def on_connect(auth: object = None) -> None:
    """Refuse foreign origins and unknown users; register the connection."""
    hub = current_hub()
    if not hub.origin_allowed(request.headers.get("Origin")):
        logger.info("rtc connect refused: origin not allowed")
        raise ConnectionRefusedError("origin_not_allowed")
    principal = _identify(hub, auth)
    if principal is None:
        raise ConnectionRefusedError("unauthenticated")
    sid = _sid()
    try:
        _register(hub, sid, principal)
    except Exception as exc:  # boundary: refuse rather than half-register
        _log_failure("connect", exc)
        hub.pop(sid)
        raise ConnectionRefusedError("internal") from None


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
    hub.start_heartbeat()


def on_disconnect(*_reason: object) -> None:
    """Leave every joined session; the others see ``peer_left`` unless replaced."""
    try:
        hub = current_hub()
        connection = hub.pop(_sid())
        if connection is None:
            return
        hub.presence.remove_connection(connection.principal.user_id, connection.sid)
        for grant in list(connection.joined.values()):
            vacate(hub, connection, grant)
    except Exception as exc:  # boundary: a disconnect must never raise
        _log_failure("disconnect", exc)


def _boundary(event: str, action: Action) -> Callable[..., Ack]:
    def handler(*args: object) -> Ack:
        try:
            hub = current_hub()
            connection = hub.get(_sid())
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

    handler.__name__ = f"on_{event}"
    return handler


def _log_failure(event: str, exc: BaseException) -> None:
    stack = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("rtc %s failed: %s\n%s", event, type(exc).__name__, stack)


ACTIONS: Mapping[str, Action] = {
    "join": join,
    "signal": signal,
    "chat": chat,
    "quality": quality,
    "end": end,
    "leave": leave,
}

socketio.on_event("connect", on_connect, namespace=NAMESPACE)
socketio.on_event("disconnect", on_disconnect, namespace=NAMESPACE)
for _name, _action in ACTIONS.items():
    socketio.on_event(_name, _boundary(_name, _action), namespace=NAMESPACE)
