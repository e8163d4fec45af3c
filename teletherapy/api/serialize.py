"""Records → the response models of api/schemas.py, the shapes the OpenAPI document
shows; ``json()`` writes one the way every response is written (timestamps ``…Z``)."""

from typing import TypeVar

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

M = TypeVar("M", bound=BaseModel)


def json(model: BaseModel) -> Response:
    return jsonify(model.model_dump(mode="json"))


def _from(model: type[M], record: object, **computed: object) -> M:
    """``model`` from the record's attributes of the same names, and ``computed``."""
    fields = {n: getattr(record, n) for n in model.model_fields if n not in computed}
    return model.model_validate(fields | computed)


def user(u: User) -> UserOut:
    return _from(UserOut, u)


def me(u: User) -> MeOut:
    return _from(MeOut, u)


def session(s: TherapySession) -> SessionOut:
    return _from(SessionOut, s, join_url=url_for("sessions.join", session_id=s.id))


def message(m: ChatMessage, sender_role: str) -> MessageOut:
    return _from(MessageOut, m, sender_role=sender_role)


def rating(row: Rating) -> RatingOut:
    scores = ScoresOut(total=row.total, subscales=row.subscales)
    return _from(RatingOut, row, scores=scores)


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
