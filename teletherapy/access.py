"""The policy table: which roles may call each endpoint. Anything unlisted is denied.

Routes, the API and (through teletherapy.rtc_policy) socket events consult this one
table. tests/test_access_matrix.py and tests/test_socket_matrix.py hold the same
rules written out by hand and call every route of the URL map and every socket event
as every role, so a new route without an entry (there and here) fails the suite.
"""

from flask import Flask, abort, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from .extensions import login_manager
from .services.errors import Forbidden
from .web_auth import api_user, is_api_request

PUBLIC = frozenset({"anonymous", "therapist", "client", "researcher", "admin"})
ANY_USER = frozenset({"therapist", "client", "researcher", "admin"})
CLINICIANS = frozenset({"therapist", "client"})
THERAPIST = frozenset({"therapist"})
CLIENT = frozenset({"client"})
RESEARCHER = frozenset({"researcher"})
ADMIN = frozenset({"admin"})
INVITERS = frozenset({"therapist", "admin"})

ACCESS: dict[str, frozenset[str]] = {
    "static": PUBLIC,
    "vendor.asset": PUBLIC,
    "health.healthz": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": ANY_USER,
    "auth.settings": ANY_USER,
    "auth.password_change": ANY_USER,
    "auth.password_reset_request": PUBLIC,
    "auth.password_reset": PUBLIC,
    "auth.keepalive": ANY_USER,
    "auth.login_code": PUBLIC,
    "auth.two_factor": ANY_USER,
    "auth.two_factor_confirm": ANY_USER,
    "auth.two_factor_recovery_codes": ANY_USER,
    "auth.two_factor_disable": ANY_USER,
    "auth.two_factor_reset": ADMIN,
    "auth.session_remaining": ANY_USER,
    "auth.invite": PUBLIC,
    "auth.invite_client": THERAPIST,
    "auth.invitation_resend": INVITERS,
    "auth.invitation_revoke": INVITERS,
    "dashboard.index": ANY_USER,
    "dashboard.therapist": THERAPIST,
    "dashboard.client": CLIENT,
    "dashboard.researcher": RESEARCHER,
    "sessions.create": THERAPIST,
    "sessions.cancel": THERAPIST,
    "sessions.reschedule": THERAPIST,
    "sessions.start": THERAPIST,
    "sessions.end": THERAPIST,
    "sessions.join": CLINICIANS,
    "sessions.waiting": THERAPIST,
    "sessions.ice_servers": CLINICIANS,
    "sessions.socket_origin": CLINICIANS,
    "rating_forms.form": CLINICIANS,
    "rating_forms.submit": CLINICIANS,
    "admin.index": ADMIN,
    "admin.invite": ADMIN,
    "admin.set_active": ADMIN,
    "admin.assign": ADMIN,
    "admin.audit_log": ADMIN,
    "admin.audit_export": ADMIN,
    "api.openapi": PUBLIC,
    "api.token_create": PUBLIC,
    "api.token_delete": ANY_USER,
    "api.me": ANY_USER,
    "api.sessions_list": ANY_USER,
    "api.sessions_create": THERAPIST,
    "api.session_detail": CLINICIANS,
    "api.session_end": THERAPIST,
    "api.session_cancel": THERAPIST,
    "api.session_reschedule": THERAPIST,
    "api.session_start": THERAPIST,
    "api.session_messages": CLINICIANS,
    "api.rating_detail": CLINICIANS,
    "api.rating_submit": CLINICIANS,
    "api.ratings_pending": CLINICIANS,
    "api.research_pairs": RESEARCHER,
    "api.research_summary": RESEARCHER,
    "api.research_export_csv": RESEARCHER,
    "api.research_codebook": RESEARCHER,
    "api.research_redcap_dictionary": RESEARCHER,
    "api.research_redcap_records": RESEARCHER,
    "api.research_fhir": RESEARCHER,
    "api.invitation_create": INVITERS,
    "api.invitation_delete": INVITERS,
    "api.consent_detail": CLINICIANS,
    "api.consent_update": CLINICIANS,
    "research.index": RESEARCHER,
    "research.plot": RESEARCHER,
    "research.export": RESEARCHER,
    "research.codebook": RESEARCHER,
    "consent.index": CLINICIANS,
    "consent.update": CLINICIANS,
    "outcomes.before": CLIENT,
    "outcomes.submit": CLIENT,
    "outcomes.client_page": THERAPIST,
    "outcomes.client_plot": THERAPIST,
    "outcomes.settings_update": THERAPIST,
}


# Socket.IO /rtc: who may connect and send each event (signaling asks through
# RtcPolicy.allows; the session-level check, e.g. "your session", follows in can_join).
SOCKET_ACCESS: dict[str, frozenset[str]] = {
    "connect": CLINICIANS,
    "join": CLINICIANS,
    "signal": CLINICIANS,
    "chat": CLINICIANS,
    "quality": CLINICIANS,
    "media_mode": CLINICIANS,
    "end": THERAPIST,
    "leave": CLINICIANS,
}


# REQUIRE_2FA_ROLES: a signed-in person of such a role without a confirmed second
# factor reaches only these endpoints (enrolment: teletherapy/auth/two_factor.py).
ENROLMENT_ONLY = frozenset(
    {
        "static",
        "vendor.asset",
        "health.healthz",
        "auth.logout",
        "auth.keepalive",
        "auth.session_remaining",
        "auth.two_factor",
        "auth.two_factor_confirm",
        "api.openapi",
        "api.token_delete",
    }
)


def second_factor_missing() -> bool:
    """The caller's role requires a second factor and they have not set one up."""
    user = api_user() if is_api_request() else current_user
    roles = current_app.config.get("REQUIRE_2FA_ROLES") or ()
    return user is not None and user.role in roles and not user.totp_secret


def _enrol_first() -> ResponseReturnValue:
    if is_api_request():
        raise Forbidden(
            "your role needs two-step sign-in: set it up on the website first "
            "(Settings, two-step sign-in)",
            code="two_factor_required",
        )
    flash(
        "Please set up two-step sign-in first: your role needs it before you "
        "can continue.",
        "info",
    )
    return redirect(url_for("auth.two_factor"))


def role_of_request() -> str:
    user = api_user() if is_api_request() else current_user
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    return str(user.role)


def enforce() -> ResponseReturnValue | None:
    """before_request: 401 for anonymous, 403 for a role the table does not list."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # routing failed; the 404/405 handlers answer
    allowed = ACCESS.get(endpoint, frozenset())
    role = role_of_request()
    if (
        role != "anonymous"
        and endpoint not in ENROLMENT_ONLY
        and second_factor_missing()
    ):
        return _enrol_first()
    if role in allowed:
        return None
    if role == "anonymous" and not is_api_request():
        redirect: ResponseReturnValue = login_manager.unauthorized()  # the login page
        return redirect
    abort(401 if role == "anonymous" else 403)


def init_app(app: Flask) -> None:
    app.before_request(enforce)
