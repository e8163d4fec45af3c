"""Two-step sign-in pages: enrolment at /settings/2fa, the code step at /login/code,
and the administrator's reset of a person's second factor.

The password step (views.login) does not sign a person with a second factor in: it
leaves a short-lived marker in the session (user id, the account's login nonce, the
time) and sends them here. The marker lasts PENDING_SECONDS; wrong codes are counted
from the audit trail (a replayed older cookie cannot reset the count), and after
MAX_FAILURES the person starts again from the password. Codes are rate limited per
pending account and per address as well.
"""

import time
from datetime import UTC, datetime
from typing import Any

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
from werkzeug.security import check_password_hash
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

import signaling

from .. import web_auth
from ..extensions import db, limiter
from ..models import User
from ..services import audit
from ..services import two_factor as service
from ..services.errors import Invalid
from ..sessions.forms import ActionForm
from . import bp

PENDING = "two_factor_pending"
PENDING_SECONDS = 300
MAX_FAILURES = 5
CODE_RATE_LIMIT = "5 per minute"
# Across sign-ins (service.paused): someone who has the password cannot keep
# guessing codes (five a minute would add up); the person's own right code waits
# too, until the hour has passed, and the audit trail shows the wrong codes.
PAUSED = (
    "Signing in to this account is paused for up to an hour after many wrong "
    "codes. Please try again later, or ask your clinic's administrator."
)
TOO_MANY = (
    "That code did not work several times, so this sign-in has stopped. "
    "Please start again with your e-mail and password."
)


class CodeForm(FlaskForm):  # type: ignore[misc]  # FlaskForm is Any
    code = StringField(
        "Code",
        validators=[DataRequired(message="Type the code."), Length(max=64)],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "off"},
    )
    submit = SubmitField("Continue")


class ConfirmForm(FlaskForm):  # type: ignore[misc]  # FlaskForm is Any
    code = StringField(
        "The six-digit code your app shows now",
        validators=[DataRequired(message="Type the code."), Length(max=64)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField("Turn on")


class PasswordAndCodeForm(FlaskForm):  # type: ignore[misc]  # FlaskForm is Any
    password = PasswordField(
        "Your password", validators=[DataRequired(), Length(max=1024)]
    )
    code = StringField(
        "A code from your app (or a recovery code)",
        validators=[DataRequired(message="Type the code."), Length(max=64)],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "off"},
    )
    submit = SubmitField("Confirm")


def _required_roles() -> list[str]:
    return list(current_app.config.get("REQUIRE_2FA_ROLES") or [])


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


# --- the second step of signing in -------------------------------------------------


def begin_second_step(user: User, next_url: str) -> ResponseReturnValue:
    """After a right password for an account with a second factor: nobody is signed
    in yet; a marker remembers who is halfway, for PENDING_SECONDS."""
    session.clear()
    session[PENDING] = {
        "user": user.id,
        "nonce": user.login_nonce,
        "at": int(time.time()),
        "next": next_url,
    }
    return redirect(url_for("auth.login_code"))


def _pending() -> tuple[User, dict[str, Any]] | None:
    """The person halfway through signing in, while the marker is valid: fresh, the
    account active, its logins not ended since (nonce), the second factor still on."""
    marker = session.get(PENDING)
    if not isinstance(marker, dict):
        return None
    at = marker.get("at")
    if not isinstance(at, int) or not 0 <= time.time() - at < PENDING_SECONDS:
        return None
    user = db.session.get(User, str(marker.get("user")))
    if (
        user is None
        or not user.active
        or user.login_nonce != marker.get("nonce")
        or not service.enabled(user)
    ):
        return None
    return user, marker


def _pending_key() -> str:
    marker = session.get(PENDING)
    user_id = marker.get("user") if isinstance(marker, dict) else None
    return f"2fa-pending:{user_id or '-'}"


def _start_again(message: str) -> ResponseReturnValue:
    session.pop(PENDING, None)
    flash(message, "error")
    return redirect(url_for("auth.login"))


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(CODE_RATE_LIMIT, methods=["POST"])  # per address
@limiter.limit(CODE_RATE_LIMIT, key_func=_pending_key, methods=["POST"])
def login_code() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    pending = _pending()
    if pending is None:
        return _start_again(
            "Please sign in again with your e-mail and password: the step for "
            "your code lasts five minutes."
        )
    user, marker = pending
    form = CodeForm()
    status = 200
    tx = db.session()
    since = datetime.fromtimestamp(marker["at"], UTC)
    if service.failures_since(tx, user, since) >= MAX_FAILURES:
        return _start_again(TOO_MANY)  # also for a replayed older cookie
    if service.paused(tx, user):
        return _start_again(PAUSED)
    if form.validate_on_submit():
        if service.verify_second_factor(
            tx, user, form.code.data, origin=web_auth.origin()
        ):
            next_url = str(marker.get("next") or "")
            session.clear()  # a new session at login: no fixation
            login_user(user)
            web_auth.start_session_clock()
            audit.write(tx, "login", user.id, "user", user.id, origin=web_auth.origin())
            safe = next_url.startswith("/") and not next_url.startswith("//")
            return redirect(next_url if safe else url_for("dashboard.index"))
        if service.failures_since(tx, user, since) >= MAX_FAILURES:
            return _start_again(TOO_MANY)
        flash(
            "That code did not work. Type the six digits your app shows now, "
            "or one of your recovery codes. Each code works only once.",
            "error",
        )
        status = 401
    return render_template("auth/two_factor_login.html", form=form), status


# --- enrolment and settings ---------------------------------------------------------


def _state_page(**forms: Any) -> ResponseReturnValue:
    user = _me()
    tx = db.session()
    required = service.required(user, _required_roles())
    if service.enabled(user):
        return render_template(
            "auth/two_factor.html",
            enabled=True,
            required=required,
            codes_left=service.recovery_codes_left(tx, user),
            disable_form=forms.get("disable_form")
            or PasswordAndCodeForm(prefix="disable"),
            codes_form=forms.get("codes_form") or PasswordAndCodeForm(prefix="codes"),
        ), forms.get("status", 200)
    enrolment = service.pending_enrolment(tx, user)
    return render_template(
        "auth/two_factor.html",
        enabled=False,
        required=required,
        qr_svg=enrolment.qr_svg,
        secret=service.grouped(enrolment.secret),
        confirm_form=forms.get("confirm_form") or ConfirmForm(),
    ), forms.get("status", 200)


@bp.get("/settings/2fa")
def two_factor() -> ResponseReturnValue:
    return _state_page()


@bp.post("/settings/2fa/confirm")
def two_factor_confirm() -> ResponseReturnValue:
    user = _me()
    if service.enabled(user):
        flash("Two-step sign-in is already on.", "info")
        return redirect(url_for("auth.two_factor"))
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _state_page(confirm_form=form, status=422)
    try:
        codes = service.confirm_enrolment(
            db.session(), user, form.code.data, origin=web_auth.origin()
        )
    except Invalid as exc:
        form.code.errors = [exc.message]
        return _state_page(confirm_form=form, status=422)
    return render_template("auth/two_factor_codes.html", codes=codes, first=True)


def _password_and_code(form: PasswordAndCodeForm, stage: str) -> bool:
    """Both the password and a fresh code (the code is spent, the outcome audited)."""
    user = _me()
    if not form.validate_on_submit():
        return False
    right_password = check_password_hash(user.password_hash, form.password.data)
    if not right_password:
        form.password.errors = ["That is not your password."]
        service.record_failure(
            db.session(), user, stage, origin=web_auth.origin(), reason="password"
        )
        return False
    if not service.verify_second_factor(
        db.session(), user, form.code.data, origin=web_auth.origin(), stage=stage
    ):
        form.code.errors = ["That code did not work. Each code works only once."]
        return False
    return True


def _settings_key() -> str:
    return f"2fa-settings:{current_user.get_id() if current_user.is_authenticated else '-'}"


@bp.post("/settings/2fa/recovery-codes")
@limiter.limit(CODE_RATE_LIMIT, key_func=_settings_key)
def two_factor_recovery_codes() -> ResponseReturnValue:
    user = _me()
    if not service.enabled(user):
        return redirect(url_for("auth.two_factor"))
    form = PasswordAndCodeForm(prefix="codes")
    if not _password_and_code(form, "recovery_codes"):
        return _state_page(codes_form=form, status=422)
    codes = service.new_recovery_codes(db.session(), user, origin=web_auth.origin())
    return render_template("auth/two_factor_codes.html", codes=codes, first=False)


@bp.post("/settings/2fa/disable")
@limiter.limit(CODE_RATE_LIMIT, key_func=_settings_key)
def two_factor_disable() -> ResponseReturnValue:
    user = _me()
    if not service.enabled(user):
        return redirect(url_for("auth.two_factor"))
    form = PasswordAndCodeForm(prefix="disable")
    if not _password_and_code(form, "disable"):
        return _state_page(disable_form=form, status=422)
    again = service.required(user, _required_roles())
    service.disable(db.session(), user, again=again, origin=web_auth.origin())
    if again:
        flash(
            "Your old authenticator no longer works. Set up the new one now: scan "
            "the code below with your app.",
            "info",
        )
    else:
        flash(
            "Two-step sign-in is off. Signing in now needs only your password.",
            "info",
        )
    return redirect(url_for("auth.two_factor"))


# --- the administrator's reset ------------------------------------------------------


@bp.post("/admin/users/<user_id>/2fa/reset")
def two_factor_reset(user_id: str) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return redirect(url_for("admin.index"))
    tx = db.session()
    user = db.session.get(User, user_id)
    if user is None:
        flash("There is no such account.", "error")
        return redirect(url_for("admin.index"))
    service.reset(tx, user, current_user.id, origin=web_auth.origin())
    signaling.disconnect_user(user.id)
    flash(
        f"The second factor of {user.display_name} is cleared and they are signed "
        "out. They set it up again at their next sign-in.",
        "info",
    )
    return redirect(url_for("admin.index"))
