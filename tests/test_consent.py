"""Research consent: give and withdraw (API and page), versions, audit, and its effect."""

import html as entities
import re

import pytest
from sqlalchemy import select

from teletherapy import create_app
from teletherapy.config import Settings
from teletherapy.extensions import db
from teletherapy.models import ResearchConsent
from teletherapy.services import accounts, audit

from .conftest import PASSWORD
from .research_helpers import audit_actions, consent, history, rated_session

URL = "/api/v1/me/consent"
VERSION = "2026-11"  # config/default.toml


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    """These tests count what reaches researchers in data of one or two dyads, fewer
    than RESEARCH_MIN_CELL (default 5); the small-cell rule has its own tests
    (tests/test_research_cells.py)."""
    return make_app(RESEARCH_MIN_CELL=1)


def _rows(app, user):  # type: ignore[no-untyped-def]
    with app.app_context():
        stmt = select(ResearchConsent).where(ResearchConsent.user_id == user.id)
        return list(db.session.scalars(stmt.order_by(ResearchConsent.given_at)))


@pytest.mark.parametrize("role", ["client", "therapist"])
def test_give_and_withdraw_through_the_api(app, client, make_user, token_for, role):
    user = make_user(role)
    headers = token_for(user)
    before = client.get(URL, headers=headers).get_json()
    assert before == {
        "research": False,
        "version": VERSION,
        "current_version": VERSION,
        "up_to_date": False,
        "given_at": None,
        "withdrawn_at": None,
    }
    given = client.put(
        URL, json={"research": True, "version": VERSION}, headers=headers
    )
    assert given.status_code == 200
    body = given.get_json()
    assert (
        body["research"] is True
        and body["up_to_date"]
        and body["given_at"].endswith("Z")
    )
    again = client.put(
        URL, json={"research": True, "version": VERSION}, headers=headers
    )
    assert again.get_json()["given_at"] == body["given_at"]  # no second row
    gone = client.put(URL, json={"research": False}, headers=headers).get_json()
    assert gone["research"] is False and gone["withdrawn_at"]
    assert client.get(URL, headers=headers).get_json()["research"] is False
    rows = _rows(app, user)
    assert len(rows) == 1 and rows[0].withdrawn_at is not None
    actions = [
        (a.action, a.actor_id, a.details) for a in audit_actions(app, "consent.")
    ]
    assert actions == [
        ("consent.give", user.id, {"version": VERSION}),
        ("consent.withdraw", user.id, {"version": VERSION}),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"research": True, "version": "2019-01"}, "version"),
        ({"research": True}, "version"),
        ({"research": "true", "version": VERSION}, "research"),
        ({"research": 1, "version": VERSION}, "research"),
        ({"version": VERSION}, "research"),
        ({"research": True, "version": VERSION, "name": "x"}, "name"),
        ({"research": True, "version": 2026}, "version"),
        ({"research": True, "version": "2026-11\u0000"}, "version"),
    ],
)
def test_bad_consent_bodies_are_422_per_field(
    app, client, make_user, token_for, body, field
):
    user = make_user("client")
    r = client.put(URL, json=body, headers=token_for(user))
    assert r.status_code == 422
    assert set(r.get_json()["error"]["details"]) == {field}
    assert _rows(app, user) == []


def test_consent_order_of_checks(client, make_user, token_for):
    assert client.put(URL, data="[]").status_code == 401
    researcher = token_for(make_user("researcher"))
    assert client.put(URL, data="[]", headers=researcher).status_code == 403
    assert client.get(URL, headers=researcher).status_code == 403
    patient = token_for(make_user("client"))
    assert client.put(URL, data="[]", headers=patient).status_code == 400
    assert client.put(URL, data="not json", headers=patient).status_code == 400


def test_a_new_text_version_supersedes_the_old_consent(
    app, client, make_user, token_for
):
    user = make_user("client")
    consent(app, user, version="2025-01")
    headers = token_for(user)
    old = client.get(URL, headers=headers).get_json()
    assert old["research"] and old["version"] == "2025-01" and not old["up_to_date"]
    client.put(URL, json={"research": True, "version": VERSION}, headers=headers)
    rows = _rows(app, user)
    assert [(r.version, r.withdrawn_at is None) for r in rows] == [
        ("2025-01", False),
        (VERSION, True),
    ]


def test_withdrawal_removes_the_persons_sessions_from_summaries_and_exports(
    app, client, make_user, token_for
):
    therapist, kept, leaving = (
        make_user("therapist"),
        make_user("client"),
        make_user("client"),
    )
    for person in (therapist, kept, leaving):
        client.put(
            URL, json={"research": True, "version": VERSION}, headers=token_for(person)
        )
    history(app, therapist, kept, 3)
    history(app, therapist, leaving, 4)
    researcher = token_for(make_user("researcher"))

    def counts() -> tuple[int, int, int]:
        s = client.get("/api/v1/research/summary", headers=researcher).get_json()
        wide = client.get("/api/v1/research/export.csv", headers=researcher)
        long = client.get("/api/v1/research/export.csv?shape=long", headers=researcher)
        lines = (
            wide.get_data(as_text=True).count("\n"),
            long.get_data(as_text=True).count("\n"),
        )
        return s["n_pairs"], lines[0] - 1, lines[1] - 1

    assert counts() == (7, 7, 14)
    client.put(URL, json={"research": False}, headers=token_for(leaving))
    assert counts() == (3, 3, 6)
    client.put(URL, json={"research": False}, headers=token_for(therapist))
    assert counts() == (0, 0, 0)


def test_only_sessions_where_both_consented_reach_researchers(
    app, client, make_user, token_for
):
    therapist, patient = make_user("therapist"), make_user("client")
    rated_session(app, therapist, patient)
    researcher = token_for(make_user("researcher"))
    summary = "/api/v1/research/summary"
    for person, expected in ((therapist, 0), (patient, 1)):
        client.put(
            URL, json={"research": True, "version": VERSION}, headers=token_for(person)
        )
        assert client.get(summary, headers=researcher).get_json()["n_pairs"] == expected


def test_consent_page_says_what_researchers_receive(client, auth, make_user):
    auth.login(make_user("client"))
    page = entities.unescape(client.get("/consent").get_data(as_text=True))
    assert f"The consent text (version {VERSION})" in page
    for fact in (
        "code number",
        "rating scores",
        "connection quality",
        "video, audio, chat or in person",
    ):
        assert fact in page
    assert (
        "never receive" in page and "e-mail address" in page and "chat messages" in page
    )
    submit = page.index('data-testid="consent-give"')
    assert "never your name, e-mail address or chat" in page[submit - 300 : submit]
    assert 'name="version" value="2026-11"' in page
    assert "consent-withdraw" not in page


def test_consent_page_give_and_withdraw(app, client, auth, make_user):
    user = make_user("therapist")
    auth.login(user)
    r = client.post("/consent", data={"decision": "give", "version": VERSION})
    assert r.status_code == 303
    page = client.get("/consent").get_data(as_text=True)
    assert "You have agreed" in page and 'data-testid="consent-withdraw"' in page
    assert 'data-testid="consent-give"' not in page
    client.post("/consent", data={"decision": "withdraw"})
    page = client.get("/consent").get_data(as_text=True)
    assert "not</strong> used for research" in page and "You withdrew" in page
    assert [a.action for a in audit_actions(app, "consent.")] == [
        "consent.give",
        "consent.withdraw",
    ]


@pytest.mark.parametrize(
    "form",
    [
        {"decision": "give", "version": "2019-01"},
        {"decision": "maybe", "version": VERSION},
    ],
)
def test_consent_page_refuses_stale_or_unknown_decisions(
    app, client, auth, make_user, form
):
    user = make_user("client")
    auth.login(user)
    r = client.post("/consent", data=form, follow_redirects=True)
    assert r.status_code == 200 and "flash-error" in r.get_data(as_text=True)
    assert _rows(app, user) == []


def test_consent_form_needs_its_csrf_token(database_url, tmp_path):
    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "k",
            "PSEUDONYM_KEY": "p",
        }
    )
    app.instance_path = str(tmp_path)
    try:
        with app.app_context():
            user = accounts.create_user(
                db.session,
                email="csrf@example.org",
                name="C",
                role="client",
                password=PASSWORD,
                actor_id=None,
                hash_method=Settings.of(app.config).password_hash_method,
                origin=audit.CLI,
            )
        c = app.test_client()
        login = c.get("/login").get_data(as_text=True)
        token = re.search(
            r'name="csrf_token" type="hidden" value="([^"]+)"', login
        ).group(1)
        c.post(
            "/login",
            data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        )
        bare = c.post("/consent", data={"decision": "give", "version": VERSION})
        assert bare.status_code == 400
        assert _rows(app, user) == []
        page = c.get("/consent").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = {"decision": "give", "version": VERSION, "csrf_token": token}
        assert c.post("/consent", data=form).status_code == 303
        assert len(_rows(app, user)) == 1
    finally:
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("role", ["researcher", "admin"])
def test_consent_page_is_for_clients_and_therapists(client, auth, make_user, role):
    auth.login(make_user(role))
    assert client.get("/consent").status_code == 403
    assert client.post("/consent", data={"decision": "give"}).status_code == 403
