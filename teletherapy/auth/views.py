"""Sign in, sign out, personal settings."""

import time
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from flask import (
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

import signaling

from .. import web_auth
from ..extensions import db, limiter
from ..services import accounts, audit
from ..services.errors import Invalid
from ..web_auth import start_session_clock
from . import bp, passwords, sign_in
from .forms import LoginForm, SettingsForm
from .two_factor import begin_second_step


def _safe_next(target: str | None) -> str:
    if (
        not target
        or urlsplit(target).netloc
        or urlsplit(target).scheme
        or target.startswith("//")
    ):
        return url_for("dashboard.index")
    return target if target.startswith("/") else url_for("dashboard.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(sign_in.auth_limit, methods=["POST"])
@sign_in.account_limit
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = sign_in.check(form.email.data, form.password.data)
        if user is not None and user.totp_secret:  # a code first (two_factor.py)
            return begin_second_step(user, _safe_next(request.args.get("next")))
        if user is not None:
            session.clear()  # a new session at login: no fixation
            login_user(user)
            start_session_clock()
            audit.write(
                db.session(),
                "login",
                user.id,
                "user",
                user.id,
                origin=web_auth.origin(),
            )
            return redirect(_safe_next(request.args.get("next")))
        flash(
            "That e-mail and password do not match an active account, or sign-in "
            "from this network is paused for a while after repeated attempts.",
            "error",
        )
        status = 401
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    user = current_user._get_current_object()
    accounts.sign_out(db.session(), user, origin=web_auth.origin())
    logout_user()
    session.clear()
    signaling.disconnect_user(user.id)
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/settings", methods=["GET", "POST"])
def settings() -> ResponseReturnValue:
    form = SettingsForm(timezone=current_user.timezone)
    form.timezone.choices = sorted(available_timezones())
    if form.validate_on_submit():
        try:
            accounts.set_timezone(
                db.session(), current_user, form.timezone.data, origin=web_auth.origin()
            )
        except Invalid as exc:
            flash(exc.message, "error")
        else:
            flash("Saved. Times are now shown in " + form.timezone.data + ".", "info")
            return redirect(url_for("auth.settings"))
    return render_template(
        "auth/settings.html", form=form, **passwords.settings_section()
    )


@bp.get("/keepalive")
def keepalive() -> ResponseReturnValue:
    """The call page's heartbeat: a live call is activity, so the idle timer restarts."""
    session["seen_at"] = int(time.time())
    return jsonify({"ok": True})
