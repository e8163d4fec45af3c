"""docs/security.md, row 8: every state-changing form refuses a request without its CSRF token.

The forms come from the URL map (every route taking POST, PUT, PATCH or DELETE outside
the API, whose bearer tokens a browser never sends by itself), so a new form is covered
without touching this file. Each is sent by a signed-in person the route is meant for,
with real ids, once without the token (400, nothing changes) and once with it (not
refused for CSRF: the token really is what makes the difference).
"""

import re

import pytest
from sqlalchemy import func, select

from teletherapy.access import ACCESS
from teletherapy.extensions import db
from teletherapy.models import AuditEvent, TherapySession, User

from .conftest import PASSWORD
from .helpers import pair, session_for

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
ROLE_ORDER = ("anonymous", "therapist", "client", "researcher", "admin")
# Forms the issue names: they must be among the routes found (a guard on the finder).
NAMED = {
    "admin.set_active",
    "admin.invite",
    "auth.invite",
    "auth.invite_client",
    "auth.invitation_resend",
    "auth.invitation_revoke",
    "admin.assign",
    "sessions.create",
    "sessions.end",
    "sessions.cancel",
    "sessions.start",
    "consent.update",
    "auth.logout",
    "auth.login",
    "auth.settings",
    "rating_forms.submit",
}
TOKEN = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    """The suite's app with CSRF protection on, as in production."""
    return make_app(WTF_CSRF_ENABLED=True)


def _forms(app):  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") or not rule.methods & UNSAFE:
            continue
        for method in sorted(rule.methods & UNSAFE):
            yield rule, method


def _signed_in(app, user: User | None):  # type: ignore[no-untyped-def]
    """A browser signed in as user (through the login form, token and all)."""
    web = app.test_client()
    if user is not None:
        token = TOKEN.search(web.get("/login").get_data(as_text=True)).group(1)
        form = {"email": user.email, "password": PASSWORD, "csrf_token": token}
        assert web.post("/login", data=form).status_code == 302
    return web


def _token(web) -> str:  # type: ignore[no-untyped-def]
    page = web.get("/settings")
    if page.status_code != 200:  # signed out (a public form): the login page's token
        page = web.get("/login")
    return TOKEN.search(page.get_data(as_text=True)).group(1)


def _audit_rows(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent))


@pytest.fixture
def people(app, make_user):  # type: ignore[no-untyped-def]
    therapist, patient = pair(app, make_user)
    users = {"therapist": therapist, "client": patient}
    users |= {"researcher": make_user("researcher"), "admin": make_user("admin")}
    ids = {
        "session_id": session_for(app, therapist, patient, "in_person").id,
        "user_id": patient.id,
        "value": "0",
        # link secrets and invitations: unknown ones; the CSRF check comes first
        "token": "not-a-real-token",
        "invitation_id": "no-such-invitation",
    }
    return users, ids


def test_every_form_without_its_token_is_refused_and_changes_nothing(app, people):
    users, ids = people
    refused, wrong = set(), []
    for rule, method in _forms(app):
        role = next(r for r in ROLE_ORDER if r in ACCESS[rule.endpoint])
        web = _signed_in(app, users.get(role))
        path = rule.build({k: ids[k] for k in rule.arguments}, append_unknown=False)[1]
        rows = _audit_rows(app)
        r = web.open(path, method=method, data={})
        if r.status_code != 400 or _audit_rows(app) != rows:
            wrong.append((rule.endpoint, method, r.status_code))
        refused.add(rule.endpoint)
    assert wrong == []
    assert refused >= NAMED
    with app.app_context():  # the requests really were refused, not merely answered
        assert db.session.get(User, ids["user_id"]).active
        assert db.session.get(TherapySession, ids["session_id"]).status == "scheduled"


def test_the_same_forms_with_their_token_pass_the_check(app, people):
    users, ids = people
    passed = []
    for rule, method in _forms(app):
        if rule.endpoint == "auth.login":
            continue  # signed in, the login form redirects before its token matters
        role = next(r for r in ROLE_ORDER if r in ACCESS[rule.endpoint])
        web = _signed_in(app, users.get(role))
        path = rule.build({k: ids[k] for k in rule.arguments}, append_unknown=False)[1]
        r = web.open(path, method=method, data={"csrf_token": _token(web)})
        passed.append((rule.endpoint, r.status_code))
    assert [p for p in passed if p[1] == 400] == []
    assert len(passed) >= len(NAMED) - 1


def test_a_signed_out_browser_cannot_sign_in_without_the_token(app, make_user):
    user = make_user("client")
    r = app.test_client().post(
        "/login", data={"email": user.email, "password": PASSWORD}
    )
    assert r.status_code == 400
