"""The application's answers to signaling's questions (signaling.policy.Policy)."""

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import Engine, bindparam, select

import signaling
from signaling.policy import ChatResult, Denied, JoinGrant, Participant, Principal

from . import web_auth
from .access import SOCKET_ACCESS
from .api import serialize
from .extensions import db
from .live import rating_url
from .models import Modality, SessionStatus, TherapySession, User, new_id
from .services import audit, chat, ice, scheduling, tokens
from .services.errors import ServiceError
from .services.quality import QualityWriter

logger = logging.getLogger("teletherapy.rtc")
# Built once: a statement built per call leaves reference cycles (its bind
# parameters) for the garbage collector, whose full passes stall every socket.
_CHAT_CHECK = (
    select(
        User.active,
        TherapySession.status,
        TherapySession.therapist_id,
        TherapySession.client_id,
    )
    .outerjoin(TherapySession, TherapySession.id == bindparam("session_id"))
    .where(User.id == bindparam("user_id"))
)


def _sample_row(
    principal: Principal, session_id: str, sample: Mapping[str, float | int]
) -> dict[str, Any]:
    """A quality_samples row naming every column. One group commit inserts
    samples and switches together with the first row's keys, and drops the other
    keys of later rows without a word: a switch behind a sample was stored as a
    plain sample (tests/test_rtc_media_mode.py)."""
    return {
        "id": new_id(),
        "session_id": session_id,
        "user_id": principal.user_id,
        "at": datetime.now(UTC),
        "frames_dropped": None,
        "audio_only": None,
        "switch_reason": None,
        **sample,
    }


def _engine(app: Flask) -> Engine:
    engine = app.extensions["database"].engine
    if not isinstance(engine, Engine):
        raise RuntimeError("the database is not bound (create_app does that)")
    return engine


class RtcPolicy:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.quality = QualityWriter(
            lambda: _engine(app),
            # the singleton's own methods: they reach its bound server when called
            signaling.socketio.start_background_task,
            signaling.socketio.sleep,
        )

    def identify(self, auth: Mapping[str, object] | None) -> Principal | None:
        """The token's or the cookie's user, with the credential that opened the
        socket and when it lapses (token expiry; the login's absolute limit)."""
        token = auth.get("token") if auth else None
        if isinstance(token, str):
            found = tokens.resolve(db.session(), token)
            if found is None:
                return None
            user, row = found
            name, expires_at = tokens.credential(row), row.expires_at.timestamp()
        else:
            login = web_auth.cookie_login()  # the pages' idle and absolute limits
            if login is None:
                return None
            user, login_at = login
            name = web_auth.login_credential(user, login_at)
            expires_at = web_auth.login_deadline(login_at, self.app.config)
        if user.role not in SOCKET_ACCESS["connect"]:
            return None
        if user.role in self.app.config["REQUIRE_2FA_ROLES"] and not user.totp_secret:
            return None  # enrolment first: no page and no socket before it
        return Principal(user.id, user.role, name, float(expires_at))

    def check_credential(self, principal: Principal) -> Denied | None:
        """On join and end: the token is still valid, or the cookie is the same
        login (same nonce: no logout since) within its absolute limit. An open
        socket is activity, so the idle limit applies at connect only; signaling
        itself refuses a credential past its ``expires_at``."""
        if principal.credential.startswith("token:"):
            valid = tokens.credential_valid(db.session(), principal.credential)
        else:
            login = web_auth.cookie_login(check_idle=False)
            valid = login is not None and (
                web_auth.login_credential(*login) == principal.credential
            )
        return None if valid else Denied("signed_out")

    def allows(self, principal: Principal, event: str) -> bool:
        return principal.role in SOCKET_ACCESS.get(event, frozenset())

    def is_active(self, principal: Principal) -> bool:
        user = db.session.get(User, principal.user_id)
        return bool(user and user.active)

    def can_join(self, principal: Principal, session_id: str) -> JoinGrant | Denied:
        row = db.session.get(TherapySession, session_id)
        role = row.participant_role(principal.user_id) if row else None
        if row is None or role is None:
            return Denied("not_found", "no such session")
        if (
            row.status in (SessionStatus.ENDED, SessionStatus.CANCELLED)
            or row.modality == Modality.IN_PERSON
        ):
            return Denied("session_closed", f"this session is {row.status}")
        return JoinGrant(
            session_id=row.id,
            role=role,
            modality=row.modality,
            participants=(
                Participant(row.therapist_id, "therapist"),
                Participant(row.client_id, "client"),
            ),
            status=row.status,
        )

    def mark_live(self, session_id: str) -> None:
        scheduling.mark_live(db.session(), session_id, origin=web_auth.origin())

    def chat_history(
        self, principal: Principal, session_id: str
    ) -> list[dict[str, Any]]:
        row = db.session.get(TherapySession, session_id)
        if row is None:
            return []
        audit.write(
            db.session(),
            "chat.read",
            principal.user_id,
            "session",
            session_id,
            origin=web_auth.origin(),
        )
        return [
            serialize.message(
                m, row.participant_role(m.sender_id) or "client"
            ).model_dump(mode="json")
            for m in chat.history(db.session(), session_id)
        ]

    def record_chat(
        self, principal: Principal, session_id: str, text: str, client_msg_id: str
    ) -> ChatResult | Denied:
        # the account check and the session in one prebuilt query, in the write's
        # transaction (columns, not an entity: this runs for every chat message)
        found = db.session.execute(
            _CHAT_CHECK, {"user_id": principal.user_id, "session_id": session_id}
        ).first()
        if found is None or not found.active:
            return Denied("unauthenticated", "sign in again")
        role = {found.therapist_id: "therapist", found.client_id: "client"}.get(
            principal.user_id
        )
        if found.status is None or role is None:
            return Denied("not_found", "no such session")
        if found.status in (SessionStatus.ENDED, SessionStatus.CANCELLED):
            return Denied("session_closed", f"this session is {found.status}")
        message, created = chat.record(
            db.session(), session_id, principal.user_id, text, client_msg_id
        )
        return ChatResult(
            serialize.message(message, role).model_dump(mode="json"), created
        )

    def record_quality(
        self, principal: Principal, session_id: str, sample: Mapping[str, float | int]
    ) -> Denied | None:
        return self._store(_sample_row(principal, session_id, sample))

    def record_media_mode(
        self,
        principal: Principal,
        session_id: str,
        audio_only: bool,
        reason: str,
        sample: Mapping[str, float | int],
    ) -> Denied | None:
        """A switch to audio only (or back) is a row among the session's quality
        samples, marked by ``audio_only`` and ``switch_reason``, stored by the
        same group commit (the account checked in its transaction)."""
        row = _sample_row(principal, session_id, sample)
        row.update(audio_only=audio_only, switch_reason=reason)
        return self._store(row)

    def _store(self, row: dict[str, Any]) -> Denied | None:
        if self.quality.write(row):
            return None
        return Denied("unauthenticated", "sign in again")

    def end_session(
        self, principal: Principal, session_id: str
    ) -> Mapping[str, str] | Denied:
        user = db.session.get_one(User, principal.user_id)  # never deleted
        try:
            row = scheduling.end(
                db.session(), user, session_id, origin=web_auth.origin()
            )
        except ServiceError as exc:
            code = {403: "forbidden", 404: "not_found"}.get(
                exc.status, "session_closed"
            )
            return Denied(code, exc.message)
        url = rating_url(row)
        return {row.therapist_id: url, row.client_id: url}

    def ice_servers(self, principal: Principal) -> list[dict[str, Any]]:
        return ice.ice_servers(self.app.config, principal.user_id)
