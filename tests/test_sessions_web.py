"""Scheduling and the session lifecycle through the pages."""

import re

from sqlalchemy import select

from teletherapy.extensions import db
from teletherapy.models import TherapySession

from .helpers import pair


def _schedule(client, patient_id: str, modality: str = "video"):  # type: ignore[no-untyped-def]
    form = {
        "client_id": patient_id,
        "modality": modality,
        "scheduled_start": "2026-12-01T10:00",
        "duration_minutes": 50,
    }
    return client.post("/sessions/", data=form, follow_redirects=True)


def _only_session(app) -> TherapySession:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalars(select(TherapySession)).one()


def test_demo_therapist_schedules_and_the_demo_client_sees_it(app, runner):
    out = runner.invoke(args=["demo", "--dyads", "0"]).output
    creds = {
        role: (email, pw)
        for role, email, pw in re.findall(r"(\w+)\s+(\S+@demo\.example)\s+(\S+)", out)
    }
    therapist, patient = app.test_client(), app.test_client()
    therapist.post(
        "/login", data=dict(zip(("email", "password"), creds["therapist"], strict=True))
    )
    page = therapist.get("/therapist").get_data(as_text=True)
    client_id = re.search(r'<option[^>]*value="([^"]+)"[^>]*>Sam Client', page).group(1)
    r = _schedule(therapist, client_id)
    assert b"Session scheduled" in r.data
    patient.post(
        "/login", data=dict(zip(("email", "password"), creds["client"], strict=True))
    )
    page = patient.get("/client").get_data(as_text=True)
    assert "Dr. Dana Reyes" in page and "Join session" in page


def test_in_person_session_is_started_and_ended_from_the_dashboard(
    app, client, auth, make_user
):
    therapist, patient = pair(app, make_user)
    auth.login(therapist)
    _schedule(client, patient.id, "in_person")
    s = _only_session(app)
    assert b"Start" in client.get("/therapist").data
    client.post(f"/sessions/{s.id}/start")
    assert _only_session(app).status == "live"
    r = client.post(f"/sessions/{s.id}/end")
    assert r.status_code == 302 and r.headers["Location"].endswith(
        f"/sessions/{s.id}/rating"
    )
    assert _only_session(app).status == "ended"
    assert client.get(f"/sessions/{s.id}").headers["Location"].endswith("/rating")


def test_cancel_from_the_dashboard_and_twice_is_explained(app, client, auth, make_user):
    therapist, patient = pair(app, make_user)
    auth.login(therapist)
    _schedule(client, patient.id)
    s = _only_session(app)
    assert (
        b"Session cancelled"
        in client.post(f"/sessions/{s.id}/cancel", follow_redirects=True).data
    )
    again = client.post(f"/sessions/{s.id}/cancel", follow_redirects=True)
    assert b"cannot be cancelled" in again.data


def test_client_cannot_cancel_or_schedule(app, client, auth, make_user):
    therapist, patient = pair(app, make_user)
    auth.login(therapist)
    _schedule(client, patient.id)
    auth.logout()
    auth.login(patient)
    assert _schedule(client, patient.id).status_code == 403
    assert client.post(f"/sessions/{_only_session(app).id}/cancel").status_code == 403
    assert _only_session(app).status == "scheduled"


def test_schedule_form_errors_are_explained_and_nothing_is_stored(
    app, client, auth, make_user
):
    therapist, patient = pair(app, make_user)
    auth.login(therapist)
    r = client.post(
        "/sessions/",
        data={
            "client_id": patient.id,
            "modality": "video",
            "scheduled_start": "not a date",
            "duration_minutes": 500,
        },
        follow_redirects=True,
    )
    assert b"Length in minutes" in r.data or b"Date and time" in r.data
    with app.app_context():
        assert db.session.scalars(select(TherapySession)).all() == []


def test_session_is_stored_in_utc_from_the_therapists_zone(
    app, client, auth, make_user
):
    therapist, patient = pair(app, make_user)
    auth.login(therapist)
    client.post("/settings", data={"timezone": "America/New_York"})
    _schedule(client, patient.id)
    assert _only_session(app).scheduled_start.isoformat() == "2026-12-01T15:00:00+00:00"
