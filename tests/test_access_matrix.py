"""docs/security.md, row 1: every route × every role, against a hand-written table.

The routes come from the app's URL map; what each role may do comes from SPEC below,
written by hand from the specification (who may see and change what), not from
teletherapy.access: a route without a row, or a policy entry that drifts from the
row, fails the suite.
"""

import re

import pytest

from teletherapy.access import ACCESS

ROLES = ["anonymous", "therapist", "client", "researcher", "admin"]
FAKE_ID = "00000000-0000-4000-8000-000000000000"
SKIP_IN_LOOP = {"auth.logout", "api.token_delete"}  # they end the login; covered below

ALL = frozenset(ROLES)
USERS = ALL - {"anonymous"}
PAIR = frozenset({"therapist", "client"})  # the two people of a session
T, R, A = frozenset({"therapist"}), frozenset({"researcher"}), frozenset({"admin"})
SPEC: dict[str, frozenset[str]] = {
    # public: assets, health, signing in, the API's description
    "static": ALL,
    "vendor.asset": ALL,
    "health.healthz": ALL,
    "auth.login": ALL,
    "api.openapi": ALL,
    "api.token_create": ALL,
    # ...and the ways into an account that are not a password: links and codes
    "auth.login_code": ALL,  # without a pending sign-in it sends to /login
    "auth.password_reset_request": ALL,
    "auth.password_reset": ALL,  # an unknown link is a 410 page
    "auth.invite": ALL,
    # every signed-in person: their own account and start page
    "auth.logout": USERS,
    "auth.settings": USERS,
    "auth.keepalive": USERS,
    "auth.session_remaining": USERS,
    "auth.password_change": USERS,
    "auth.two_factor": USERS,
    "auth.two_factor_confirm": USERS,
    "auth.two_factor_recovery_codes": USERS,
    "auth.two_factor_disable": USERS,
    "dashboard.index": USERS,
    "api.token_delete": USERS,
    "api.me": USERS,
    "api.sessions_list": USERS,
    # one dashboard per role
    "dashboard.therapist": T,
    "dashboard.client": frozenset({"client"}),
    "dashboard.researcher": R,
    # the therapist schedules and runs sessions
    "sessions.create": T,
    "sessions.cancel": T,
    "sessions.start": T,
    "sessions.end": T,
    "sessions.waiting": T,
    "api.sessions_create": T,
    "api.session_end": T,
    "api.session_cancel": T,
    "api.session_start": T,
    "sessions.reschedule": T,
    "api.session_reschedule": T,
    # therapists invite clients into their own caseload; admins invite anyone
    "auth.invite_client": T,
    "auth.invitation_resend": T | A,
    "auth.invitation_revoke": T | A,
    "api.invitation_create": T | A,
    "api.invitation_delete": T | A,
    # both people of a session: the call, its chat, their ratings and consent
    "sessions.join": PAIR,
    "sessions.ice_servers": PAIR,
    "sessions.socket_origin": PAIR,
    "rating_forms.form": PAIR,
    "rating_forms.submit": PAIR,
    "consent.index": PAIR,
    "consent.update": PAIR,
    "api.session_detail": PAIR,
    "api.session_messages": PAIR,
    "api.rating_detail": PAIR,
    "api.rating_submit": PAIR,
    "api.ratings_pending": PAIR,
    "api.consent_detail": PAIR,
    "api.consent_update": PAIR,
    # outcome questionnaires: the client answers before a session; their therapist
    # sees the client page and chooses the measures (docs/outcomes.md)
    "outcomes.before": frozenset({"client"}),
    "outcomes.submit": frozenset({"client"}),
    "outcomes.client_page": T,
    "outcomes.client_plot": T,
    "outcomes.settings_update": T,
    # researchers: pseudonymous consented data only
    "research.index": R,
    "research.plot": R,
    "research.export": R,
    "research.codebook": R,
    "api.research_pairs": R,
    "api.research_summary": R,
    "api.research_export_csv": R,
    "api.research_codebook": R,
    "api.research_redcap_dictionary": R,
    "api.research_redcap_records": R,
    "api.research_fhir": R,
    # administrators: accounts, caseloads, the audit log (never health data)
    "admin.index": A,
    "admin.invite": A,
    "auth.two_factor_reset": A,
    "admin.set_active": A,
    "admin.assign": A,
    "admin.audit_log": A,
    "admin.audit_export": A,
}


def _routes(app):  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = re.sub(r"<int:[^>]+>", "1", rule.rule)
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", FAKE_ID, path)
            if rule.endpoint == "static":
                path = "/static/css/app.css"
            yield rule.endpoint, method, path


def test_every_route_has_a_row_in_the_spec(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(SPEC) == set(), "routes without a row in SPEC"
    assert set(SPEC) - endpoints == set(), "rows in SPEC without a route"


def test_the_policy_table_says_what_the_spec_says():
    drift = {
        e: (sorted(ACCESS.get(e, ())), sorted(SPEC.get(e, ())))
        for e in set(ACCESS) | set(SPEC)
        if ACCESS.get(e) != SPEC.get(e)
    }
    assert drift == {}, "endpoint: (policy, spec)"


def _denied(status: int, location: str, role: str, api: bool) -> bool:
    if role == "anonymous":
        # Refused pages send to sign-in and come back (next=); a page that merely
        # sends to /login (the code step with no sign-in pending) is not a refusal.
        return status == 401 if api else (status == 302 and "/login?next=" in location)
    return status == 403


@pytest.mark.parametrize("role", ROLES)
def test_role_route_matrix(app, client, make_user, token_for, auth, role):
    headers = {}
    if role != "anonymous":
        user = make_user(role)
        headers = token_for(user)
        auth.login(user)
    wrong = []
    for endpoint, method, path in _routes(app):
        if endpoint in SKIP_IN_LOOP:
            continue
        api = path.startswith("/api/")
        r = client.open(
            path,
            method=method,
            headers=headers if api else {},
            json={} if method != "GET" else None,
        )
        allowed = role in SPEC[endpoint]
        denied = _denied(r.status_code, r.headers.get("Location", ""), role, api)
        r.close()
        if allowed == denied:
            wrong.append((role, method, path, r.status_code))
    assert wrong == []


@pytest.mark.parametrize("role", ROLES[1:])
def test_logout_is_for_signed_in_users(client, make_user, auth, role):
    auth.login(make_user(role))
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302  # back to the login page
    assert "/login" in client.get("/").headers["Location"]


def test_anonymous_cannot_logout(client):
    r = client.post("/logout")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


@pytest.mark.parametrize("role", ROLES[1:])
def test_any_signed_in_role_can_revoke_its_token(client, make_user, token_for, role):
    headers = token_for(make_user(role))
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_anonymous_cannot_revoke_a_token(client):
    r = client.delete("/api/v1/auth/token")
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "not_authenticated"
