"""Meta-perception end to end: the therapist's meta answers become predicted_client_score.

From the stored answers (Rating.meta_answers), through research rows, the summary,
the pairs API, both CSV shapes and the codebook; and the scoring rule itself
(teletherapy/research/predictions.py) on the client form's total scale.
"""

import csv
import io
from datetime import timedelta

import pytest

from ratings import load_directory
from teletherapy.research.predictions import predicted_client_total
from teletherapy.research.schemas import SummaryOut

from .research_helpers import T0, consent, mixed_instrument_dyads, rated_session

# (goal, task, bond) answers of the dta-meta set, one per session of a dyad
GUESSES = [(4, 4, 5), (3, 4, 4), (5, 5, 5), (4, 3, 4)]


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    """These tests' data hold fewer dyads than RESEARCH_MIN_CELL (default 5); they test
    other things, and the small-cell rule has its own (tests/test_research_cells.py)."""
    return make_app(RESEARCH_MIN_CELL=1)


@pytest.fixture(scope="module")
def registry():  # type: ignore[no-untyped-def]
    return load_directory("config/instruments")


def test_one_item_per_subscale_is_restated_on_the_client_total(registry):
    # dta-meta: item means 1-5 per subscale; dta-c sums 3 items per subscale (9-45)
    answers = {"m-goal": 4, "m-task": 3, "m-bond": 5, "m-digital": 2}
    assert predicted_client_total(registry, ("dta-c", "1.0"), answers) == 36.0
    # the digital subscale is not in dta-c's total: no answer is needed for it
    del answers["m-digital"]
    assert predicted_client_total(registry, ("dta-c", "1.0"), answers) == 36.0


def test_a_subscale_of_the_total_without_an_answer_gives_no_prediction(registry):
    # dta-meta allows no missing item per subscale, so no goal score, so no total
    answers = {"m-task": 3, "m-bond": 5}
    assert predicted_client_total(registry, ("dta-c", "1.0"), answers) is None


def test_answers_to_the_client_items_are_scored_by_the_client_form(registry):
    # a set of dta-c's own items: dta-c's scoring (d2/d3 reversed, outside the total)
    # and its missing rule (one item of a subscale may be missing: prorated)
    full = {f"{s}{n}": 4 for s in "gtb" for n in (1, 2, 3)}
    assert predicted_client_total(registry, ("dta-c", "1.0"), full) == 36.0
    one_missing = {k: v for k, v in full.items() if k != "g3"}
    one_missing["g1"] = 5  # goal prorated: (5 + 4) / 2 x 3 = 13.5
    assert predicted_client_total(registry, ("dta-c", "1.0"), one_missing) == 37.5
    two_missing = {k: v for k, v in full.items() if k not in ("g2", "g3")}
    assert predicted_client_total(registry, ("dta-c", "1.0"), two_missing) is None


@pytest.mark.parametrize(
    "answers",
    [None, {}, {"m-goal": 9, "m-task": 3, "m-bond": 3}, {"nonsense": 3}],
)
def test_no_or_unscorable_answers_give_no_prediction(registry, answers):
    assert predicted_client_total(registry, ("dta-c", "1.0"), answers) is None


def test_unknown_form_or_no_registry_gives_no_prediction(registry):
    answers = {"m-goal": 4, "m-task": 3, "m-bond": 5}
    assert predicted_client_total(registry, ("dta-c", "9.9"), answers) is None
    assert predicted_client_total(None, ("dta-c", "1.0"), answers) is None


@pytest.fixture
def predicted(app, make_user):  # type: ignore[no-untyped-def]
    """Five dyads of five therapists; every prediction is 2 points above the client."""
    for _ in range(5):
        therapist, client = make_user("therapist"), make_user("client")
        consent(app, therapist, client)
        for k, (g, t, b) in enumerate(GUESSES):
            prediction = 3.0 * (g + t + b)
            rated_session(
                app,
                therapist,
                client,
                client_total=prediction - 2.0,
                therapist_total=prediction - 4.0 - k % 2,
                at=T0 + timedelta(weeks=k),
                meta_answers={"m-goal": g, "m-task": t, "m-bond": b},
            )


@pytest.fixture
def researcher(make_user, token_for):  # type: ignore[no-untyped-def]
    return token_for(make_user("researcher"))


def test_a_therapist_two_points_above_gives_bias_plus_two(
    client, predicted, researcher
):
    s = client.get("/api/v1/research/summary", headers=researcher).get_json()
    meta = s["meta_perception"]
    assert meta["n"] == 20 and meta["n_dyads"] == 5
    assert meta["bias"] == pytest.approx(2.0)
    assert meta["accuracy_r"] == pytest.approx(1.0)  # off by a constant: tracks exactly
    assert s["headline"]["estimate"] == pytest.approx(
        sum(2.0 + k % 2 for k in range(4)) / 4
    )
    assert s["headline"]["n_dyads"] == 5 and s["by_instrument"] == {}
    SummaryOut.model_validate(s)  # the documented response shape
    rows = client.get("/api/v1/research/pairs", headers=researcher).get_json()
    item = rows["items"][0]
    assert item["instrument"] == "dta"
    assert item["predicted_client_score"] == item["client_total"] + 2.0


def test_exports_and_codebook_carry_the_prediction(client, predicted, researcher):
    wide = client.get("/api/v1/research/export.csv?shape=wide", headers=researcher)
    rows = list(csv.DictReader(io.StringIO(wide.get_data(as_text=True))))
    assert len(rows) == 20
    for row in rows:
        assert row["instrument"] == "dta"
        assert float(row["predicted_client_score"]) == float(row["client_score"]) + 2
    long = client.get("/api/v1/research/export.csv?shape=long", headers=researcher)
    rows = list(csv.DictReader(io.StringIO(long.get_data(as_text=True))))
    therapist = [r for r in rows if r["perspective"] == "therapist"]
    assert all(r["predicted_client_score"] for r in therapist)
    assert {r["predicted_client_score"] for r in rows if r not in therapist} == {""}
    book = client.get("/api/v1/research/codebook", headers=researcher).get_json()
    for shape in ("wide", "long"):
        described = {c["name"]: c["description"] for c in book["files"][shape]}
        assert "client form's total scale" in described["predicted_client_score"]
        assert "pair" in described["instrument"]


def test_sessions_without_predictions_have_none(app, client, make_user, researcher):
    therapist, patient = make_user("therapist"), make_user("client")
    consent(app, therapist, patient)
    rated_session(app, therapist, patient)
    s = client.get("/api/v1/research/summary", headers=researcher).get_json()
    assert s["meta_perception"] is None and s["reasons"]["meta_perception"]
    item = client.get("/api/v1/research/pairs", headers=researcher).get_json()
    assert item["items"][0]["predicted_client_score"] is None


def test_instruments_are_never_pooled(app, client, make_user, researcher):
    mixed_instrument_dyads(
        app, make_user, 6, client_total=lambda week: 40.0 + week, therapist_total=36.0
    )
    s = client.get("/api/v1/research/summary", headers=researcher).get_json()
    assert s["headline"] is None and s["reasons"]["headline"] == "mixed_instruments"
    assert set(s["by_instrument"]) == {"dta", "wai-sr"}
    assert s["by_instrument"]["dta"]["n_pairs"] == 9
    SummaryOut.model_validate(s)  # the documented response shape, pooled blocks null
    one = client.get(
        "/api/v1/research/summary?instrument=wai-sr", headers=researcher
    ).get_json()
    assert one["n_pairs"] == 9 and one["by_instrument"] == {}


def test_research_still_answers_when_the_definitions_do_not_load(
    app, client, predicted, researcher, tmp_path, caplog
):
    from teletherapy import instruments_app

    (tmp_path / "broken.toml").write_text("this is = = not toml\n")
    shipped = app.config["INSTRUMENTS_DIR"]
    app.config["INSTRUMENTS_DIR"] = str(tmp_path)
    instruments_app.reset(app)
    try:
        s = client.get("/api/v1/research/summary", headers=researcher)
        book = client.get("/api/v1/research/codebook", headers=researcher)
    finally:
        app.config["INSTRUMENTS_DIR"] = shipped
        instruments_app.reset(app)
    assert s.status_code == 200 and book.status_code == 200
    assert s.get_json()["meta_perception"] is None  # no registry: nothing scored
    forms = book.get_json()["instruments"]
    assert forms and all(f["missing"] == "definition not found" for f in forms)
    assert "instrument definitions do not load" in caplog.text
