"""What each ``/rtc`` event does once its connection is known and not throttled.

Rooms are named here, on the server (``session:{id}``). A connection is in a
session when this process recorded its join: that local state is what every
event after ``join`` is authorized from, with no presence or database round
trip. A newer connection that replaces it from another process makes presence
publish the lost place, and the hub drops the join (``Hub.lose_place``).
``signal`` never touches the policy beyond its role table: it is authorized
from the join state alone, and its payload is relayed unread and never logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from signaling.credentials import error_body
from signaling.hub import NAMESPACE, Connection, Hub, logger, server, session_room
from signaling.messages import (
    Ack,
    ChatMessage,
    MediaModeMessage,
    QualityMessage,
    SessionRef,
    SignalingError,
    SignalMessage,
    ok,
    parse,
    session_of,
)
from signaling.policy import Denied, JoinGrant, Participant

_DENIED_MESSAGES = {
    "not_found": "no such session",
    "session_closed": "the session has ended",
    "forbidden": "only the therapist can do this",
}


def _emit(event: str, data: Any, to: str, skip_sid: str | None = None) -> None:
    server().emit(event, data, to=to, skip_sid=skip_sid, namespace=NAMESPACE)


def _refuse(denied: Denied) -> SignalingError:
    message = denied.message or _DENIED_MESSAGES.get(denied.code, "refused")
    return SignalingError(denied.code, message)


def _require_joined(connection: Connection, session_id: str) -> JoinGrant:
    grant = connection.joined.get(session_id)
    if grant is None:
        raise SignalingError("not_joined", "join the session first")
    return grant


def _require_active(hub: Hub, connection: Connection) -> None:
    if not hub.policy.is_active(connection.principal):
        _sign_out(connection)


def _require_credential(hub: Hub, connection: Connection) -> None:
    """The credential that opened the socket must still hold (``join``, ``end``):
    not past ``expires_at`` (the hub's wall clock), then not revoked or ended
    (the policy). If not, every socket it opened closes with the reason."""
    principal = connection.principal
    lapsed = (
        principal.expires_at is not None and hub.wall_clock() >= principal.expires_at
    )
    denied = Denied("session_expired") if lapsed else None
    denied = denied or hub.policy.check_credential(principal)
    if denied is None:
        return
    from signaling import disconnect_credential  # late: the package imports us

    code, message = denied.code, denied.message
    if not disconnect_credential(principal.credential, code=code, message=message):
        body = error_body(code, message)  # a policy without credential names
        _emit("error", body, connection.sid)
        server().disconnect(connection.sid, namespace=NAMESPACE)
    raise SignalingError("unauthenticated", "sign in again")


def _sign_out(connection: Connection) -> NoReturn:
    """The account may no longer act: close all its sockets and refuse."""
    from signaling import disconnect_user  # late: the package imports us

    disconnect_user(connection.principal.user_id)
    raise SignalingError("unauthenticated", "sign in again")


def _refuse_write(connection: Connection, denied: Denied) -> NoReturn:
    """A write the policy refused; an inactive account is signed out everywhere."""
    if denied.code == "unauthenticated":
        _sign_out(connection)
    raise _refuse(denied)


def _drop(hub: Hub, sid: str, session_id: str) -> None:
    hub.drop_joined(sid, session_id)
    server().leave_room(sid, session_room(session_id), namespace=NAMESPACE)


def _peer(participant: Participant) -> dict[str, str]:
    return {"user_id": participant.user_id, "role": participant.role}


def join(hub: Hub, connection: Connection, payload: object) -> Ack:
    """Enter a session's room; see the contract for the ack."""
    session_id = parse(SessionRef, payload).session_id
    _require_active(hub, connection)
    _require_credential(hub, connection)
    grant = _grant(hub, connection, session_id)
    history = hub.policy.chat_history(connection.principal, session_id)
    ice_servers = hub.policy.ice_servers(connection.principal)
    me = {"user_id": connection.principal.user_id, "role": grant.role}
    if _take_place(hub, connection, grant):
        room = session_room(session_id)
        _emit("peer_joined", me, room, skip_sid=connection.sid)
    peers, live = _others_present(hub, grant, connection.principal.user_id)
    return ok(
        self=me,
        peers=peers,
        ice_servers=ice_servers,
        polite=grant.role == "client",
        state="live" if live else "waiting",
        chat=history,
    )


def _others_present(
    hub: Hub, grant: JoinGrant, me: str
) -> tuple[list[dict[str, str]], bool]:
    """The other participants present, and whether everyone is (``live``)."""
    ids = [p.user_id for p in grant.participants]
    present = hub.presence.holders(grant.session_id, ids)
    live = len(present) == len(ids)
    if live and grant.status != "live":
        _mark_live_once(hub, grant.session_id)
    others = [p for p in grant.participants if p.user_id in present]
    return [_peer(p) for p in others if p.user_id != me], live


def _grant(hub: Hub, connection: Connection, session_id: str) -> JoinGrant:
    decision = hub.policy.can_join(connection.principal, session_id)
    if isinstance(decision, Denied):
        raise _refuse(decision)
    me = connection.principal.user_id
    if not any(p.user_id == me for p in decision.participants):
        raise _refuse(Denied("not_found"))  # a policy bug must not open a room
    return decision


def _me(grant: JoinGrant, user_id: str) -> Participant:
    return next(p for p in grant.participants if p.user_id == user_id)


def _take_place(hub: Hub, connection: Connection, grant: JoinGrant) -> bool:
    """Claim the user's place; ``True`` unless this connection already had it."""
    session_id, sid = grant.session_id, connection.sid
    had_it = hub.joined(sid, session_id) is not None
    previous = hub.presence.claim(session_id, connection.principal.user_id, sid)
    server().enter_room(sid, session_room(session_id), namespace=NAMESPACE)
    if not hub.set_joined(sid, grant):  # disconnected mid-join: leave no ghost
        hub.presence.release(session_id, connection.principal.user_id, sid)
        raise SignalingError("unauthenticated", "connect again")
    if previous is not None:
        _emit("replaced", {"session_id": session_id}, previous)
        _drop(hub, previous, session_id)
    return previous is not None or not had_it


def _mark_live_once(hub: Hub, session_id: str) -> None:
    if not hub.presence.first_live(session_id):
        return
    try:
        hub.policy.mark_live(session_id)
    except Exception as exc:  # the call goes on; the next join retries
        hub.presence.forget_live(session_id)
        logger.error("mark_live failed: %s", type(exc).__name__)


def vacate(hub: Hub, connection: Connection, grant: JoinGrant) -> None:
    """Give up the place; tell the others unless a newer connection holds it."""
    me = connection.principal.user_id
    if hub.presence.release(grant.session_id, me, connection.sid):
        room = session_room(grant.session_id)
        _emit("peer_left", _peer(_me(grant, me)), room, skip_sid=connection.sid)


def signal(hub: Hub, connection: Connection, payload: object) -> Ack:
    """Relay an SDP description or ICE candidate to the other participant."""
    session_id = session_of(payload)
    _require_joined(connection, session_id)
    message = parse(SignalMessage, payload)
    relay = message.relay(connection.principal.user_id)
    _emit("signal", relay, session_room(session_id), skip_sid=connection.sid)
    return ok()


def chat(hub: Hub, connection: Connection, payload: object) -> Ack:
    """Store a chat message once; send it to the others only when it is new. The
    policy checks the account is active in the write's transaction."""
    session_id = session_of(payload)
    _require_joined(connection, session_id)
    message = parse(ChatMessage, payload)
    result = hub.policy.record_chat(
        connection.principal, session_id, message.text, message.client_msg_id
    )
    if isinstance(result, Denied):
        _refuse_write(connection, result)
    if result.created:
        room = session_room(session_id)
        _emit("chat", result.message, room, skip_sid=connection.sid)
    return ok(message=result.message)


def quality(hub: Hub, connection: Connection, payload: object) -> Ack:
    """Store one technical quality sample; the policy checks the account is
    active in the same transaction (``Denied("unauthenticated")`` if not)."""
    session_id = session_of(payload)
    _require_joined(connection, session_id)
    message = parse(QualityMessage, payload)
    result = hub.policy.record_quality(
        connection.principal, session_id, message.sample()
    )
    if isinstance(result, Denied):
        _refuse_write(connection, result)
    return ok()


def media_mode(hub: Hub, connection: Connection, payload: object) -> Ack:
    """Store a switch to audio only (or back) beside the quality samples, then
    tell the others (without the numbers); the policy checks the account is
    active in the same transaction, as for ``quality``."""
    session_id = session_of(payload)
    _require_joined(connection, session_id)
    message = parse(MediaModeMessage, payload)
    result = hub.policy.record_media_mode(
        connection.principal,
        session_id,
        message.audio_only,
        message.reason,
        message.sample(),
    )
    if isinstance(result, Denied):
        _refuse_write(connection, result)
    relay = message.relay(connection.principal.user_id)
    _emit("media_mode", relay, session_room(session_id), skip_sid=connection.sid)
    return ok()


def end(hub: Hub, connection: Connection, payload: object) -> Ack:
    """End the session (therapist); each participant gets their rating URL."""
    session_id = session_of(payload)
    grant = _require_joined(connection, session_id)
    parse(SessionRef, payload)
    if grant.role != "therapist":
        raise _refuse(Denied("forbidden"))
    _require_active(hub, connection)
    _require_credential(hub, connection)
    urls = hub.policy.end_session(connection.principal, session_id)
    if isinstance(urls, Denied):
        raise _refuse(urls)
    close_room(hub, session_id, urls)
    return ok(session_id=session_id)


def close_room(hub: Hub, session_id: str, rating_urls: Mapping[str, str]) -> None:
    """Send each present participant (keys: user ids) ``session_ended``, then
    empty the room so later events get ``not_joined`` and no ``peer_left``."""
    present = hub.presence.holders(session_id, list(rating_urls))
    for user_id, sid in present.items():
        body = {"session_id": session_id, "rating_url": rating_urls.get(user_id)}
        _emit("session_ended", body, sid)
    for user_id, sid in present.items():
        hub.presence.release(session_id, user_id, sid)
        _drop(hub, sid, session_id)
    hub.presence.forget_live(session_id)


def leave(hub: Hub, connection: Connection, payload: object) -> Ack:
    """Leave the session's room; the others get ``peer_left``."""
    session_id = session_of(payload)
    grant = _require_joined(connection, session_id)
    parse(SessionRef, payload)
    _drop(hub, connection.sid, session_id)
    vacate(hub, connection, grant)
    return ok()
