"""The dyadic export: one row per session, centred, lagged and outcome columns, ready
for multilevel software (pandas + statsmodels MixedLM fit on it here)."""

import csv
import io
import itertools
import re
from datetime import UTC, datetime

import pytest

from teletherapy.services.pseudonyms import pseudonym

from .research_export_helpers import DATE, dyads
from .research_helpers import consent, rated_session


@pytest.fixture
def data(app, make_user):  # type: ignore[no-untyped-def]
    return dyads(app, make_user, 6, sessions=5)


@pytest.fixture
def researcher(make_user, token_for):  # type: ignore[no-untyped-def]
    return token_for(make_user("researcher"))


def _dyadic(client, headers, query: str = "") -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    r = client.get(f"/api/v1/research/export.csv?shape=dyadic{query}", headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))


def test_dyadic_header_is_the_codebooks_list(client, data, researcher):
    r = client.get("/api/v1/research/export.csv?shape=dyadic", headers=researcher)
    header = r.get_data(as_text=True).splitlines()[0].split(",")
    book = client.get("/api/v1/research/codebook", headers=researcher).get_json()
    assert header == [c["name"] for c in book["files"]["dyadic"]]
    assert {"week", "difference_within", "client_score_lag", "phq9_next"} <= set(header)


def test_dyadic_centred_and_lagged_columns_by_hand(client, data, researcher):
    rows = _dyadic(client, researcher)
    assert len(rows) == 30 and len({r["dyad_id"] for r in rows}) == 6
    for dyad in {r["dyad_id"] for r in rows}:
        mine = sorted(
            (r for r in rows if r["dyad_id"] == dyad),
            key=lambda r: int(r["session_number"]),
        )
        for name in ("client_score", "therapist_score", "difference"):
            values = [float(r[name]) for r in mine]
            mean = sum(values) / len(values)
            for r, v in zip(mine, values, strict=True):
                assert float(r[f"{name}_dyad_mean"]) == pytest.approx(mean)
                assert float(r[f"{name}_within"]) == pytest.approx(v - mean)
            assert mine[0][f"{name}_lag"] == ""  # no session before the first
            for before, r in itertools.pairwise(mine):
                assert float(r[f"{name}_lag"]) == float(before[name])
        for before, r in itertools.pairwise(mine):
            assert before["phq9_next"] == r["phq9_before"]  # next = the following one
        assert mine[-1]["phq9_next"] == ""  # no later session
        assert mine[1]["gad7_before"] == ""  # skipped
        assert mine[0]["gad7_before"] != ""


def test_next_outcome_comes_from_a_session_rated_by_one_side_only(
    app, client, make_user, data, researcher
):
    from .research_export_helpers import outcome

    therapist, patient, _ = data[0]
    later = rated_session(
        app,
        therapist,
        patient,
        rated_by=("client",),
        at=datetime(2026, 5, 4, 9, 0, tzinfo=UTC),
    )
    outcome(app, later, patient, "phq9", 3)
    rows = _dyadic(client, researcher)
    with app.app_context():
        dyad = pseudonym(
            "dyad", therapist.id, patient.id, key=app.config["PSEUDONYM_KEY"]
        )
    last = max(
        (r for r in rows if r["dyad_id"] == dyad),
        key=lambda r: int(r["session_number"]),
    )
    assert len(rows) == 30  # the one-sided session is no row...
    assert last["phq9_next"] == "3"  # ...but its questionnaire is the next outcome


@pytest.mark.filterwarnings("error::statsmodels.tools.sm_exceptions.ConvergenceWarning")
def test_dyadic_export_loads_in_pandas_and_a_mixedlm_fits(client, data, researcher):
    import pandas as pd
    import statsmodels.formula.api as smf

    r = client.get("/api/v1/research/export.csv?shape=dyadic", headers=researcher)
    df = pd.read_csv(io.StringIO(r.get_data(as_text=True)))
    assert df["dyad_id"].nunique() == 6 and len(df) == 30
    assert df["phq9_next"].notna().sum() == 24  # the last session of each dyad: none
    model = smf.mixedlm(
        "phq9_next ~ difference_within + difference_dyad_mean",
        df.dropna(subset=["phq9_next"]),
        groups="dyad_id",
    )
    fit = model.fit(reml=True)
    assert set(fit.params.index) >= {"difference_within", "difference_dyad_mean"}
    assert fit.params.notna().all()
    # the generated PHQ-9 falls by one point per point of gap in the same session
    lagged = smf.mixedlm("phq9_before ~ difference_within", df, groups="dyad_id").fit(
        reml=True
    )
    assert lagged.params["difference_within"] == pytest.approx(-1.0, abs=0.35)


def test_exports_date_sessions_by_iso_week_only(client, data, researcher):
    rows = _dyadic(client, researcher)
    assert {r["week"] for r in rows} == {
        "2026-W10",
        "2026-W11",
        "2026-W12",
        "2026-W13",
        "2026-W14",
    }
    for path in (
        "/api/v1/research/export.csv?shape=dyadic",
        "/api/v1/research/export.csv?shape=wide",
        "/api/v1/research/export.csv?shape=long",
        "/api/v1/research/redcap/records.csv",
        "/api/v1/research/redcap/dictionary.csv",
        "/api/v1/research/fhir.json",
    ):
        body = client.get(path, headers=researcher).get_data(as_text=True)
        assert re.search(DATE, body) is None, path
        assert re.search(r"T\d{2}:\d{2}", body) is None, path


def test_consent_withdrawal_leaves_the_dyadic_export(
    app, client, make_user, data, researcher
):
    from .research_helpers import withdraw

    withdraw(app, data[0][1])
    rows = _dyadic(client, researcher)
    assert len({r["dyad_id"] for r in rows}) == 5
    therapist, patient = make_user("therapist"), make_user("client")
    consent(app, therapist)  # the client never agreed
    rated_session(app, therapist, patient)
    assert len({r["dyad_id"] for r in _dyadic(client, researcher)}) == 5
