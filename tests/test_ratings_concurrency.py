"""docs/security.md, rows 16 and 17: concurrent and duplicate submissions store exactly one rating,
answer 409 for the rest, never 5xx, and leave the database writable."""

import threading
from concurrent.futures import ThreadPoolExecutor

from teletherapy.services import rating_submission

from .conftest import PASSWORD
from .helpers import pair
from .rating_helpers import (
    answers_for,
    audit_count,
    ended_session,
    rating_path,
    rating_rows,
)

RACERS = 50


def _race(app, requests) -> list[int]:  # type: ignore[no-untyped-def]
    """Run each request function in its own thread with its own test client,
    all released at once; returns the status codes."""
    barrier = threading.Barrier(len(requests))

    def run(request):  # type: ignore[no-untyped-def]
        client = app.test_client()
        prepared = request(client)  # e.g. log in before the race starts
        barrier.wait(timeout=60)
        r = prepared()
        status = r.status_code
        r.close()
        return status

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(run, requests))


def test_fifty_concurrent_api_submissions_store_one_rating(app, make_user, token_for):
    therapist, patient = pair(app, make_user)
    sid = ended_session(app, therapist, patient)
    headers = token_for(patient)
    answers = answers_for(app, "dta-c", 4)

    def api(client):  # type: ignore[no-untyped-def]
        return lambda: client.post(
            rating_path(sid), json={"answers": answers}, headers=headers
        )

    statuses = _race(app, [api] * RACERS)
    assert sorted(statuses) == [201] + [409] * (RACERS - 1)
    rows = rating_rows(app)
    assert len(rows) == 1 and rows[0].rater_id == patient.id
    assert audit_count(app, "rating.submit") == 1
    # The database is still writable after the losers' rollbacks.
    assert (
        app.test_client()
        .post(
            rating_path(sid),
            json={"answers": answers_for(app, "dta-t")},
            headers=token_for(therapist),
        )
        .status_code
        == 201
    )


def test_page_and_api_submissions_racing_store_one_rating(app, make_user, token_for):
    therapist, patient = pair(app, make_user)
    sid = ended_session(app, therapist, patient)
    headers = token_for(therapist)
    answers = answers_for(app, "dta-t", 3)
    form = {f"answers-{k}": str(v) for k, v in answers.items()}

    def api(client):  # type: ignore[no-untyped-def]
        return lambda: client.post(
            rating_path(sid), json={"answers": answers}, headers=headers
        )

    def page(client):  # type: ignore[no-untyped-def]
        client.post("/login", data={"email": therapist.email, "password": PASSWORD})
        return lambda: client.post(f"/sessions/{sid}/rating", data=form)

    statuses = _race(app, [api, page] * 10)
    assert all(s < 500 for s in statuses)
    assert sum(s in (201, 303) for s in statuses) == 1
    assert sorted(s for s in statuses if s not in (201, 303)) == [409] * 19
    assert len(rating_rows(app)) == 1


def test_a_duplicate_that_reaches_the_database_is_rolled_back(
    app, client, make_user, token_for, monkeypatch
):
    """The UNIQUE constraint answers when the check before it is raced past."""
    therapist, patient = pair(app, make_user)
    sid = ended_session(app, therapist, patient)
    headers = token_for(patient)
    answers = answers_for(app, "dta-c", 2)
    assert (
        client.post(rating_path(sid), json={"answers": answers}, headers=headers)
    ).status_code == 201
    monkeypatch.setattr(rating_submission, "_own", lambda *args: None)  # lose the race
    r = client.post(
        rating_path(sid),
        json={"answers": answers_for(app, "dta-c", 5)},
        headers=headers,
    )
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "already_submitted"
    monkeypatch.undo()
    (row,) = rating_rows(app)
    assert set(row.answers.values()) == {2}
    assert audit_count(app, "rating.submit") == 1  # the audit row went with it
    # SQLite is not left locked: the other participant can still write.
    r = client.post(
        rating_path(sid),
        json={"answers": answers_for(app, "dta-t")},
        headers=token_for(therapist),
    )
    assert r.status_code == 201
