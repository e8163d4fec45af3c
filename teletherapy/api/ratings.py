"""Rating API: the caller's form, one submission, the caller's pending ratings."""

from flask.typing import ResponseReturnValue

from .. import web_auth
from ..config import settings
from ..extensions import db
from ..services import rating_submission
from . import bp, caller, json_object, page, page_args, serialize
from .docs import route
from .paging import PAGING
from .schemas import PendingList, RatingCreated, RatingFormOut, RatingSubmit


@route(
    bp,
    "GET",
    "/sessions/<session_id>/rating",
    summary="Your rating form for an ended session, its status and your rating",
    response=RatingFormOut,
    errors=(403, 404, 409),
)
def rating_detail(session_id: str) -> ResponseReturnValue:
    form = rating_submission.open_form(
        db.session(), caller(), session_id, settings(), origin=web_auth.origin()
    )
    return serialize.json(serialize.rating_form(form))


@route(
    bp,
    "POST",
    "/sessions/<session_id>/rating",
    summary="Submit your rating once (it cannot be changed)",
    body=RatingSubmit,
    response=RatingCreated,
    status=201,
    errors=(400, 403, 404, 409, 410, 422),
)
def rating_submit(session_id: str) -> ResponseReturnValue:
    user = caller()
    session = rating_submission.session_for(db.session(), user, session_id)
    # Read once, by the service: the items can only be checked against the form.
    body = json_object()
    row = rating_submission.submit(
        db.session(), user, session, body, settings(), origin=web_auth.origin()
    )
    return serialize.json(RatingCreated(rating=serialize.rating(row))), 201


@route(
    bp,
    "GET",
    "/ratings/pending",
    summary="Your ended sessions still waiting for your rating, oldest first",
    response=PendingList,
    errors=(403, 422),
    query=PAGING,
)
def ratings_pending() -> ResponseReturnValue:
    limit, offset = page_args()
    rows = rating_submission.pending_for(
        db.session(), caller(), settings(), limit=limit + 1, offset=offset
    )
    items = [serialize.pending(p) for p in rows]
    return serialize.json(PendingList.model_validate(page(items, limit, offset)))
