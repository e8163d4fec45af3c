"""The application's answers to signaling's questions (signaling.policy.Policy)."""

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_login import current_user

from signaling.policy import ChatResult, Denied, JoinGrant, Participant, Principal

from .access import SOCKET_ACCESS
from .api import serialize
from .extensions import db
from .live import rating_url
from .models import QualitySample, TherapySession, User
from .services import audit, chat, ice, scheduling, tokens
from .services.errors import ServiceError


class RtcPolicy:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def identify(self, auth: Mapping[str, object] | None) -> Principal | None:
        token = auth.get("token") if auth else None
        if isinstance(token, str):
            found = tokens.resolve(db.session, token)
            user = found[0] if found else None
        elif current_user and current_user.is_authenticated:
            user = current_user._get_current_object()
        else:
            user = None
        if user is None or user.role not in SOCKET_ACCESS["connect"]:
            return None
        return Principal(user_id=user.id, role=user.role)

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
        if row.status in ("ended", "cancelled") or row.modality == "in_person":
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
        scheduling.mark_live(db.session, session_id)

    def chat_history(
        self, principal: Principal, session_id: str
    ) -> list[dict[str, Any]]:
        row = db.session.get(TherapySession, session_id)
        if row is None:
            return []
        audit.record(db.session, "chat.read", principal.user_id, "session", session_id)
        db.session.commit()
        return [
            serialize.message(m, row.participant_role(m.sender_id) or "client")
            for m in chat.history(db.session, session_id)
        ]

    def record_chat(
        self, principal: Principal, session_id: str, text: str, client_msg_id: str
    ) -> ChatResult | Denied:
        row = db.session.get(TherapySession, session_id)
        role = row.participant_role(principal.user_id) if row else None
        if row is None or role is None:
            return Denied("not_found", "no such session")
        if row.status in ("ended", "cancelled"):
            return Denied("session_closed", f"this session is {row.status}")
        message, created = chat.record(
            db.session, session_id, principal.user_id, text, client_msg_id
        )
        return ChatResult(serialize.message(message, role), created)

    def record_quality(
        self, principal: Principal, session_id: str, sample: Mapping[str, float | int]
    ) -> None:
        db.session.add(
            QualitySample(session_id=session_id, user_id=principal.user_id, **sample)
        )
        db.session.commit()

    def end_session(
        self, principal: Principal, session_id: str
    ) -> Mapping[str, str] | Denied:
        user = db.session.get(User, principal.user_id)
        try:
            row = scheduling.end(db.session, user, session_id)
        except ServiceError as exc:
            code = {403: "forbidden", 404: "not_found"}.get(
                exc.status, "session_closed"
            )
            return Denied(code, exc.message)
        url = rating_url(row)
        return {row.therapist_id: url, row.client_id: url}

    def ice_servers(self, principal: Principal) -> list[dict[str, Any]]:
        return ice.ice_servers(self.app.config, principal.user_id)
