"""Rating API: form, one submission, 422 per item, order of checks, window, pending."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from ratings import score
from teletherapy import instruments_app as instruments
from teletherapy.extensions import db
from teletherapy.models import AuditEvent, Rating, TherapySession, User

from .helpers import pair, session_for
from .rating_helpers import (
    answers_for,
    audit_count,
    ended_session,
    rating_path,
    rating_rows,
    set_status,
)

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def dyad(app, make_user):  # type: ignore[no-untyped-def]
    therapist, client = pair(app, make_user)
    return therapist, client, ended_session(app, therapist, client)


def _error(r, status: int, code: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.get_data(as_text=True)
    body = r.get_json()["error"]
    if code:
        assert body["code"] == code
    return body


@pytest.mark.parametrize("role", ["client", "therapist"])
def test_pending_form_has_the_contract_shape(app, client, token_for, dyad, role):
    therapist, patient, sid = dyad
    me = patient if role == "client" else therapist
    body = client.get(rating_path(sid), headers=token_for(me)).get_json()
    assert body["status"] == "pending"
    assert body["perspective"] == role
    assert body["submitted_at"] is None and body["rating"] is None
    form = body["instrument"]
    assert (form["id"], form["version"]) == (
        {"client": "dta-c", "therapist": "dta-t"}[role],
        "1.0",
    )
    assert len(form["items"]) == 12
    assert {"id", "text", "subscale", "min", "max", "anchors"} <= set(form["items"][0])
    assert form["items"][0]["anchors"]["1"] == "Not at all"
    meta = body["meta_instrument"]
    assert (meta["id"] if meta else None) == (
        "dta-meta" if role == "therapist" else None
    )
    assert "/rating" in body["rating_url"]
    assert body["visibility"].startswith(
        "Your therapist will never see" if role == "client" else "Your client will"
    )
    with app.app_context():
        ended = db.session.get(TherapySession, sid).ended_at
    assert body["closes_at"] == (ended + timedelta(hours=72)).isoformat().replace(
        "+00:00", "Z"
    )


def test_submission_returns_201_with_scores_from_the_instrument(
    app, client, token_for, dyad
):
    _, patient, sid = dyad
    answers = answers_for(app, "dta-c", 4) | {"g1": 5, "d2": 1, "b3": 2}
    r = client.post(
        rating_path(sid), json={"answers": answers}, headers=token_for(patient)
    )
    assert r.status_code == 201, r.get_json()
    rating = r.get_json()["rating"]
    assert set(rating) >= {
        "id",
        "perspective",
        "instrument_id",
        "instrument_version",
        "answers",
        "scores",
        "submitted_at",
    }
    assert rating["perspective"] == "client"
    assert (rating["instrument_id"], rating["instrument_version"]) == ("dta-c", "1.0")
    assert rating["answers"] == answers
    with app.app_context():
        expected = score(instruments.registry().get("dta-c", "1.0"), answers)
    # goal 13, task 12, bond 10: total 35 (digital 4 + 5 + 2 = 11 is reported apart)
    assert rating["scores"] == {
        "total": 35.0,
        "subscales": {"goal": 13.0, "task": 12.0, "bond": 10.0, "digital": 11.0},
    }
    assert rating["scores"]["total"] == expected.total
    assert rating["submitted_at"].endswith("Z")
    (row,) = rating_rows(app)
    assert (row.id, row.rater_id, row.session_id) == (rating["id"], patient.id, sid)
    assert (row.instrument_id, row.instrument_version) == ("dta-c", "1.0")
    assert row.answers == answers and row.total == 35.0
    got = client.get(rating_path(sid), headers=token_for(patient)).get_json()
    assert got["status"] == "submitted"
    assert got["submitted_at"] == rating["submitted_at"]
    assert got["rating"] == {**rating, "meta_answers": None}


def _valid(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return answers_for(app, "dta-c", 3)


BAD_ANSWERS = [
    ("above the range", {"g1": 6}, {"answers.g1"}),
    ("below the range", {"t2": 0}, {"answers.t2"}),
    ("a string", {"g2": "3"}, {"answers.g2"}),
    ("a float", {"g3": 3.5}, {"answers.g3"}),
    ("a whole float", {"b1": 3.0}, {"answers.b1"}),
    ("a boolean", {"b2": True}, {"answers.b2"}),
    ("null", {"b3": None}, {"answers.b3"}),
    ("an unknown item", {"zz": 3}, {"answers.zz"}),
    ("two problems", {"g1": 9, "t1": "x"}, {"answers.g1", "answers.t1"}),
]


@pytest.mark.parametrize(("case", "change", "keys"), BAD_ANSWERS)
def test_bad_answers_get_422_per_item_and_store_nothing(
    app, client, token_for, dyad, case, change, keys
):
    _, patient, sid = dyad
    answers = _valid(app) | change
    err = _error(
        client.post(
            rating_path(sid), json={"answers": answers}, headers=token_for(patient)
        ),
        422,
        "invalid",
    )
    assert set(err["details"]) == keys, case
    assert all(isinstance(m, str) and m for m in err["details"].values())
    assert rating_rows(app) == []
    assert audit_count(app, "rating.submit") == 0


def test_missing_items_are_each_named(app, client, token_for, dyad):
    _, patient, sid = dyad
    answers = {k: v for k, v in _valid(app).items() if k not in ("g1", "d3")}
    err = _error(
        client.post(
            rating_path(sid), json={"answers": answers}, headers=token_for(patient)
        ),
        422,
    )
    assert err["details"] == {
        "answers.g1": "is required: give an integer between 1 and 5",
        "answers.d3": "is required: give an integer between 1 and 5",
    }
    assert rating_rows(app) == []


@pytest.mark.parametrize(
    ("body", "keys"),
    [
        ({"surprise": 1}, {"surprise"}),
        ({"answers": [3, 3]}, {"answers"}),
        ({"answers": "all fours"}, {"answers"}),
        ({"answers": None}, {"answers"}),
        ({}, {"answers"}),
        ({"meta_answers": {"m-goal": 4}}, {"meta_answers"}),
        # a client sends no meta answers at all: one detail, whatever their values
        ({"meta_answers": {"m-goal": "x"}}, {"meta_answers"}),
        ({"meta_answers": "x"}, {"meta_answers"}),
    ],
    ids=[
        "extra field",
        "list",
        "string",
        "null",
        "missing",
        "client meta",
        "client meta not an integer",
        "client meta not an object",
    ],
)
def test_bad_fields_get_422_and_store_nothing(app, client, token_for, dyad, body, keys):
    _, patient, sid = dyad
    payload = {"answers": _valid(app), **body} if body else {}
    err = _error(
        client.post(rating_path(sid), json=payload, headers=token_for(patient)), 422
    )
    assert set(err["details"]) == keys
    assert rating_rows(app) == []


def test_a_missing_or_malformed_answers_field_says_what_was_expected(
    client, token_for, dyad
):
    _, patient, sid = dyad
    for body, message in (
        ({}, "is required: an object of item ids to integers"),
        ({"answers": None}, "must be an object of item ids to integers (got null)"),
        ({"answers": [3]}, "must be an object of item ids to integers (got [3])"),
    ):
        r = client.post(rating_path(sid), json=body, headers=token_for(patient))
        assert _error(r, 422)["details"] == {"answers": message}


def test_an_extra_field_and_a_bad_item_are_reported_together(
    app, client, token_for, dyad
):
    _, patient, sid = dyad
    payload = {"answers": _valid(app) | {"g1": "5"}, "note": "hi"}
    err = _error(
        client.post(rating_path(sid), json=payload, headers=token_for(patient)), 422
    )
    assert set(err["details"]) == {"answers.g1", "note"}
    assert (
        err["details"]["answers.g1"] == 'must be an integer between 1 and 5 (got "5")'
    )


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"not json", b"", b"null", b"4"])
def test_body_that_is_not_an_object_gets_400(app, client, token_for, dyad, raw):
    _, patient, sid = dyad
    headers = token_for(patient) | {"Content-Type": "application/json"}
    _error(client.post(rating_path(sid), data=raw, headers=headers), 400, "bad_request")
    assert rating_rows(app) == []


def test_without_credentials_401_comes_first(client, dyad):
    _, _, sid = dyad
    _error(client.get(rating_path(sid)), 401, "not_authenticated")
    _error(client.post(rating_path(sid), data=b"[]"), 401, "not_authenticated")
    _error(client.get(rating_path(UNKNOWN)), 401, "not_authenticated")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_outsiders_get_the_same_404_as_for_unknown_ids(
    app, client, make_user, token_for, dyad, method
):
    _, _, sid = dyad
    other_therapist, other_client = pair(app, make_user)
    for outsider in (other_therapist, other_client):
        headers = token_for(outsider)
        # An invalid body too: 404 comes before 400 and 422.
        for body in (b"[]", b'{"answers": {"g1": 9}}'):
            kw = {"data": body} if method == "POST" else {}
            theirs = client.open(rating_path(sid), method=method, headers=headers, **kw)
            unknown = client.open(
                rating_path(UNKNOWN), method=method, headers=headers, **kw
            )
            assert _error(theirs, 404) == _error(unknown, 404)
    assert rating_rows(app) == []


@pytest.mark.parametrize("status", ["scheduled", "live", "cancelled"])
def test_sessions_that_have_not_ended_get_409(
    app, client, make_user, token_for, status
):
    therapist, patient = pair(app, make_user)
    sid = session_for(app, therapist, patient).id
    if status != "scheduled":
        set_status(app, sid, status)
    for who in (therapist, patient):
        headers = token_for(who)
        _error(client.get(rating_path(sid), headers=headers), 409, "session_not_ended")
        form = "dta-c" if who is patient else "dta-t"
        r = client.post(
            rating_path(sid), json={"answers": answers_for(app, form)}, headers=headers
        )
        _error(r, 409, "session_not_ended")
        # Fields are checked before state (docs/ratings.md: 422 before 409).
        r = client.post(rating_path(sid), json={"answers": {}}, headers=headers)
        _error(r, 422, "invalid")
    assert rating_rows(app) == []


def test_a_second_submission_gets_409_and_changes_nothing(app, client, token_for, dyad):
    _, patient, sid = dyad
    headers = token_for(patient)
    first = client.post(
        rating_path(sid), json={"answers": _valid(app)}, headers=headers
    )
    assert first.status_code == 201
    again = client.post(
        rating_path(sid),
        json={"answers": answers_for(app, "dta-c", 5)},
        headers=headers,
    )
    _error(again, 409, "already_submitted")
    (row,) = rating_rows(app)
    assert row.answers == _valid(app)
    # Invalid answers after submitting are still a 422 (fields before state).
    _error(
        client.post(rating_path(sid), json={"answers": {"g1": 0}}, headers=headers), 422
    )


def test_after_the_window_the_form_is_closed_and_submissions_get_410(
    app, client, token_for, dyad
):
    therapist, patient, sid = dyad
    hours = app.config["RATING_WINDOW_HOURS"]
    with time_machine.travel(timedelta(hours=hours, seconds=1)):
        headers = token_for(patient)
        assert client.get(rating_path(sid), headers=headers).get_json()["status"] == (
            "closed"
        )
        r = client.post(
            rating_path(sid), json={"answers": _valid(app)}, headers=headers
        )
        _error(r, 410, "rating_closed")
        pending = client.get("/api/v1/ratings/pending", headers=headers).get_json()
        assert pending["items"] == []
    with time_machine.travel(timedelta(hours=hours, seconds=-30)):
        r = client.post(
            rating_path(sid),
            json={"answers": answers_for(app, "dta-t")},
            headers=token_for(therapist),
        )
        assert r.status_code == 201
    assert [r.rater_id for r in rating_rows(app)] == [therapist.id]


def test_window_length_comes_from_the_config(app, client, token_for, dyad):
    _, patient, sid = dyad
    app.config["RATING_WINDOW_HOURS"] = 1
    with time_machine.travel(timedelta(hours=1, seconds=1)):
        r = client.post(
            rating_path(sid), json={"answers": _valid(app)}, headers=token_for(patient)
        )
        _error(r, 410, "rating_closed")


def test_in_person_sessions_leave_the_digital_items_out(
    app, client, make_user, token_for
):
    therapist, patient = pair(app, make_user)
    sid = ended_session(app, therapist, patient, "in_person")
    headers = token_for(patient)
    form = client.get(rating_path(sid), headers=headers).get_json()["instrument"]
    assert [i["id"] for i in form["items"]] == [
        "g1", "g2", "g3", "t1", "t2", "t3", "b1", "b2", "b3",
    ]  # fmt: skip
    assert "digital" not in {s["id"] for s in form["subscales"]}
    err = _error(
        client.post(
            rating_path(sid),
            json={"answers": answers_for(app, "dta-c", 4)},
            headers=headers,
        ),
        422,
    )
    assert err["details"] == {
        f"answers.d{n}": "is not asked in in-person sessions" for n in (1, 2, 3)
    }
    r = client.post(
        rating_path(sid),
        json={"answers": answers_for(app, "dta-c", 4, skip="digital")},
        headers=headers,
    )
    assert r.status_code == 201
    scores = r.get_json()["rating"]["scores"]
    assert scores["subscales"]["digital"] is None
    assert scores["total"] == 36.0  # 9 items x 4, the same as online (below)


def test_the_total_is_comparable_across_modalities(app, client, make_user, token_for):
    therapist, patient = pair(app, make_user)
    totals = {}
    for modality, digital in (("video", 1), ("chat", 5), ("in_person", None)):
        sid = ended_session(app, therapist, patient, modality)
        answers = answers_for(app, "dta-c", 4, skip="digital")
        if digital is not None:
            answers |= {"d1": digital, "d2": digital, "d3": digital}
        r = client.post(
            rating_path(sid), json={"answers": answers}, headers=token_for(patient)
        )
        totals[modality] = r.get_json()["rating"]["scores"]["total"]
    assert set(totals.values()) == {36.0}


def test_therapist_meta_answers_are_optional_and_stored(app, client, token_for, dyad):
    therapist, _, sid = dyad
    headers = token_for(therapist)
    answers = answers_for(app, "dta-t", 4)
    bad = client.post(
        rating_path(sid),
        json={"answers": answers, "meta_answers": {"m-goal": 7, "m-zz": 1}},
        headers=headers,
    )
    assert set(_error(bad, 422)["details"]) == {
        "meta_answers.m-goal",
        "meta_answers.m-zz",
    }
    r = client.post(
        rating_path(sid),
        json={"answers": answers, "meta_answers": {"m-goal": 5, "m-bond": 2}},
        headers=headers,
    )
    assert r.status_code == 201
    assert r.get_json()["rating"]["meta_answers"] == {"m-goal": 5, "m-bond": 2}
    (row,) = rating_rows(app)
    assert row.meta_answers == {"m-goal": 5, "m-bond": 2}
    assert row.perspective == "therapist" and row.instrument_id == "dta-t"


def test_a_pair_that_resolves_to_a_template_is_refused(
    app, client, make_user, token_for, caplog
):
    therapist, patient = pair(app, make_user)
    with app.app_context():
        db.session.get(User, therapist.id).instrument_pair = "wai-sr"
        db.session.commit()
    sid = ended_session(app, therapist, patient)
    headers = token_for(patient)
    _error(client.get(rating_path(sid), headers=headers), 409, "instrument_unavailable")
    r = client.post(rating_path(sid), json={"answers": {"q1": 3}}, headers=headers)
    err = _error(r, 409, "instrument_unavailable")
    assert "administrator" in err["message"]
    assert rating_rows(app) == []
    assert "template without its item text" in caplog.text


def test_an_unknown_configured_pair_is_refused(app, client, make_user, token_for):
    app.config["DEFAULT_INSTRUMENT_PAIR"] = "no-such-pair"
    therapist, patient = pair(app, make_user)
    sid = ended_session(app, therapist, patient)
    r = client.get(rating_path(sid), headers=token_for(therapist))
    _error(r, 409, "instrument_unavailable")


def test_pending_lists_ended_unrated_sessions_until_rated(
    app, client, make_user, token_for
):
    therapist, patient = pair(app, make_user)
    first = ended_session(app, therapist, patient, "chat")
    second = ended_session(app, therapist, patient, "in_person")
    cancelled = session_for(app, therapist, patient).id
    set_status(app, cancelled, "cancelled")
    session_for(app, therapist, patient)  # still scheduled
    for who in (therapist, patient):
        body = client.get("/api/v1/ratings/pending", headers=token_for(who)).get_json()
        assert [p["session_id"] for p in body["items"]] == [first, second]
        assert body["next"] is None
        item = body["items"][0]
        assert item["perspective"] == who.role and item["modality"] == "chat"
        assert "/rating" in item["rating_url"] and item["closes_at"].endswith("Z")
    client.post(
        rating_path(first), json={"answers": _valid(app)}, headers=token_for(patient)
    )
    mine = client.get("/api/v1/ratings/pending", headers=token_for(patient)).get_json()
    assert [p["session_id"] for p in mine["items"]] == [second]
    theirs = client.get(
        "/api/v1/ratings/pending", headers=token_for(therapist)
    ).get_json()
    assert [p["session_id"] for p in theirs["items"]] == [first, second]
    page = client.get(
        "/api/v1/ratings/pending?limit=1", headers=token_for(therapist)
    ).get_json()
    assert len(page["items"]) == 1 and page["next"]


def test_audit_rows_name_the_rating_but_hold_no_answers(app, client, token_for, dyad):
    _, patient, sid = dyad
    headers = token_for(patient)
    client.get(rating_path(sid), headers=headers)
    client.post(rating_path(sid), json={"answers": _valid(app)}, headers=headers)
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("rating.%"))
        ).all()
        assert [r.action for r in rows] == ["rating.read", "rating.submit"]
        submit = rows[1]
        assert (submit.actor_id, submit.target_id) == (patient.id, sid)
        assert submit.details == {
            "perspective": "client",
            "instrument_id": "dta-c",
            "instrument_version": "1.0",
        }
        assert "answers" not in str([r.details for r in rows])


def test_openapi_documents_the_rating_routes(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    post = doc["paths"]["/sessions/{session_id}/rating"]["post"]
    assert set(post["responses"]) >= {"201", "400", "401", "404", "409", "410", "422"}
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert schema["additionalProperties"] is False
    assert "/ratings/pending" in doc["paths"]


def test_rating_rows_are_unique_per_rater_in_the_database(app, dyad):
    from sqlalchemy.exc import IntegrityError

    _, patient, sid = dyad
    with app.app_context():
        for _ in range(2):
            db.session.add(
                Rating(
                    session_id=sid,
                    rater_id=patient.id,
                    perspective="client",
                    instrument_id="dta-c",
                    instrument_version="1.0",
                    answers={},
                    total=None,
                    subscales={},
                )
            )
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_a_client_sending_meta_answers_is_told_only_the_therapist_has_them(
    client, token_for, dyad
):
    _, patient, sid = dyad
    r = client.post(
        rating_path(sid),
        json={"answers": {}, "meta_answers": {"m-goal": 4}},
        headers=token_for(patient),
    )
    detail = _error(r, 422)["details"]["meta_answers"]
    assert detail == (
        "the client's form has no meta-perception section "
        "(only the therapist's form has one)"
    )
