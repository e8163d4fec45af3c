"""The rating page: GET shows the form or where the rating stands, POST submits."""

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from .. import web_auth
from ..config import settings
from ..extensions import db
from ..services import rating_submission
from ..services.errors import Invalid, ServiceError
from ..services.rating_submission import RatingForm, RatingFormStatus
from . import bp
from .forms import plain_errors, posted_answers

# A rating that can no longer be given: the page says so (POST answers 409 or 410).
SETTLED = {
    RatingFormStatus.SUBMITTED: ("already_submitted", 409),
    RatingFormStatus.CLOSED: ("rating_closed", 410),
}


@bp.get("/sessions/<session_id>/rating")
def form(session_id: str) -> ResponseReturnValue:
    try:
        view = rating_submission.open_form(
            db.session(),
            current_user,
            session_id,
            settings(),
            origin=web_auth.origin(),
        )
    except ServiceError as exc:
        if exc.status == 404:
            raise
        return _state(exc.code, exc.status)
    if view.status != RatingFormStatus.PENDING:
        return _state(view.status, 200, view)
    return render_template("rating_forms/rate.html", view=view, chosen={}, errors={})


@bp.post("/sessions/<session_id>/rating")
def submit(session_id: str) -> ResponseReturnValue:
    session = rating_submission.session_for(db.session(), current_user, session_id)
    body = posted_answers(request.form)
    try:
        rating_submission.submit(
            db.session(),
            current_user,
            session,
            body,
            settings(),
            origin=web_auth.origin(),
        )
    except Invalid as exc:
        return _invalid(session_id, exc)
    except ServiceError as exc:
        key = f"{session.id}:{session.participant_role(current_user.id)}"
        return _state(exc.code, exc.status, key=key)
    flash("Thank you. Your rating is saved.", "info")
    return redirect(url_for(".form", session_id=session.id), 303)


def _invalid(session_id: str, exc: Invalid) -> tuple[str, int]:
    """The form again, with what was chosen and a plain message per question."""
    try:
        view = rating_submission.open_form(
            db.session(),
            current_user,
            session_id,
            settings(),
            record=False,
            origin=web_auth.origin(),
        )
    except ServiceError as state:
        return _state(state.code, state.status)
    if view.status in SETTLED:  # nothing can be submitted any more: say why
        return _state(*SETTLED[view.status], view)
    errors, general = plain_errors(exc.details or {})
    page = render_template(
        "rating_forms/rate.html",
        view=view,
        chosen=request.form.to_dict(),
        errors=errors,
        general=general,
    )
    return page, 422


def _state(
    code: str, status: int, view: RatingForm | None = None, key: str | None = None
) -> tuple[str, int]:
    """Submitted, closed, not ended or unavailable: a page that says so. ``key``
    names the answers the browser kept, forgotten once nothing can be submitted."""
    if view is not None:
        key = f"{view.session.id}:{view.perspective}"
    page = render_template(
        "rating_forms/state.html", code=code, view=view, done_key=key
    )
    return page, status
