"""The rating page with plain form posts (no JavaScript), and the dashboards."""

import html as entities
import re
from datetime import timedelta

import pytest
import time_machine

from teletherapy import live
from teletherapy.extensions import db
from teletherapy.models import TherapySession

from .helpers import pair, session_for
from .rating_helpers import answers_for, ended_session, rating_rows, set_status


@pytest.fixture
def dyad(app, make_user):  # type: ignore[no-untyped-def]
    therapist, client = pair(app, make_user)
    return therapist, client, ended_session(app, therapist, client)


def _form(answers: dict[str, int], prefix: str = "answers-") -> dict[str, str]:
    return {f"{prefix}{k}": str(v) for k, v in answers.items()}


def _page(client, sid: str) -> str:  # type: ignore[no-untyped-def]
    r = client.get(f"/sessions/{sid}/rating")
    assert r.status_code == 200, r.status_code
    return r.get_data(as_text=True)


def test_the_rating_url_points_at_the_rating_page(app, dyad):
    _, _, sid = dyad
    with app.test_request_context(), app.app_context():
        url = live.rating_url(db.session.get(TherapySession, sid))
    assert url == f"/sessions/{sid}/rating"


def test_the_form_is_accessible_and_shows_every_anchor(client, auth, dyad):
    _, patient, sid = dyad
    auth.login(patient)
    html = _page(client, sid)
    assert 'data-testid="rating-form"' in html
    assert 'data-testid="rating-submit"' in html
    assert html.count("<fieldset") == 12 and html.count("<legend>") == 12
    assert "I understood why we did the things we did today." in html
    for item in ("g1", "d3"):
        radios = re.findall(rf'name="answers-{item}" value="(\d)"', html)
        assert radios == ["1", "2", "3", "4", "5"]
    for anchor in ("Not at all", "A little", "Somewhat", "Mostly", "Completely"):
        assert html.count(f'<span class="point-anchor">{anchor}</span>') == 12
    assert 'name="csrf_token"' in html
    assert "js/rating-form.js" in html and "css/rating.css" in html
    assert "<script>" not in html  # CSP: no inline script


@pytest.mark.parametrize(
    ("policy", "role", "note"),
    [
        (
            "blind",
            "client",
            "Your therapist will never see your answers or your scores.",
        ),
        (
            "blind",
            "therapist",
            "Your client will never see your answers or your scores.",
        ),
        (
            "reveal_after_both",
            "client",
            "Your therapist will never see your individual answers. Once you have both "
            "rated this session, they will see your scores",
        ),
        (
            "reveal_after_both",
            "therapist",
            "Once you have both rated this session, you will see your client's scores",
        ),
    ],
)
def test_the_form_says_next_to_submit_who_sees_the_answers(
    app, client, auth, dyad, policy, role, note
):
    therapist, patient, sid = dyad
    app.config["RATING_REVEAL_POLICY"] = policy
    auth.login(patient if role == "client" else therapist)
    html = _page(client, sid)
    start = html.index('class="submit-row"')
    submit_row = html[start : html.index("</form>", start)]
    assert note in entities.unescape(submit_row)
    assert 'data-testid="rating-submit"' in submit_row


def test_in_person_form_has_no_digital_questions(app, client, auth, make_user):
    therapist, patient = pair(app, make_user)
    sid = ended_session(app, therapist, patient, "in_person")
    auth.login(patient)
    html = _page(client, sid)
    assert html.count("<fieldset") == 9
    assert "answers-d1" not in html


def test_therapist_sees_the_optional_meta_section(client, auth, dyad):
    therapist, _, sid = dyad
    auth.login(therapist)
    html = _page(client, sid)
    assert "Optional: how do you think your client rated this session?" in html
    assert html.count('name="meta-m-goal"') == 6  # 5 points and "Skip"


def test_a_plain_form_post_stores_the_rating_and_thanks(app, client, auth, dyad):
    therapist, _, sid = dyad
    auth.login(therapist)
    data = _form(answers_for(app, "dta-t", 4)) | {
        "meta-m-goal": "5",
        "meta-m-task": "",  # skipped
    }
    r = client.post(f"/sessions/{sid}/rating", data=data)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/{sid}/rating")
    html = _page(client, sid)
    assert "Thank you. Your rating is saved." in html
    assert "Thank you for rating this session" in html
    assert f'data-rating-done="{sid}:therapist"' in html
    assert 'data-testid="rating-form"' not in html
    (row,) = rating_rows(app)
    assert row.answers == answers_for(app, "dta-t", 4)
    assert row.meta_answers == {"m-goal": 5}


def test_errors_are_shown_per_question_and_answers_kept(app, client, auth, dyad):
    _, patient, sid = dyad
    auth.login(patient)
    answers = answers_for(app, "dta-c", 2)
    del answers["t2"]
    data = _form(answers) | {"answers-b1": "seven"}
    r = client.post(f"/sessions/{sid}/rating", data=data)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Some answers need your attention" in html
    assert "Please choose an answer for this question." in html  # t2
    assert "Please choose one of the answers shown." in html  # b1
    assert 'id="err-answers-t2"' in html and 'href="#q-answers-t2"' in html
    assert re.search(r'name="answers-g1" value="2"\s+checked', html)
    assert not re.search(r'name="answers-g1" value="3"\s+checked', html)
    assert 'data-testid="rating-form"' in html
    assert rating_rows(app) == []


def test_a_second_post_says_already_submitted(app, client, auth, dyad):
    _, patient, sid = dyad
    auth.login(patient)
    data = _form(answers_for(app, "dta-c", 4))
    assert client.post(f"/sessions/{sid}/rating", data=data).status_code == 303
    again = client.post(
        f"/sessions/{sid}/rating", data=_form(answers_for(app, "dta-c", 1))
    )
    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert "You have already rated this session" in html
    assert f'data-rating-done="{sid}:client"' in html
    (row,) = rating_rows(app)
    assert set(row.answers.values()) == {4}
    assert "You have already rated" not in _page(client, sid)  # GET: thank-you state
    assert "Thank you for rating this session" in _page(client, sid)


def test_a_closed_window_is_explained(app, client, auth, dyad):
    _, patient, sid = dyad
    with time_machine.travel(timedelta(hours=73)):
        auth.login(patient)
        html = _page(client, sid)
        assert "This rating has closed" in html
        r = client.post(
            f"/sessions/{sid}/rating", data=_form(answers_for(app, "dta-c"))
        )
        assert r.status_code == 410
    assert rating_rows(app) == []


@pytest.mark.parametrize("status", ["scheduled", "cancelled"])
def test_sessions_not_ended_have_no_form(app, client, auth, make_user, status):
    therapist, patient = pair(app, make_user)
    sid = session_for(app, therapist, patient).id
    if status != "scheduled":
        set_status(app, sid, status)
    auth.login(patient)
    r = client.get(f"/sessions/{sid}/rating")
    assert r.status_code == 409
    assert "This session has not ended yet" in r.get_data(as_text=True)
    r = client.post(f"/sessions/{sid}/rating", data=_form(answers_for(app, "dta-c")))
    assert r.status_code == 409
    assert rating_rows(app) == []


def test_outsiders_get_404_on_the_page(app, client, auth, make_user, dyad):
    _, _, sid = dyad
    auth.login(make_user("therapist"))
    assert client.get(f"/sessions/{sid}/rating").status_code == 404
    r = client.post(f"/sessions/{sid}/rating", data=_form(answers_for(app, "dta-t")))
    assert r.status_code == 404
    assert rating_rows(app) == []


@pytest.mark.parametrize("role", ["client", "therapist"])
def test_dashboard_lists_ratings_to_complete_then_rated(app, client, auth, dyad, role):
    therapist, patient, sid = dyad
    me = patient if role == "client" else therapist
    auth.login(me)
    html = client.get(f"/{role}").get_data(as_text=True)
    section = html[html.index('id="ratings-h"') :]
    assert "Ratings to complete" in html
    assert f'href="/sessions/{sid}/rating"' in section
    form = "dta-c" if role == "client" else "dta-t"
    client.post(f"/sessions/{sid}/rating", data=_form(answers_for(app, form)))
    html = client.get(f"/{role}").get_data(as_text=True)
    section = html[html.index('id="ratings-h"') :]
    assert f'href="/sessions/{sid}/rating"' in section  # still reachable, as "Rated"
    assert "Rated" in section and "Nothing to rate right now" in section


def test_the_form_post_is_protected_by_csrf(database_url, tmp_path, make_user):
    from teletherapy import create_app

    from .conftest import PASSWORD

    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "k",
            "PSEUDONYM_KEY": "p",
            "ALLOWED_ORIGINS": ["http://localhost"],
        }
    )
    app.instance_path = str(tmp_path)
    therapist, patient = pair(app, make_user)
    sid = ended_session(app, therapist, patient)
    c = app.test_client()
    page = c.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    token = token or re.search(r'name="csrf_token" value="([^"]+)"', page)
    c.post(
        "/login",
        data={"email": patient.email, "password": PASSWORD, "csrf_token": token[1]},
    )
    data = _form(answers_for(app, "dta-c"))
    assert c.post(f"/sessions/{sid}/rating", data=data).status_code == 400
    html = c.get(f"/sessions/{sid}/rating").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
    r = c.post(f"/sessions/{sid}/rating", data=data | {"csrf_token": token})
    assert r.status_code == 303
    assert len(rating_rows(app)) == 1
    db.session.remove()
    db.engine.dispose()
