"""Records → the response models of api/schemas.py, the shapes the OpenAPI document
shows; ``json()`` writes one the way every response is written (timestamps ``…Z``)."""

from flask import Response, jsonify, url_for
from pydantic import BaseModel

from ratings import Instrument

from ..live import rating_url
from ..models import ChatMessage, Rating, TherapySession, User
from ..services import rating_submission
from .schemas import (
    InstrumentOut,
    MeOut,
    MessageOut,
    PendingOut,
    RatingFormOut,
    RatingOut,
    RevealedScores,
    ScoresOut,
    SessionOut,
    UserOut,
)


def json(model: BaseModel) -> Response:
    return jsonify(model.model_dump(mode="json"))


def user(u: User) -> UserOut:
    return UserOut.model_validate(
        {"id": u.id, "role": u.role, "display_name": u.display_name}
    )


def me(u: User) -> MeOut:
    return MeOut(**user(u).model_dump(), email=u.email, timezone=u.timezone)


def session(s: TherapySession) -> SessionOut:
    return SessionOut.model_validate(
        {
            "id": s.id,
            "therapist_id": s.therapist_id,
            "client_id": s.client_id,
            "modality": s.modality,
            "scheduled_start": s.scheduled_start,
            "duration_minutes": s.duration_minutes,
            "status": s.status,
            "started_at": s.started_at,
            "ended_at": s.ended_at,
            "join_url": url_for("sessions.join", session_id=s.id),
        }
    )


def message(m: ChatMessage, sender_role: str) -> MessageOut:
    return MessageOut.model_validate(
        {
            "id": m.id,
            "session_id": m.session_id,
            "sender_id": m.sender_id,
            "sender_role": sender_role,
            "text": m.text,
            "sent_at": m.sent_at,
            "client_msg_id": m.client_msg_id,
            "seq": m.seq,
        }
    )


def rating(row: Rating) -> RatingOut:
    return RatingOut.model_validate(
        {
            "id": row.id,
            "perspective": row.perspective,
            "instrument_id": row.instrument_id,
            "instrument_version": row.instrument_version,
            "answers": row.answers,
            "meta_answers": row.meta_answers,
            "scores": ScoresOut(total=row.total, subscales=row.subscales),
            "submitted_at": row.submitted_at,
        }
    )


def _instrument(form: Instrument | None) -> InstrumentOut | None:
    return None if form is None else InstrumentOut.model_validate(form.form_dict())


def rating_form(form: rating_submission.RatingForm) -> RatingFormOut:
    own = form.rating
    revealed = form.revealed
    return RatingFormOut.model_validate(
        {
            "status": form.status,
            "perspective": form.perspective,
            "instrument": _instrument(form.instrument),
            "meta_instrument": _instrument(form.meta),
            "closes_at": form.closes_at,
            "submitted_at": own.submitted_at if own else None,
            "rating": rating(own) if own else None,
            "revealed_scores": RevealedScores.model_validate(revealed)
            if revealed
            else None,
            "visibility": form.visibility,
            "rating_url": rating_url(form.session),
        }
    )


def pending(p: rating_submission.Pending) -> PendingOut:
    return PendingOut.model_validate(
        {
            "session_id": p.session.id,
            "perspective": p.perspective,
            "modality": p.session.modality,
            "ended_at": p.session.ended_at,
            "closes_at": p.closes_at,
            "rating_url": rating_url(p.session),
        }
    )
