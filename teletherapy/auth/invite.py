"""Invitations on the web: the link's page where the invited person chooses their
password, the therapist's "Invite a client" form, and re-send / revoke for
administrators and therapists (services/invitations.py does the work)."""

from datetime import datetime

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from .. import mailer, web_auth
from ..config import settings
from ..extensions import db
from ..models import Invitation, User
from ..services import invitations, password_policy
from ..services.errors import Gone, Invalid, ServiceError
from ..services.mail import Outgoing
from ..sessions.forms import ActionForm
from ..web_auth import start_session_clock
from . import bp


class AcceptInvitationForm(FlaskForm):  # type: ignore[misc]  # FlaskForm is Any
    password_new = PasswordField(
        "Choose a password",
        validators=[DataRequired("Please choose a password."), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    password_confirm = PasswordField(
        "Type the same password again",
        validators=[
            DataRequired("Please type the password a second time."),
            EqualTo("password_new", "The two passwords are not the same."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class InviteClientForm(FlaskForm):  # type: ignore[misc]  # FlaskForm is Any
    display_name = StringField(
        "Client's name", validators=[DataRequired(), Length(max=120)]
    )
    email = EmailField("Client's e-mail", validators=[DataRequired(), Length(max=254)])


GONE_MESSAGE = (
    "This invitation link cannot be used any more. If you were sent a newer "
    "invitation, please use the link in the most recent mail; otherwise ask the "
    "person who invited you to send a new one."
)
# Why a link cannot be used, in words for the person who holds it
GONE_MESSAGES = {
    "accepted": "This invitation has been used already: the account it was for "
    "exists. Sign in with the e-mail address and the password chosen then.",
    "revoked": "This invitation was withdrawn. If you still need an account, "
    "please ask the person who invited you.",
    "expired": "This invitation has expired. Please ask the person who invited "
    "you to send a new one.",
}
ROLE_WORDS = {
    "client": "a client",
    "therapist": "a therapist",
    "researcher": "a researcher",
    "admin": "an administrator",
}


def when(moment: datetime) -> str:
    """An expiry in words everyone reads the same way (UTC, no time zone guess)."""
    return f"{moment:%A} {moment.day} {moment:%B %Y, %H:%M} UTC"


def composer(inviter_name: str | None) -> invitations.Compose:
    """The invitation mail for a token: who invites, the link, when it expires."""
    app_name = "Teletherapy"

    def compose(token: str, row: Invitation) -> Outgoing:
        return mailer.compose(
            "invitation",
            row.email,
            f"You are invited to {app_name}",
            "invitation",
            name=row.display_name,
            inviter=inviter_name,
            app_name=app_name,
            role=ROLE_WORDS.get(row.role, row.role),
            link=mailer.public_url(f"/invite/{token}"),
            expires=when(row.expires_at),
        )

    return compose


def ttl_hours() -> float:
    return float(current_app.config["INVITATION_TTL_HOURS"])


def ttl_words() -> str:
    """How long an invitation link works, in words ("7 days", "36 hours")."""
    hours = ttl_hours()
    if hours >= 24 and hours % 24 == 0:
        days = int(hours // 24)
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{hours:g} hour{'s' if hours != 1 else ''}"


def link_gone(message: str = GONE_MESSAGE) -> ResponseReturnValue:
    """The page for a link that cannot be used: says so, offers nothing else."""
    return render_template("auth/link_gone.html", message=message), 410


def _gone(exc: Gone) -> ResponseReturnValue:
    return link_gone(GONE_MESSAGES.get(exc.code, GONE_MESSAGE))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def invite(token: str) -> ResponseReturnValue:
    try:
        row = invitations.lookup(db.session(), token)
    except Gone as exc:
        return _gone(exc)
    form = AcceptInvitationForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = invitations.accept(
                db.session(),
                token,
                password=form.password_new.data,
                hash_method=settings().password_hash_method,
                origin=web_auth.origin(),
            )
        except Gone as exc:
            return _gone(exc)
        except Invalid as exc:
            why = (exc.details or {}).get("password") or exc.message
            form.password_new.errors = [f"This password {why}."]
        else:
            session.clear()  # a new session at sign-in: no fixation
            login_user(user)
            start_session_clock()
            flash(f"Welcome, {user.display_name}. Your account is ready.", "info")
            return redirect(url_for("dashboard.index"))
    if form.is_submitted():
        status = 422
    return (
        render_template(
            "auth/invite.html",
            form=form,
            invitation=row,
            role=ROLE_WORDS.get(row.role, row.role),
            rule=password_policy.RULE,
        ),
        status,
    )


def _back() -> ResponseReturnValue:
    return redirect(url_for("dashboard.index"))


@bp.post("/invitations")
def invite_client() -> ResponseReturnValue:
    """A therapist invites a client into their own caseload."""
    form = InviteClientForm()
    if not form.validate_on_submit():
        for name, errors in form.errors.items():
            label = getattr(form, name).label.text if hasattr(form, name) else name
            flash(f"{label}: {errors[0]}", "error")
        return _back()
    user: User = current_user._get_current_object()
    try:
        row = invitations.create(
            db.session(),
            email=form.email.data,
            display_name=form.display_name.data,
            role="client",
            inviter=user,
            ttl_hours=ttl_hours(),
            compose=composer(user.display_name),
            origin=web_auth.origin(),
        )
    except ServiceError as exc:
        flash(words(exc), "error")
        return _back()
    mailer.kick()
    flash(
        f"Invitation sent to {row.email}. The link works until {when(row.expires_at)}.",
        "info",
    )
    return _back()


@bp.post("/invitations/<invitation_id>/resend")
def invitation_resend(invitation_id: str) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return _back()
    user: User = current_user._get_current_object()
    try:
        row = invitations.resend(
            db.session(),
            user,
            invitation_id,
            ttl_hours=ttl_hours(),
            compose=composer(user.display_name),
            origin=web_auth.origin(),
        )
    except ServiceError as exc:
        flash(words(exc), "error")
        return _back()
    mailer.kick()
    flash(
        f"A new invitation link was sent to {row.email}; the earlier one no longer "
        "works.",
        "info",
    )
    return _back()


@bp.post("/invitations/<invitation_id>/revoke")
def invitation_revoke(invitation_id: str) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return _back()
    try:
        row = invitations.revoke(
            db.session(),
            current_user._get_current_object(),
            invitation_id,
            origin=web_auth.origin(),
        )
    except ServiceError as exc:
        flash(words(exc), "error")
        return _back()
    flash(
        f"The invitation to {row.email} was withdrawn; its link no longer works.",
        "info",
    )
    return _back()


def words(exc: ServiceError) -> str:
    """A service error as a sentence for the flash message."""
    if isinstance(exc.details, dict) and exc.details:
        parts = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in exc.details.items())
        return f"{exc.message[:1].upper()}{exc.message[1:]} ({parts})."
    return f"{exc.message[:1].upper()}{exc.message[1:]}."
