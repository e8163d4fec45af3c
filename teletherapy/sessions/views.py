"""Scheduling and the session lifecycle from the dashboard."""

from collections.abc import Iterable
from typing import Protocol
from zoneinfo import ZoneInfo

from flask import (
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import Session
from wtforms import SelectChoice

import signaling

from .. import live, mailer, web_auth
from ..errors import json_error
from ..extensions import db
from ..models import Modality, SessionStatus, TherapySession, User
from ..reminders import calendar_mails
from ..services import accounts, audit, ice, scheduling
from ..services.errors import ServiceError
from . import bp
from .forms import ActionForm, RescheduleForm, ScheduleForm


@bp.post("/")
def create() -> ResponseReturnValue:
    form = ScheduleForm()
    form.client_id.choices = [
        SelectChoice(c.id, c.display_name)
        for c in accounts.caseload(db.session(), current_user.id)
    ]
    if not form.validate_on_submit():
        for field, errors in form.errors.items():
            flash(f"{getattr(form, field).label.text}: {errors[0]}", "error")
        return redirect(url_for("dashboard.therapist"))
    start = form.scheduled_start.data.replace(tzinfo=ZoneInfo(current_user.timezone))
    try:
        scheduling.schedule(
            db.session(),
            current_user,
            client_id=form.client_id.data,
            modality=form.modality.data,
            scheduled_start=start,
            duration_minutes=form.duration_minutes.data,
            origin=web_auth.origin(),
            notify=calendar_mails,
        )
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        mailer.kick()
        flash("Session scheduled. Your client can see it on their dashboard.", "info")
    return redirect(url_for("dashboard.therapist"))


@bp.post("/<session_id>/reschedule")
def reschedule(session_id: str) -> ResponseReturnValue:
    form = RescheduleForm()
    if not form.validate_on_submit():
        for field, errors in form.errors.items():
            flash(f"{getattr(form, field).label.text}: {errors[0]}", "error")
        return redirect(url_for("dashboard.index"))
    start = form.scheduled_start.data.replace(tzinfo=ZoneInfo(current_user.timezone))
    try:
        scheduling.reschedule(
            db.session(),
            current_user,
            session_id,
            start,
            form.duration_minutes.data,
            origin=web_auth.origin(),
            notify=calendar_mails,
        )
    except ServiceError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
    else:
        mailer.kick()
        flash("Session moved. You and your client get the new time by e-mail.", "info")
    return redirect(url_for("dashboard.index"))


class _Action(Protocol):
    """scheduling.cancel, start_in_person and end."""

    def __call__(
        self, tx: Session, user: User, session_id: str, *, origin: str | None
    ) -> TherapySession: ...


def _run(fn: _Action, session_id: str, done: str) -> TherapySession | None:
    """The service's result, or None after telling the user why it could not be done."""
    if not ActionForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return None
    try:
        row = fn(db.session(), current_user, session_id, origin=web_auth.origin())
    except ServiceError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
        return None
    flash(done, "info")
    return row


def _cancel(
    tx: Session, user: User, session_id: str, *, origin: str | None
) -> TherapySession:
    """scheduling.cancel with the calendar mails to both participants."""
    return scheduling.cancel(tx, user, session_id, origin=origin, notify=calendar_mails)


@bp.post("/<session_id>/cancel")
def cancel(session_id: str) -> ResponseReturnValue:
    if _run(_cancel, session_id, "Session cancelled.") is not None:
        mailer.kick()
    return redirect(url_for("dashboard.index"))


@bp.post("/<session_id>/start")
def start(session_id: str) -> ResponseReturnValue:
    _run(scheduling.start_in_person, session_id, "Session started.")
    return redirect(url_for("dashboard.index"))


@bp.post("/<session_id>/end")
def end(session_id: str) -> ResponseReturnValue:
    row = _run(
        scheduling.end, session_id, "Session ended. Please rate it while it is fresh."
    )
    if row is None:
        return redirect(url_for("dashboard.index"))
    live.notify_ended(row)
    return redirect(live.rating_url(row))


@bp.get("/<session_id>")
def join(session_id: str) -> ResponseReturnValue:
    row = scheduling.for_participant(db.session(), current_user, session_id)
    if row.status == SessionStatus.ENDED:
        return redirect(live.rating_url(row))
    if row.status == SessionStatus.CANCELLED or row.modality == Modality.IN_PERSON:
        reason = (
            "was cancelled"
            if row.status == SessionStatus.CANCELLED
            else "happens in person"
        )
        flash(f"This session {reason}; there is no call to join.", "info")
        return redirect(url_for("dashboard.index"))
    role = row.participant_role(current_user.id)
    other = row.client if role == "therapist" else row.therapist
    audit.write(
        db.session(),
        "session.open",
        current_user.id,
        "session",
        row.id,
        origin=web_auth.origin(),
    )
    return render_template("sessions/call.html", s=row, role=role, other=other)


@bp.get("/waiting")
def waiting() -> ResponseReturnValue:
    """The therapist's sessions whose client is in the waiting room (dashboard polls it)."""
    rows = scheduling.list_for(db.session(), current_user, limit=200)
    return jsonify({"waiting": waiting_room(rows)})


def waiting_room(rows: Iterable[TherapySession]) -> list[str]:
    presence = signaling.current_hub().presence
    online = [
        s
        for s in rows
        if s.status in (SessionStatus.SCHEDULED, SessionStatus.LIVE)
        and s.modality != Modality.IN_PERSON
    ]
    return [
        s.id
        for s in online
        if presence.holders(s.id, [s.client_id, s.therapist_id]).keys() == {s.client_id}
    ]


@bp.get("/ice-servers")
def ice_servers() -> ResponseReturnValue:
    """Fresh STUN/TURN servers; the call page fetches them before TURN credentials expire."""
    cfg = current_app.config
    return jsonify(
        {
            "ice_servers": ice.ice_servers(cfg, current_user.id),
            "ttl_seconds": int(cfg["TURN_TTL_SECONDS"]),
            "ice_transport_policy": cfg["ICE_TRANSPORT_POLICY"],
        }
    )


@bp.get("/socket-origin")
def socket_origin() -> ResponseReturnValue:
    """Whether /rtc accepts the page's origin: the call page asks after its socket
    was refused at the handshake, which tells the browser no reason."""
    origin = request.args.get("origin", "")
    if not 0 < len(origin) <= 200:
        message = f"'origin' must be the page's origin (got {len(origin)} characters)"
        return json_error(400, message)
    accepted = signaling.current_hub().origin_allowed(origin)
    return jsonify({"origin": origin, "accepted": accepted})
