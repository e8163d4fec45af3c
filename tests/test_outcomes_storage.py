"""Outcome questionnaire rows: the database keeps skips and answers apart; totals read back."""

import pytest
from sqlalchemy.exc import IntegrityError

from teletherapy.extensions import db
from teletherapy.models import OutcomeResponse, OutcomeSettings
from teletherapy.services.outcomes import outcome_totals

from .helpers import pair, session_for


def _add(app, **fields) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        db.session.add(OutcomeResponse(instrument_version="1.0", **fields))
        db.session.commit()


def test_outcome_totals_maps_sessions_to_totals_and_skips_to_none(app, make_user):
    therapist, client = pair(app, make_user)
    first = session_for(app, therapist, client).id
    second = session_for(app, therapist, client).id
    untouched = session_for(app, therapist, client).id
    common = {"client_id": client.id}
    _add(
        app,
        session_id=first,
        instrument_id="phq9",
        answers={"q1": 2},
        total=12,
        band="moderate",
        **common,
    )
    _add(app, session_id=first, instrument_id="gad7", skipped=True, **common)
    _add(
        app,
        session_id=second,
        instrument_id="phq9",
        answers={"q1": 0},
        total=0,
        band="none_minimal",
        **common,
    )
    with app.app_context():
        totals = outcome_totals(db.session, [first, second, untouched, first])
    assert totals == {
        first: {"phq9": 12, "gad7": None},
        second: {"phq9": 0},
    }
    with app.app_context():
        assert outcome_totals(db.session, []) == {}


@pytest.mark.parametrize(
    "fields",
    [
        # a skip with answers
        {"skipped": True, "answers": {"q1": 1}, "total": 1, "band": "none_minimal"},
        # a skip that raises the flag
        {"skipped": True, "flagged": True},
        # answers without a total
        {"answers": {"q1": 1}, "band": "none_minimal"},
        # a negative total
        {"answers": {"q1": 1}, "total": -1, "band": "none_minimal"},
    ],
)
def test_database_refuses_inconsistent_outcome_rows(app, make_user, fields):
    therapist, client = pair(app, make_user)
    session_id = session_for(app, therapist, client).id
    with pytest.raises(IntegrityError):
        _add(
            app,
            session_id=session_id,
            client_id=client.id,
            instrument_id="phq9",
            **fields,
        )


def test_one_row_per_session_client_and_instrument(app, make_user):
    therapist, client = pair(app, make_user)
    session_id = session_for(app, therapist, client).id
    row = {"session_id": session_id, "client_id": client.id, "instrument_id": "phq9"}
    _add(app, skipped=True, **row)
    with pytest.raises(IntegrityError):
        _add(app, skipped=True, **row)


def test_database_refuses_an_interval_out_of_range(app, make_user):
    therapist = make_user("therapist")
    with app.app_context(), pytest.raises(IntegrityError):
        db.session.add(
            OutcomeSettings(therapist_id=therapist.id, measures=["phq9"], every_n=0)
        )
        db.session.commit()
