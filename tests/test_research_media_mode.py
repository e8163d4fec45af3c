"""Research sees the switches to audio only: a count per session in the rows, both CSV
shapes, the codebook and the pairs API; switch rows stay out of the sample statistics."""

import csv
import io
from datetime import timedelta

import pytest

from teletherapy.extensions import db
from teletherapy.models import QualitySample, User
from teletherapy.research.export import to_csv
from teletherapy.research.rows import Filters, pair_rows
from teletherapy.research.settings import ResearchSettings

from .research_helpers import T0, consent, rated_session


def _switch(app, session_id: str, user: User, audio_only: bool, reason: str) -> None:  # type: ignore[no-untyped-def]
    """A switch as the call page records it: the numbers of that moment, marked."""
    with app.app_context():
        db.session.add(
            QualitySample(
                session_id=session_id,
                user_id=user.id,
                at=T0 + timedelta(minutes=10),
                rtt_ms=900.0,  # far from the samples: it must not move their median
                jitter_ms=40.0,
                packet_loss_pct=30.0,
                bitrate_kbps=60.0,
                audio_only=audio_only,
                switch_reason=reason,
            )
        )
        db.session.commit()


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    """These tests' data hold fewer dyads than RESEARCH_MIN_CELL (default 5); they test
    other things, and the small-cell rule has its own (tests/test_research_cells.py)."""
    return make_app(RESEARCH_MIN_CELL=1)


@pytest.fixture
def sessions(app, make_user):  # type: ignore[no-untyped-def]
    """Two rated video sessions of one dyad: the first switched to audio only twice
    (once offered, once chosen) and back once; the second never."""
    therapist, patient = make_user("therapist"), make_user("client")
    consent(app, therapist, patient)
    samples = [(50.0, 0.0), (70.0, 1.0), (400.0, 5.0)]
    switched = rated_session(app, therapist, patient, quality=samples)
    _switch(app, switched, patient, True, "low_bandwidth")
    _switch(app, switched, patient, False, "user")
    _switch(app, switched, therapist, True, "user")
    rated_session(app, therapist, patient, at=T0 + timedelta(weeks=1), quality=samples)
    return switched


def _rows(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        return pair_rows(db.session, Filters(), ResearchSettings.from_app(app))


def test_rows_count_switches_to_audio_only_and_keep_them_out_of_the_samples(
    app, sessions
):  # type: ignore[no-untyped-def]
    first, second = _rows(app)
    quality = (first.rtt_ms, first.packet_loss_pct, first.quality_samples)
    assert quality == (70.0, 2.0, 3)  # the three samples alone
    assert first.audio_only_switches == 2  # the switch back is not counted
    assert second.audio_only_switches == 0


@pytest.mark.parametrize("shape", ["wide", "long"])
def test_both_csv_shapes_carry_the_count_after_the_quality_columns(
    app, sessions, shape
):  # type: ignore[no-untyped-def]
    table = list(csv.DictReader(io.StringIO(to_csv(_rows(app), shape))))
    header = list(table[0])
    assert header[-2:] == ["quality_samples", "audio_only_switches"]
    per_session = {row["session_number"]: row["audio_only_switches"] for row in table}
    assert per_session == {"1": "2", "2": "0"}


def test_the_codebook_describes_the_column(client, make_user, token_for, sessions):  # type: ignore[no-untyped-def]
    researcher = token_for(make_user("researcher"))
    book = client.get("/api/v1/research/codebook", headers=researcher).get_json()
    for shape in ("wide", "long"):
        described = {c["name"]: c for c in book["files"][shape]}
        column = described["audio_only_switches"]
        assert column["type"] == "integer"
        assert "audio only" in column["description"]


def test_the_pairs_api_reports_the_count_with_the_quality(
    client, make_user, token_for, sessions
):  # type: ignore[no-untyped-def]
    researcher = token_for(make_user("researcher"))
    items = client.get("/api/v1/research/pairs", headers=researcher).get_json()["items"]
    by_number = {i["session_number"]: i["quality"] for i in items}
    assert by_number[1] == {
        "rtt_ms_median": 70.0,
        "packet_loss_pct_mean": 2.0,
        "samples": 3,
        "audio_only_switches": 2,
    }
    assert by_number[2]["audio_only_switches"] == 0
