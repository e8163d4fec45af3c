"""Administration: accounts and caseloads."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

import signaling

from ..extensions import db
from ..models import CaseloadAssignment, User
from ..services import accounts, tokens
from ..services.errors import ServiceError
from ..sessions.forms import ActionForm
from . import bp
from .forms import AssignForm, CreateUserForm


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


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    users = list(
        db.session.scalars(select(User).order_by(User.role, User.display_name))
    )
    pairs = list(db.session.scalars(select(CaseloadAssignment)))
    return render_template(
        "admin/index.html",
        users=users,
        pairs=pairs,
        create_form=CreateUserForm(),
        assign_form=_assign_form(),
        action_form=ActionForm(),
    )


@bp.post("/users")
def create_user():  # type: ignore[no-untyped-def]
    form = CreateUserForm()
    if form.validate_on_submit():
        try:
            accounts.create_user(
                db.session,
                email=form.email.data,
                name=form.display_name.data,
                role=form.role.data,
                password=form.password.data,
                actor_id=current_user.id,
            )
            flash(f"Account created for {form.email.data}.", "info")
        except ServiceError as exc:
            flash(
                f"{exc.message}: {exc.details}" if exc.details else exc.message, "error"
            )
    else:
        for field, errors in form.errors.items():
            flash(f"{getattr(form, field).label.text}: {errors[0]}", "error")
    return redirect(url_for("admin.index"))


@bp.post("/users/<user_id>/active/<int:value>")
def set_active(user_id: str, value: int):  # type: ignore[no-untyped-def]
    if not ActionForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return redirect(url_for("admin.index"))
    user = accounts.get_user(db.session, user_id)
    if user.id == current_user.id:
        flash("You cannot deactivate your own account.", "error")
        return redirect(url_for("admin.index"))
    if not value:
        tokens.revoke_all(db.session, user.id)
    accounts.set_active(db.session, user, bool(value), current_user.id)
    if not value:
        signaling.disconnect_user(user.id)
    flash(f"{user.display_name} is now {'active' if value else 'deactivated'}.", "info")
    return redirect(url_for("admin.index"))


@bp.post("/caseload")
def assign():  # type: ignore[no-untyped-def]
    form = _assign_form()
    if form.validate_on_submit():
        try:
            accounts.add_to_caseload(
                db.session,
                accounts.get_user(db.session, form.therapist_id.data),
                accounts.get_user(db.session, form.client_id.data),
                current_user.id,
            )
            flash("Client added to the caseload.", "info")
        except ServiceError as exc:
            flash(exc.message, "error")
    else:
        flash("Choose a therapist and a client.", "error")
    return redirect(url_for("admin.index"))
