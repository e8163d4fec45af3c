"""Administration: accounts and caseloads."""

import csv
import io
import json
from collections.abc import Mapping

from flask import (
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import Select, select
from wtforms import SelectChoice

import signaling

from .. import mailer, web_auth
from ..auth.invite import composer, ttl_hours, ttl_words, when, words
from ..extensions import db
from ..models import AuditEvent, CaseloadAssignment, User
from ..services import accounts, audit, invitations, mail, tokens
from ..services.errors import Invalid, ServiceError
from ..sessions.forms import ActionForm
from ..times import page_time
from . import bp
from .forms import AssignForm, InviteForm


def _assign_form() -> AssignForm:
    users = list(
        db.session.scalars(select(User).where(User.active).order_by(User.display_name))
    )
    form = AssignForm()
    form.therapist_id.choices = [
        SelectChoice(u.id, u.display_name) for u in users if u.role == "therapist"
    ]
    form.client_id.choices = [
        SelectChoice(u.id, u.display_name) for u in users if u.role == "client"
    ]
    return form


def _invite_form() -> InviteForm:
    form = InviteForm()
    therapists = db.session.scalars(
        select(User)
        .where(User.active, User.role == "therapist")
        .order_by(User.display_name)
    )
    form.therapist_id.choices = [SelectChoice("", "No therapist")] + [
        SelectChoice(u.id, u.display_name) for u in therapists
    ]
    return form


@bp.get("/")
def index() -> ResponseReturnValue:
    users = list(
        db.session.scalars(select(User).order_by(User.role, User.display_name))
    )
    pairs = list(db.session.scalars(select(CaseloadAssignment)))
    names = {u.id: u.display_name for u in users}
    return render_template(
        "admin/index.html",
        users=users,
        pairs=pairs,
        invite_form=_invite_form(),
        invite_ttl=ttl_words(),
        invitations=invitations.listing(db.session(), current_user),
        names=names,
        mail_problems=mail.problems(db.session()),
        assign_form=_assign_form(),
        action_form=ActionForm(),
    )


@bp.post("/invitations")
def invite() -> ResponseReturnValue:
    """Invite someone of any role; a client may join a therapist's caseload."""
    form = _invite_form()
    if not form.validate_on_submit():
        for name, errors in form.errors.items():
            flash(f"{getattr(form, name).label.text}: {errors[0]}", "error")
        return redirect(url_for("admin.index"))
    therapist_id = form.therapist_id.data or None
    if form.role.data != "client":
        therapist_id = None  # only a client joins a caseload
    try:
        row = invitations.create(
            db.session(),
            email=form.email.data,
            display_name=form.display_name.data,
            role=form.role.data,
            inviter=current_user._get_current_object(),
            therapist_id=therapist_id,
            ttl_hours=ttl_hours(),
            compose=composer(current_user.display_name),
            origin=web_auth.origin(),
        )
    except ServiceError as exc:
        flash(words(exc), "error")
        return redirect(url_for("admin.index"))
    mailer.kick()
    flash(
        f"Invitation sent to {row.email}. The link works until {when(row.expires_at)}.",
        "info",
    )
    return redirect(url_for("admin.index"))


@bp.post("/users/<user_id>/active/<int:value>")
def set_active(user_id: str, value: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return redirect(url_for("admin.index"))
    user = accounts.get_user(db.session(), user_id)
    if user.id == current_user.id:
        flash("You cannot deactivate your own account.", "error")
        return redirect(url_for("admin.index"))
    if not value:
        tokens.revoke_all(db.session(), user.id)
    accounts.set_active(
        db.session(), user, bool(value), current_user.id, origin=web_auth.origin()
    )
    if not value:
        signaling.disconnect_user(user.id)
    flash(f"{user.display_name} is now {'active' if value else 'deactivated'}.", "info")
    return redirect(url_for("admin.index"))


@bp.post("/caseload")
def assign() -> ResponseReturnValue:
    form = _assign_form()
    if form.validate_on_submit():
        try:
            accounts.add_to_caseload(
                db.session(),
                accounts.get_user(db.session(), form.therapist_id.data),
                accounts.get_user(db.session(), form.client_id.data),
                current_user.id,
                origin=web_auth.origin(),
            )
            flash("Client added to the caseload.", "info")
        except ServiceError as exc:
            flash(exc.message, "error")
    else:
        flash("Choose a therapist and a client.", "error")
    return redirect(url_for("admin.index"))


AUDIT_PAGE = 100
MAX_PAGE = 10**6  # 100 million rows: every OFFSET stays far inside a BIGINT
FILTER_MAX = 64  # an action prefix or an actor id is far shorter


def _audit_query(args: Mapping[str, str]) -> Select[AuditEvent]:
    """The audit rows the filters select; 422 naming a filter no row could match."""
    bad = {
        key: f"must be at most {FILTER_MAX} characters without NUL"
        for key in ("action", "actor")
        if len(args.get(key, "")) > FILTER_MAX or "\x00" in args.get(key, "")
    }
    if bad:
        raise Invalid(
            f"The {' and '.join(bad)} filter {next(iter(bad.values()))}.", bad
        )
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    if args.get("action"):
        stmt = stmt.where(AuditEvent.action.startswith(args["action"]))
    if args.get("actor"):
        stmt = stmt.where(AuditEvent.actor_id == args["actor"])
    return stmt


def _page_number(raw: str) -> int:
    """?page= as 1..MAX_PAGE; 422 with the range for anything else."""
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 7 else 0
    if not 1 <= number <= MAX_PAGE:
        message = f"page must be a whole number from 1 to {MAX_PAGE} (got {raw[:20]!r})"
        raise Invalid(message, {"page": message})
    return number


@bp.get("/audit")
def audit_log() -> ResponseReturnValue:
    page = _page_number(request.args.get("page") or "1")
    stmt = (
        _audit_query(request.args).limit(AUDIT_PAGE + 1).offset((page - 1) * AUDIT_PAGE)
    )
    rows = list(db.session.scalars(stmt))
    audit.write(
        db.session(),
        "audit.read",
        current_user.id,
        "audit",
        None,
        origin=web_auth.origin(),
    )
    return render_template(
        "admin/audit.html",
        rows=rows[:AUDIT_PAGE],
        page=page,
        more=len(rows) > AUDIT_PAGE,
        args=request.args,
    )


@bp.get("/audit.csv")
def audit_export() -> ResponseReturnValue:
    stmt = _audit_query(request.args).order_by(None).order_by(AuditEvent.id)
    audit.write(
        db.session(),
        "audit.export",
        current_user.id,
        "audit",
        None,
        origin=web_auth.origin(),
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AUDIT_COLUMNS)
    for r in db.session.scalars(stmt):
        details = json.dumps(r.details or {}, sort_keys=True)
        writer.writerow(
            [
                r.id,
                page_time(r.at),
                r.actor_id,
                r.action,
                r.target_type,
                r.target_id,
                r.ip,
                details,
            ]
        )
    headers = {"Content-Disposition": "attachment; filename=audit.csv"}
    return Response(buffer.getvalue(), mimetype="text/csv", headers=headers)


AUDIT_COLUMNS = [
    "id",
    "at",
    "actor_id",
    "action",
    "target_type",
    "target_id",
    "ip",
    "details",
]
