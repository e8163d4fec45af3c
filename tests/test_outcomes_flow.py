"""Outcome questionnaires before a session: asked on the way to the call, skippable,
per-therapist settings, the safety flag for the therapist whatever the blinding, and
the therapist's client page (docs/outcomes.md)."""

import pytest
from sqlalchemy import select

from teletherapy.extensions import db
from teletherapy.models import AuditEvent, OutcomeResponse

from .helpers import pair, session_for
from .rating_helpers import answers_for, ended_session


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    """The deployment's default measures (config/default.toml; the test config asks
    none, so that other tests reach the call page directly)."""
    return make_app(OUTCOME_MEASURES=["phq9", "gad7"], OUTCOME_EVERY_N_SESSIONS=1)


PHQ9_MODERATE = {f"answers-q{n}": "1" for n in range(1, 9)} | {"answers-q9": "0"}
GAD7_MILD = {f"answers-q{n}": "1" for n in range(1, 8)}


def _rows(app) -> list[OutcomeResponse]:  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = db.session.scalars(select(OutcomeResponse)).all()
        return sorted(rows, key=lambda r: r.instrument_id)


def _actions(app) -> list[str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action)))


def test_join_link_asks_the_questionnaires_first_then_opens_the_call(
    app, client, make_user, auth
):
    therapist, patient = pair(app, make_user)
    sid = session_for(app, therapist, patient).id
    auth.login(patient)
    r = client.get(f"/sessions/{sid}")
    assert r.status_code == 302 and r.headers["Location"].endswith(
        f"/sessions/{sid}/before"
    )
    page = client.get(f"/sessions/{sid}/before").get_data(as_text=True)
    assert "PHQ-9" in page and "Over the last 2 weeks" in page
    assert page.count('type="radio"') == 9 * 4 and "Nearly every day" in page
    assert (
        "Skip this questionnaire" in page and "your therapist sees your answers" in page
    )
    r = client.post(
        f"/sessions/{sid}/before", data={"measure": "phq9", **PHQ9_MODERATE}
    )
    assert r.status_code == 303
    assert "GAD-7" in client.get(r.headers["Location"]).get_data(as_text=True)
    r = client.post(f"/sessions/{sid}/before", data={"measure": "gad7", "skip": "1"})
    r = client.get(r.headers["Location"])
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/sessions/{sid}")
    assert client.get(f"/sessions/{sid}").status_code == 200  # the call page now
    gad7, phq9 = _rows(app)
    assert (phq9.total, phq9.band, phq9.skipped, phq9.flagged) == (
        8,
        "mild",
        False,
        False,
    )
    assert (gad7.total, gad7.answers, gad7.skipped) == (None, None, True)
    assert {"outcome.submit", "outcome.skip"} <= set(_actions(app))


def test_a_missing_answer_is_refused_and_nothing_is_stored(
    app, client, make_user, auth
):
    therapist, patient = pair(app, make_user)
    sid = session_for(app, therapist, patient).id
    auth.login(patient)
    partial = {k: v for k, v in PHQ9_MODERATE.items() if k != "answers-q4"}
    r = client.post(f"/sessions/{sid}/before", data={"measure": "phq9", **partial})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "Please choose an answer for this question." in page
    assert page.count("checked") == 8  # the eight answers given are kept
    assert _rows(app) == []


def test_every_nth_session_and_the_therapists_own_choice(app, client, make_user, auth):
    therapist, patient = pair(app, make_user)
    first, second, third = (session_for(app, therapist, patient).id for _ in range(3))
    auth.login(therapist)
    settings_page = client.get("/settings").get_data(as_text=True)
    assert "Questionnaires before sessions" in settings_page
    r = client.post("/settings/outcomes", data={"measures": ["gad7"], "every_n": "2"})
    assert r.status_code == 302
    auth.logout()
    auth.login(patient)
    assert "GAD-7" in client.get(f"/sessions/{first}/before").get_data(as_text=True)
    assert client.get(f"/sessions/{second}").status_code == 200  # not due: the call
    assert client.get(f"/sessions/{third}").status_code == 302  # due again
    assert "Questionnaires before sessions" not in client.get("/settings").get_data(
        as_text=True
    )


def test_the_client_dashboard_links_to_fill_it_in_ahead(app, client, make_user, auth):
    therapist, patient = pair(app, make_user)
    sid = session_for(app, therapist, patient).id
    auth.login(patient)
    page = client.get("/client").get_data(as_text=True)
    assert f"/sessions/{sid}/before?ahead=1" in page
    client.post(
        f"/sessions/{sid}/before", data={"measure": "phq9", "skip": "1", "ahead": "1"}
    )
    r = client.post(
        f"/sessions/{sid}/before", data={"measure": "gad7", "skip": "1", "ahead": "1"}
    )
    r = client.get(r.headers["Location"])
    assert r.status_code == 302 and r.headers["Location"].endswith("/")
    assert "outcome-ahead" not in client.get("/client").get_data(as_text=True)


def test_item9_flag_reaches_the_therapist_under_the_blind_policy(
    app, client, make_user, auth
):
    assert app.config["RATING_REVEAL_POLICY"] == "blind"
    therapist, patient = pair(app, make_user)
    sid = session_for(app, therapist, patient).id
    auth.login(patient)
    client.post(
        f"/sessions/{sid}/before",
        data={"measure": "phq9", **PHQ9_MODERATE, "answers-q9": "2"},
    )
    client.post(f"/sessions/{sid}/before", data={"measure": "gad7", "skip": "1"})
    assert "outcome-flag" not in client.get(f"/sessions/{sid}").get_data(as_text=True)
    auth.logout()
    auth.login(therapist)
    dashboard = client.get("/therapist").get_data(as_text=True)
    assert 'data-testid="outcome-flag"' in dashboard and "PHQ-9 item 9" in dashboard
    call = client.get(f"/sessions/{sid}").get_data(as_text=True)
    assert 'data-testid="outcome-flag"' in call
    assert "outcome.flag" in _actions(app)
    page = client.get(f"/clients/{patient.id}/outcomes").get_data(as_text=True)
    assert "10 (Moderate)" in page and "safety flag" in page
    assert "outcome.read" in _actions(app)


def test_client_page_is_the_therapists_own_and_shows_alliance_as_the_policy_allows(
    app, client, make_user, auth, token_for
):
    therapist, patient = pair(app, make_user)
    sid = ended_session(app, therapist, patient)
    for who, form in ((patient, "dta-c"), (therapist, "dta-t")):
        r = client.post(
            f"/api/v1/sessions/{sid}/rating",
            json={"answers": answers_for(app, form)},
            headers=token_for(who),
        )
        assert r.status_code == 201, r.get_json()
    auth.login(therapist)
    page = client.get(f"/clients/{patient.id}/outcomes").get_data(as_text=True)
    assert "not shown: the rating policy keeps them blind" in page
    assert "Client's alliance" not in page
    plot = client.get(f"/clients/{patient.id}/outcomes.svg")
    assert plot.status_code == 200 and plot.mimetype == "image/svg+xml"
    app.config["RATING_REVEAL_POLICY"] = "reveal_after_both"
    page = client.get(f"/clients/{patient.id}/outcomes").get_data(as_text=True)
    assert "Client's alliance" in page
    auth.logout()
    auth.login(make_user("therapist"))
    assert client.get(f"/clients/{patient.id}/outcomes").status_code == 404
