"""API views: parse, call one service, serialize."""

from flask import abort, current_app, jsonify
from flask.typing import ResponseReturnValue

import signaling

from .. import live, mailer, web_auth
from ..auth import sign_in
from ..errors import json_error
from ..extensions import db, limiter
from ..models import User
from ..reminders import calendar_mails
from ..services import audit, chat, scheduling, tokens, two_factor
from ..web_auth import api_token
from . import bp, caller, page, page_args, parse, serialize
from .docs import build, route
from .paging import PAGING
from .schemas import (
    MeOut,
    MessageList,
    SessionCreate,
    SessionList,
    SessionOut,
    SessionReschedule,
    TokenOut,
    TokenRequest,
)


@route(bp, "GET", "/openapi.json", summary="This document", public=True)
def openapi() -> ResponseReturnValue:
    return jsonify(build())


@route(
    bp,
    "POST",
    "/auth/token",
    summary="Exchange e-mail and password for a token",
    body=TokenRequest,
    response=TokenOut,
    public=True,
    errors=(400, 401, 422, 429),
)
@limiter.limit(sign_in.auth_limit)
@sign_in.account_limit
def token_create() -> ResponseReturnValue:
    body = parse(TokenRequest)
    user = sign_in.check(body.email, body.password)
    if user is None:
        abort(401, description="e-mail or password is wrong, or sign-in is paused")
    if two_factor.enabled(user):
        refused = _second_factor_refused(user, body.totp_code)
        if refused is not None:
            return refused
    token, row = tokens.issue(
        db.session(),
        user,
        current_app.config["TOKEN_TTL_HOURS"],
        origin=web_auth.origin(),
    )
    return serialize.json(
        TokenOut(token=token, expires_at=row.expires_at, user=serialize.user(user))
    )


def _second_factor_refused(user: User, code: str | None) -> ResponseReturnValue | None:
    """401 unless ``code`` is a current code or an unused recovery code (each works
    once; the code step's pauses apply as on the sign-in page)."""
    if not code:
        return json_error(
            401,
            "this account signs in with a second factor: send totp_code, a current "
            "code of the authenticator app or a recovery code",
            code="totp_required",
        )
    if not two_factor.verify_second_factor(
        db.session(), user, code, origin=web_auth.origin(), stage="token"
    ):
        return json_error(
            401,
            "the code is wrong, already used, or the code step is paused",
            code="totp_invalid",
        )
    return None


@route(bp, "DELETE", "/auth/token", summary="Revoke the calling token", status=204)
def token_delete() -> ResponseReturnValue:
    row = api_token()
    if row is None:
        abort(401)
    credential = tokens.credential(row)
    tokens.revoke(db.session(), row, origin=web_auth.origin())
    signaling.disconnect_credential(credential)  # its sockets close too
    return "", 204


@route(bp, "GET", "/me", summary="The calling user", response=MeOut)
def me() -> ResponseReturnValue:
    return serialize.json(serialize.me(caller()))


@route(
    bp,
    "GET",
    "/sessions",
    summary="The caller's sessions, newest first",
    response=SessionList,
    errors=(422,),
    query=PAGING,
)
def sessions_list() -> ResponseReturnValue:
    limit, offset = page_args()
    rows = scheduling.list_for(db.session(), caller(), limit=limit + 1, offset=offset)
    items = [serialize.session(s) for s in rows]
    return serialize.json(SessionList.model_validate(page(items, limit, offset)))


@route(
    bp,
    "POST",
    "/sessions",
    summary="Schedule a session with a client in your caseload",
    body=SessionCreate,
    response=SessionOut,
    status=201,
    errors=(400, 403, 422),
)
def sessions_create() -> ResponseReturnValue:
    body = parse(SessionCreate)
    row = scheduling.schedule(
        db.session(),
        caller(),
        **body.model_dump(),
        origin=web_auth.origin(),
        notify=calendar_mails,
    )
    mailer.kick()
    return serialize.json(serialize.session(row)), 201


@route(
    bp,
    "GET",
    "/sessions/<session_id>",
    summary="One of your sessions",
    response=SessionOut,
    errors=(404,),
)
def session_detail(session_id: str) -> ResponseReturnValue:
    row = scheduling.for_participant(db.session(), caller(), session_id)
    audit.write(
        db.session(),
        "session.read",
        caller().id,
        "session",
        row.id,
        origin=web_auth.origin(),
    )
    return serialize.json(serialize.session(row))


@route(
    bp,
    "POST",
    "/sessions/<session_id>/end",
    summary="End a live session (therapist)",
    response=SessionOut,
    errors=(403, 404, 409),
)
def session_end(session_id: str) -> ResponseReturnValue:
    row = scheduling.end(db.session(), caller(), session_id, origin=web_auth.origin())
    live.notify_ended(row)
    return serialize.json(serialize.session(row))


@route(
    bp,
    "POST",
    "/sessions/<session_id>/start",
    summary="Start an in-person session (therapist)",
    response=SessionOut,
    errors=(403, 404, 409),
)
def session_start(session_id: str) -> ResponseReturnValue:
    row = scheduling.start_in_person(
        db.session(), caller(), session_id, origin=web_auth.origin()
    )
    return serialize.json(serialize.session(row))


@route(
    bp,
    "POST",
    "/sessions/<session_id>/cancel",
    summary="Cancel a scheduled session (therapist)",
    response=SessionOut,
    errors=(403, 404, 409),
)
def session_cancel(session_id: str) -> ResponseReturnValue:
    row = scheduling.cancel(
        db.session(),
        caller(),
        session_id,
        origin=web_auth.origin(),
        notify=calendar_mails,
    )
    mailer.kick()
    return serialize.json(serialize.session(row))


@route(
    bp,
    "POST",
    "/sessions/<session_id>/reschedule",
    summary="Move a scheduled session to a new time (therapist)",
    body=SessionReschedule,
    response=SessionOut,
    errors=(400, 403, 404, 409, 422),
)
def session_reschedule(session_id: str) -> ResponseReturnValue:
    body = parse(SessionReschedule)
    row = scheduling.reschedule(
        db.session(),
        caller(),
        session_id,
        body.scheduled_start,
        body.duration_minutes,
        origin=web_auth.origin(),
        notify=calendar_mails,
    )
    mailer.kick()
    return serialize.json(serialize.session(row))


@route(
    bp,
    "GET",
    "/sessions/<session_id>/messages",
    summary="Chat history (participants)",
    response=MessageList,
    errors=(404, 422),
    query=PAGING,
)
def session_messages(session_id: str) -> ResponseReturnValue:
    user = caller()
    row = scheduling.for_participant(db.session(), user, session_id)
    limit, offset = page_args()
    msgs = chat.history(db.session(), row.id, limit=limit + 1, offset=offset)
    audit.write(
        db.session(), "chat.read", user.id, "session", row.id, origin=web_auth.origin()
    )
    items = [
        serialize.message(m, row.participant_role(m.sender_id) or "client")
        for m in msgs
    ]
    return serialize.json(MessageList.model_validate(page(items, limit, offset)))
