"""The questionnaire before a session, the therapist's client page and settings."""

from typing import Any

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ratings import Registry

from .. import web_auth
from ..config import settings
from ..extensions import db
from ..models import TherapySession
from ..services import outcome_history, outcomes, scheduling
from ..services.errors import Conflict, Invalid, NotFound, ServiceError
from . import bp
from .forms import OutcomeSettingsForm, plain_errors, posted_answers


def _default_plan() -> outcomes.OutcomePlan:
    config = current_app.config
    return outcomes.OutcomePlan(
        tuple(config.get("OUTCOME_MEASURES", ())),
        int(config.get("OUTCOME_EVERY_N_SESSIONS", 1)),
    )


def _registry() -> Registry:
    return settings().instrument_registry()


def _pending(row: TherapySession) -> list[Any]:
    return outcomes.pending(
        db.session(), current_user, row, _default_plan(), _registry()
    )


@bp.before_app_request
def ask_before_the_call() -> ResponseReturnValue | None:
    """A client opening a session's join link answers what is due first."""
    if request.endpoint != "sessions.join" or request.method != "GET":
        return None
    if not current_user.is_authenticated or current_user.role != "client":
        return None
    session_id = str((request.view_args or {}).get("session_id", ""))
    try:
        row = scheduling.for_participant(db.session(), current_user, session_id)
    except ServiceError:
        return None  # the join view answers as it always does
    if not _pending(row):
        return None
    return redirect(url_for("outcomes.before", session_id=row.id))


@bp.get("/sessions/<session_id>/before")
def before(session_id: str) -> ResponseReturnValue:
    row = scheduling.for_participant(db.session(), current_user, session_id)
    ahead = request.args.get("ahead") == "1"
    due = _pending(row)
    if not due:
        return _onward(row, ahead)
    return _page(row, due, ahead, {}, {})


@bp.post("/sessions/<session_id>/before")
def submit(session_id: str) -> ResponseReturnValue:
    row = scheduling.for_participant(db.session(), current_user, session_id)
    ahead = request.form.get("ahead") == "1"
    measure = request.form.get("measure", "")
    args = (db.session(), current_user, row, measure)
    context = (_default_plan(), _registry())
    try:
        if "skip" in request.form:
            outcomes.skip(*args, *context, origin=web_auth.origin())
        else:
            answers = posted_answers(request.form)
            outcomes.answer(*args, answers, *context, origin=web_auth.origin())
    except Invalid as exc:
        due = _pending(row)
        errors = plain_errors(exc.details or {})
        return _page(row, due, ahead, request.form.to_dict(), errors), 422
    except (NotFound, Conflict):
        pass  # answered in another tab, or no longer due: go on
    return redirect(
        url_for(".before", session_id=row.id, ahead=1 if ahead else None), 303
    )


def _page(
    row: TherapySession,
    due: list[Any],
    ahead: bool,
    chosen: dict[str, str],
    errors: dict[str, str],
) -> str:
    return render_template(
        "outcomes/before.html",
        s=row,
        form=due[0],
        remaining=len(due) - 1,
        ahead=ahead,
        chosen=chosen,
        errors=errors,
    )


def _onward(row: TherapySession, ahead: bool) -> ResponseReturnValue:
    if ahead:
        flash("Thank you. Your therapist will see your answers.", "info")
        return redirect(url_for("dashboard.index"))
    return redirect(url_for("sessions.join", session_id=row.id))


def _client_history(client_id: str) -> outcome_history.ClientHistory:
    """The signed-in therapist's view of this client (page and plot alike)."""
    return outcome_history.client_history(
        db.session(),
        current_user,
        client_id,
        _registry(),
        settings().reveal_policy,
        origin=web_auth.origin(),
    )


@bp.get("/clients/<client_id>/outcomes")
def client_page(client_id: str) -> ResponseReturnValue:
    return render_template("outcomes/client.html", h=_client_history(client_id))


@bp.get("/clients/<client_id>/outcomes.svg")
def client_plot(client_id: str) -> ResponseReturnValue:
    from .plot import history_svg  # matplotlib only when a plot is asked for

    return Response(history_svg(_client_history(client_id)), mimetype="image/svg+xml")


@bp.post("/settings/outcomes")
def settings_update() -> ResponseReturnValue:
    form = settings_form()
    if form.validate_on_submit():
        plan = outcomes.OutcomePlan(
            tuple(form.measures.data or ()), form.every_n.data or 1
        )
        outcomes.save_plan(
            db.session(), current_user, plan, _registry(), origin=web_auth.origin()
        )
        flash("Saved. New sessions ask the questionnaires you chose.", "info")
    else:
        flash("Please choose how often (1 to 52) and try again.", "error")
    return redirect(url_for("auth.settings"))


def settings_form() -> OutcomeSettingsForm:
    """The form, filled with the therapist's plan (or the deployment's)."""
    plan = outcomes.plan_for(db.session(), current_user.id, _default_plan())
    form = OutcomeSettingsForm(
        data=None
        if request.method == "POST"
        else {
            "measures": list(plan.measures),
            "every_n": plan.every_n,
        }
    )
    shipped = {m.id: m.title for m in _registry().outcomes()}
    order = [*_default_plan().measures, *sorted(shipped)]
    form.measures.choices = [
        (m, shipped[m]) for m in dict.fromkeys(order) if m in shipped
    ]
    return form


@bp.app_context_processor
def outcome_helpers() -> dict[str, Any]:
    """What the dashboards and the settings page ask of outcomes, queried only when
    a template calls them."""

    def flags(sessions: list[TherapySession]) -> dict[str, list[outcomes.Flag]]:
        return outcomes.flags_for(db.session(), sessions, _registry())

    def due(sessions: list[TherapySession]) -> set[str]:
        return set(
            outcomes.pending_many(
                db.session(), current_user, sessions, _default_plan(), _registry()
            )
        )

    return {
        "outcome_flags": flags,
        "outcomes_due": due,
        "outcome_settings_form": settings_form,
    }
