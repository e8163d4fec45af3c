"""Rating API: the caller's form, one submission, the caller's pending ratings."""

import json
from typing import Any, Literal

from flask import jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import AwareDatetime, BaseModel, Field

from .. import live
from ..extensions import db
from ..models import Rating
from ..services import ratings as rating_service
from ..services.errors import Invalid
from ..times import api_time
from . import bp, caller, page, page_args, parse
from .docs import operation
from .schemas import Strict

Perspective = Literal["client", "therapist"]


class RatingSubmit(Strict):
    answers: dict[str, int] = Field(
        description="item id → JSON integer within the item's range"
    )
    meta_answers: dict[str, int] | None = Field(
        default=None,
        description="therapist only: the optional meta-perception items",
    )


class ScoresOut(BaseModel):
    total: float | None
    subscales: dict[str, float | None]


class RatingOut(BaseModel):
    id: str
    perspective: Perspective
    instrument_id: str
    instrument_version: str
    answers: dict[str, int]
    meta_answers: dict[str, int] | None
    scores: ScoresOut
    submitted_at: AwareDatetime


class RatingCreated(BaseModel):
    rating: RatingOut


class ItemOut(BaseModel):
    id: str
    text: str
    subscale: str
    min: int
    max: int
    anchors: dict[str, str]
    optional: bool


class SubscaleOut(BaseModel):
    id: str
    label: str
    in_total: bool


class InstrumentOut(BaseModel):
    id: str
    version: str
    title: str
    perspective: Perspective
    subscales: list[SubscaleOut]
    items: list[ItemOut]


class RevealedScores(BaseModel):
    perspective: Literal["client"]
    total: float | None
    subscales: dict[str, float | None]


class RatingFormOut(BaseModel):
    status: Literal["pending", "submitted", "closed"]
    perspective: Perspective
    instrument: InstrumentOut | None
    meta_instrument: InstrumentOut | None
    closes_at: AwareDatetime
    submitted_at: AwareDatetime | None
    rating: RatingOut | None
    revealed_scores: RevealedScores | None
    visibility: str
    rating_url: str


class PendingOut(BaseModel):
    session_id: str
    perspective: Perspective
    modality: Literal["video", "audio", "chat", "in_person"]
    ended_at: AwareDatetime
    closes_at: AwareDatetime
    rating_url: str


class PendingList(BaseModel):
    items: list[PendingOut]
    next: str | None


def rating_out(row: Rating) -> dict[str, Any]:
    return {
        "id": row.id,
        "perspective": row.perspective,
        "instrument_id": row.instrument_id,
        "instrument_version": row.instrument_version,
        "answers": row.answers,
        "meta_answers": row.meta_answers,
        "scores": {"total": row.total, "subscales": row.subscales},
        "submitted_at": api_time(row.submitted_at),
    }


def _form_out(form: rating_service.RatingForm) -> dict[str, Any]:
    own = form.rating
    return {
        "status": form.status,
        "perspective": form.perspective,
        "instrument": form.instrument.form_dict() if form.instrument else None,
        "meta_instrument": form.meta.form_dict() if form.meta else None,
        "closes_at": api_time(form.closes_at),
        "submitted_at": api_time(own.submitted_at) if own else None,
        "rating": rating_out(own) if own else None,
        "revealed_scores": form.revealed,
        "visibility": form.visibility,
        "rating_url": live.rating_url(form.session),
    }


@bp.get("/sessions/<session_id>/rating")
@operation(
    method="GET",
    path="/sessions/{session_id}/rating",
    summary="Your rating form for an ended session, its status and your rating",
    response=RatingFormOut,
    errors=(403, 404, 409),
)
def rating_detail(session_id: str) -> ResponseReturnValue:
    form = rating_service.open_form(db.session(), caller(), session_id)
    return jsonify(_form_out(form))


def _body() -> tuple[object, object, dict[str, str]]:
    """(answers, meta_answers, field errors): the raw values stay available when
    the schema fails, so every bad item is reported at once."""
    try:
        body = parse(RatingSubmit)
    except Invalid as exc:
        raw = json.loads(request.get_data(cache=True))  # parse() saw an object
        return raw.get("answers"), raw.get("meta_answers"), dict(exc.details)
    return body.answers, body.meta_answers, {}


@bp.post("/sessions/<session_id>/rating")
@operation(
    method="POST",
    path="/sessions/{session_id}/rating",
    summary="Submit your rating once (it cannot be changed)",
    body=RatingSubmit,
    response=RatingCreated,
    status=201,
    errors=(400, 403, 404, 409, 410, 422),
)
def rating_submit(session_id: str) -> ResponseReturnValue:
    user = caller()
    session = rating_service.session_for(db.session(), user, session_id)
    answers, meta_answers, errors = _body()
    row = rating_service.submit(
        db.session(), user, session, answers, meta_answers, errors=errors
    )
    return jsonify({"rating": rating_out(row)}), 201


@bp.get("/ratings/pending")
@operation(
    method="GET",
    path="/ratings/pending",
    summary="Your ended sessions still waiting for your rating, oldest first",
    response=PendingList,
    errors=(403, 422),
    query={"limit": "1..100", "cursor": "from `next`"},
)
def ratings_pending() -> ResponseReturnValue:
    limit, offset = page_args()
    rows = rating_service.pending_for(
        db.session(), caller(), limit=limit + 1, offset=offset
    )
    items = [
        {
            "session_id": p.session.id,
            "perspective": p.perspective,
            "modality": p.session.modality,
            "ended_at": api_time(p.session.ended_at),
            "closes_at": api_time(p.closes_at),
            "rating_url": live.rating_url(p.session),
        }
        for p in rows
    ]
    return jsonify(page(items, limit, offset))
