"""Own passwords: change in Settings, reset by e-mailed link (services/passwords.py).

Both end every other way in: the service rotates the login nonce and revokes the
API tokens, and these views close the person's sockets. A change in Settings
keeps the browser that made it signed in (a fresh login with the new nonce); a
reset sends the person to sign in with the new password, so a second factor, if
they have one, is still asked for.
"""

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import (
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user
from werkzeug import Response

import signaling

from .. import mailer, web_auth
from ..config import settings
from ..extensions import db, limiter
from ..models import User
from ..services import lockout, mail, password_policy
from ..services import passwords as service
from ..services.errors import Gone, Invalid
from ..web_auth import start_session_clock
from . import bp, sign_in
from .forms import (
    PasswordChangeForm,
    ResetForm,
    ResetRequestForm,
    SettingsForm,
)

# Reset requests per typed address (every spelling of one address is one
# bucket, known or not, so the limit tells nothing): a few mails, not a flood.
RESET_ACCOUNT_LIMIT = "5 per hour"
# A reset request is answered no sooner than this after it arrives: the known
# path (a link stored, a mail queued) and the unknown one (an audit row) then
# take the same time as seen from outside, whatever the database's speed up to it.
RESET_ANSWER_SECONDS = 0.15
SENT = (
    "If an account uses that address, we have sent it a link to choose a new "
    "password. The link works for {minutes} minutes. If nothing arrives, check "
    "your spam folder or ask your clinic."
)


def _ttl_minutes() -> int:
    return int(current_app.config["RESET_TTL_MINUTES"])


def _now_for(user: User) -> str:
    """Now in the person's own time zone (Settings), with its name."""
    try:
        zone = ZoneInfo(user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.now(UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M (%Z)")


def _notice(user: User) -> mail.Outgoing:
    """The "your password was changed" mail to the account's own address."""
    return mailer.compose(
        "password_changed",
        user.email,
        "Your password was changed",
        "password_changed",
        name=user.display_name,
        when=_now_for(user),
        reset_link=mailer.public_url(url_for("auth.password_reset_request")),
    )


def _reset_mail(to: str, name: str, token: str) -> mail.Outgoing:
    return mailer.compose(
        "password_reset",
        to,
        "Choose a new password",
        "password_reset",
        name=name,
        link=mailer.public_url(url_for("auth.password_reset", token=token)),
        minutes=_ttl_minutes(),
    )


# --- change in Settings -----------------------------------------------------------


def _user_key() -> str:
    return "user:" + str(current_user.get_id() or "-").partition(":")[0]


def _counted(_response: Response) -> bool:
    return bool(g.get("password_failure_counted"))


@bp.post("/settings/password")
@limiter.limit(sign_in.auth_limit)
@limiter.limit(
    sign_in.auth_limit,
    key_func=_user_key,
    scope="password-change-account",
    deduct_when=_counted,
)
def password_change() -> ResponseReturnValue:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        cfg = current_app.config
        try:
            service.change(
                db.session(),
                user,
                form.current_password.data or "",
                form.new_password.data or "",
                address=request.remote_addr or "-",
                policy=lockout.Policy(
                    int(cfg["LOCKOUT_THRESHOLD"]), int(cfg["LOCKOUT_MINUTES"])
                ),
                hash_method=settings().password_hash_method,
                notice=_notice,
                origin=web_auth.origin(),
            )
        except service.WrongPassword as exc:
            g.password_failure_counted = exc.counted
            form.current_password.errors = [exc.message]
        except Invalid as exc:
            form.new_password.errors = [
                "This password " + str((exc.details or {}).get("new_password", ""))
            ]
        else:
            signaling.disconnect_user(user.id)
            mailer.kick()
            # This browser stays signed in: a new login with the new nonce, whose
            # absolute limit still counts from the original sign-in.
            login_at = session.get("login_at")
            session.clear()
            login_user(user)
            start_session_clock()
            if isinstance(login_at, int):
                session["login_at"] = login_at
            flash(
                "Your password is changed. You stay signed in here; every other "
                "browser, app and device has been signed out.",
                "info",
            )
            return redirect(url_for("auth.settings"))
    tz_form = SettingsForm(timezone=current_user.timezone)
    tz_form.timezone.choices = sorted(available_timezones())
    return render_template(
        "auth/settings.html",
        form=tz_form,
        password_form=form,
        password_rule=password_policy.RULE,
    ), 422


# --- reset by e-mail ----------------------------------------------------------------


def _reset_account_limit() -> str:
    return RESET_ACCOUNT_LIMIT


@bp.route("/password/reset", methods=["GET", "POST"])
@limiter.limit(sign_in.auth_limit, methods=["POST"])
@limiter.limit(
    _reset_account_limit,
    key_func=sign_in.account_key,
    scope="password-reset-account",
    methods=["POST"],
)
def password_reset_request() -> ResponseReturnValue:
    form = ResetRequestForm()
    status, sent = 200, None
    if form.validate_on_submit():
        started = time.monotonic()
        known = service.request_reset(
            db.session(),
            form.email.data or "",
            timedelta(minutes=_ttl_minutes()),
            _reset_mail,
            origin=web_auth.origin(),
        )
        if known:
            mailer.kick()
        sent = SENT.format(minutes=_ttl_minutes())
        # cooperative under gevent (serve monkey-patches time.sleep)
        time.sleep(max(0.0, RESET_ANSWER_SECONDS - (time.monotonic() - started)))
        form = ResetRequestForm(formdata=None)  # the address is not shown back
    elif request.method == "POST":
        status = 422
    return render_template("auth/reset_request.html", form=form, sent=sent), status


def _gone() -> ResponseReturnValue:
    return render_template("auth/reset_gone.html", message=service.GONE), 410


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(sign_in.auth_limit, methods=["POST"])
def password_reset(token: str) -> ResponseReturnValue:
    try:
        user = service.link_user(db.session(), token)
    except Gone:
        return _gone()
    form = ResetForm()
    if form.validate_on_submit():
        try:
            service.reset(
                db.session(),
                token,
                form.new_password.data or "",
                address=request.remote_addr or "-",
                hash_method=settings().password_hash_method,
                notice=_notice,
                origin=web_auth.origin(),
            )
        except Gone:
            return _gone()
        except Invalid as exc:
            form.new_password.errors = [
                "This password " + str((exc.details or {}).get("new_password", ""))
            ]
        else:
            signaling.disconnect_user(user.id)
            mailer.kick()
            if current_user.is_authenticated and current_user.id == user.id:
                session.clear()  # its cookie no longer works anyway
            flash(
                "Your new password is set, and every other sign-in has ended. "
                "Please sign in with it.",
                "info",
            )
            return redirect(url_for("auth.login"))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "auth/reset.html",
        form=form,
        password_rule=password_policy.RULE,
        email=user.email,
    ), status


def settings_section() -> dict[str, object]:
    """What the Settings page needs for its "Change password" form."""
    return {
        "password_form": PasswordChangeForm(formdata=None),
        "password_rule": password_policy.RULE,
    }
