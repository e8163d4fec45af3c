"""research/rows.py and analysis.py: who reaches researchers, numbering, filters, frames."""

import subprocess
import sys
from datetime import date, timedelta

import pytest

from teletherapy.extensions import db
from teletherapy.research import analysis as research_analysis
from teletherapy.research.rows import (
    Filters,
    pair_rows,
    pair_rows_unchecked,
    parse_filters,
)
from teletherapy.research.settings import ResearchSettings
from teletherapy.services.errors import Invalid
from teletherapy.services.pseudonyms import pseudonym

from .research_helpers import T0, consent, history, rated_session, withdraw


def _settings(app) -> ResearchSettings:  # type: ignore[no-untyped-def]
    return ResearchSettings.from_app(app)


def _rows(app, filters: Filters | None = None):  # type: ignore[no-untyped-def]
    with app.app_context():
        return pair_rows(db.session, filters or Filters(), _settings(app))


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    """These tests' data hold fewer dyads than RESEARCH_MIN_CELL (default 5); they test
    other things, and the small-cell rule has its own (tests/test_research_cells.py)."""
    return make_app(RESEARCH_MIN_CELL=1)


@pytest.fixture
def people(app, make_user):  # type: ignore[no-untyped-def]
    t1, t2 = make_user("therapist"), make_user("therapist")
    c1, c2, c3 = make_user("client"), make_user("client"), make_user("client")
    consent(app, t1, t2, c1, c2, c3)
    return t1, t2, c1, c2, c3


def test_only_sessions_where_both_consent_reach_researchers(app, make_user, people):
    t1, _, c1, _, _ = people
    stranger = make_user("client")  # never consented
    rated_session(app, t1, c1)
    rated_session(app, t1, stranger)
    rows = _rows(app)
    assert len(rows) == 1
    with app.app_context():
        assert rows[0].dyad_pid == pseudonym(
            "dyad", t1.id, c1.id, key=app.config["PSEUDONYM_KEY"]
        )


def test_withdrawal_removes_every_session_of_that_person(app, people):
    t1, t2, c1, c2, c3 = people
    history(app, t1, c1, 3)
    history(app, t1, c2, 2)
    history(app, t2, c3, 2)
    assert len(_rows(app)) == 7
    withdraw(app, t1)  # the therapist of two dyads
    rows = _rows(app)
    assert len(rows) == 2
    with app.app_context():
        assert {r.therapist_pid for r in rows} == {
            pseudonym("therapist", t2.id, key=app.config["PSEUDONYM_KEY"])
        }
    withdraw(app, c3)
    assert _rows(app) == []


def test_sessions_not_ended_or_rated_by_one_side_are_left_out(app, people):
    t1, _, c1, _, _ = people
    rated_session(app, t1, c1, at=T0)
    rated_session(app, t1, c1, at=T0 + timedelta(days=1), rated_by=("client",))
    rated_session(app, t1, c1, at=T0 + timedelta(days=2), status="live")
    rated_session(app, t1, c1, at=T0 + timedelta(days=3))
    assert [r.session_number for r in _rows(app)] == [1, 3]


def test_session_numbers_follow_time_and_ignore_filters(app, people):
    t1, _, c1, _, _ = people
    later = rated_session(app, t1, c1, at=T0 + timedelta(weeks=2), modality="chat")
    rated_session(app, t1, c1, at=T0, modality="video")
    rated_session(app, t1, c1, at=T0 + timedelta(weeks=1), modality="video")
    rows = _rows(app)
    assert [(r.session_number, r.modality) for r in rows] == [
        (1, "video"),
        (2, "video"),
        (3, "chat"),
    ]
    chat = _rows(app, Filters(modality="chat"))
    assert [r.session_number for r in chat] == [3]
    with app.app_context():
        assert chat[0].session_pid == pseudonym(
            "session", later, key=app.config["PSEUDONYM_KEY"]
        )


def test_date_range_is_inclusive_and_in_utc(app, people):
    t1, _, c1, _, _ = people
    history(app, t1, c1, 4)  # T0 (2026-03-02) and weekly after
    # The row reader's own date logic, without the whole-week rule of every research
    # read (tests/test_research_cells.py) that refuses these days
    with app.app_context():

        def rows(filters: Filters):  # type: ignore[no-untyped-def]
            return pair_rows_unchecked(db.session, filters, _settings(app))

        between = Filters(start=date(2026, 3, 9), end=date(2026, 3, 16))
        assert [r.session_number for r in rows(between)] == [2, 3]
        assert len(rows(Filters(start=date(2026, 3, 17)))) == 1
        assert len(rows(Filters(end=date(2026, 3, 1)))) == 0


def test_instrument_and_therapist_filters(app, people):
    t1, t2, c1, c2, _ = people
    history(app, t1, c1, 2)
    rated_session(app, t2, c2, instruments=("wai-sr", "wai-srt"))
    assert len(_rows(app, Filters(instrument="dta-c"))) == 2
    assert len(_rows(app, Filters(instrument="dta"))) == 2  # a pair id
    assert len(_rows(app, Filters(instrument="wai-srt"))) == 1
    assert _rows(app, Filters(instrument="nothing")) == []
    with app.app_context():
        pid = pseudonym("therapist", t2.id, key=app.config["PSEUDONYM_KEY"])
    assert [r.therapist_pid for r in _rows(app, Filters(therapist=pid))] == [pid]


def test_quality_is_median_rtt_and_mean_loss(app, people):
    t1, _, c1, _, _ = people
    samples = [(50.0, 0.0), (70.0, 1.0), (400.0, 5.0)]
    rated_session(app, t1, c1, quality=samples)
    rated_session(app, t1, c1, at=T0 + timedelta(days=1), modality="in_person")
    first, second = _rows(app)
    assert (first.rtt_ms, first.packet_loss_pct, first.quality_samples) == (
        70.0,
        2.0,
        3,
    )
    assert (second.rtt_ms, second.packet_loss_pct, second.quality_samples) == (
        None,
        None,
        0,
    )


def test_rows_hold_scores_subscales_and_differences(app, people):
    t1, _, c1, _, _ = people
    rated_session(
        app,
        t1,
        c1,
        client_total=41.0,
        therapist_total=37.5,
        subscales={"goal": (13.0, 12.5), "digital": (None, 10.0)},
    )
    (row,) = _rows(app)
    assert row.difference == 3.5
    assert row.client.subscales == {"goal": 13.0, "digital": None}
    assert row.therapist.instrument_id == "dta-t"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"modality": "zoom"}, "modality"),
        ({"from": "2026-02-30"}, "from"),
        ({"from": "20260201"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"therapist": "Dr. Who"}, "therapist"),
        ({"instrument": "DTA C!"}, "instrument"),
        ({"modalty": "video"}, "modalty"),
    ],
)
def test_bad_filters_are_422_per_field(args, field):
    with pytest.raises(Invalid) as caught:
        parse_filters(args)
    assert set(caught.value.details) == {field}
    assert (
        "got" in caught.value.details[field] or "unknown" in caught.value.details[field]
    )


def test_good_filters_round_trip():
    args = {
        "modality": "video",
        "from": "2026-03-01",
        "to": "2026-03-31",
        "instrument": "dta",
        "therapist": "T-" + "a" * 16,
    }
    assert parse_filters(args).as_args() == args
    assert parse_filters({"modality": "", "from": " "}) == Filters()


def test_summary_of_empty_and_tiny_data_has_nulls_with_reasons(app, people):
    settings = _settings(app)
    empty = research_analysis.analyse([], Filters(), settings, full=True)
    assert empty["n_pairs"] == 0 and empty["mean_difference"] is None
    assert empty["reasons"]
    t1, _, c1, _, _ = people
    rated_session(app, t1, c1)
    tiny = research_analysis.analyse(_rows(app), Filters(), settings, full=True)
    assert tiny["n_pairs"] == 1 and tiny["mean_difference"] == 4.0
    assert tiny["paired_t"]["t"] is None and "paired_t" in str(tiny["reasons"])


def test_heavy_libraries_are_not_imported_at_app_start():
    code = (
        "import sys; from teletherapy import create_app; "
        "create_app({'ENV': 'testing', 'DATABASE_URL': 'sqlite://', 'SECRET_KEY': 'k',"
        " 'PSEUDONYM_KEY': 'p'}); "
        "print(sorted(m for m in ('pandas', 'pingouin', 'statsmodels', 'matplotlib')"
        " if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_export_header_and_codebook_read_one_column_list():
    from teletherapy.research import codebook, export

    subs = ["bond", "score"]  # "score" is reserved: client_score_subscale
    book = codebook.columns(subs)
    assert export.wide_columns(subs) == [c["name"] for c in book["wide"]]
    assert export.long_columns(subs) == [c["name"] for c in book["long"]]
    assert "client_score_subscale" in export.wide_columns(subs)
