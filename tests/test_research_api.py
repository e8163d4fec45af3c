"""Research API: contract shapes, roles, 422 per query field, exports, audit."""

import csv
import io

import pytest

from ratings.pairs_io import read_pairs_csv

from .research_helpers import audit_actions, consent, history, rated_session

CONTRACT_SUMMARY = {
    "n_pairs",
    "n_dyads",
    "client_mean",
    "client_sd",
    "therapist_mean",
    "therapist_sd",
    "mean_difference",
    "sd_difference",
    "cohens_d",
    "paired_t",
    "wilcoxon",
    "pearson_r",
    "spearman_rho",
    "icc",
    "bland_altman",
    "rm_corr",
    "by_modality",
}
PAIR_KEYS = {
    "session_pid",
    "dyad_pid",
    "therapist_pid",
    "session_number",
    "modality",
    "client_total",
    "therapist_total",
    "difference",
    "instrument",
    "predicted_client_score",
    "instruments",
    "subscales",
    "quality",
}
ENDPOINTS = [
    "/api/v1/research/pairs",
    "/api/v1/research/summary",
    "/api/v1/research/export.csv",
    "/api/v1/research/codebook",
]


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    """These tests' data hold fewer dyads than RESEARCH_MIN_CELL (default 5); they test
    other things, and the small-cell rule has its own (tests/test_research_cells.py)."""
    return make_app(RESEARCH_MIN_CELL=1)


@pytest.fixture
def data(app, make_user):  # type: ignore[no-untyped-def]
    t1, t2 = make_user("therapist"), make_user("therapist")
    c1, c2, c3 = make_user("client"), make_user("client"), make_user("client")
    consent(app, t1, t2, c1, c2, c3)
    history(app, t1, c1, 4, quality=[(60.0, 0.5)])
    history(app, t1, c2, 3, modality="chat")
    history(app, t2, c3, 3, modality="audio")
    return t1, t2, c1, c2, c3


@pytest.fixture
def researcher(make_user, token_for):  # type: ignore[no-untyped-def]
    return token_for(make_user("researcher"))


@pytest.mark.parametrize("path", ENDPOINTS)
def test_research_endpoints_need_a_researcher(client, make_user, token_for, path):
    assert client.get(path).status_code == 401
    for role in ("therapist", "client", "admin"):
        r = client.get(path, headers=token_for(make_user(role)))
        assert r.status_code == 403
        assert r.get_json()["error"]["code"] == "forbidden"


def test_pairs_rows_have_the_contract_shape(client, data, researcher):
    r = client.get("/api/v1/research/pairs", headers=researcher)
    assert r.status_code == 200
    body = r.get_json()
    assert set(body) == {"items", "next"} and body["next"] is None
    assert len(body["items"]) == 10
    row = body["items"][0]
    assert set(row) == PAIR_KEYS
    assert row["difference"] == row["client_total"] - row["therapist_total"]
    assert row["session_pid"].startswith("S-") and row["dyad_pid"].startswith("D-")
    assert row["instruments"]["client"] == {"id": "dta-c", "version": "1.0"}
    assert row["subscales"]["goal"] == {
        "client": 13.0,
        "therapist": 12.0,
        "difference": 1.0,
    }
    videos = [i for i in body["items"] if i["modality"] == "video"]
    assert videos[0]["quality"] == {
        "rtt_ms_median": 60.0,
        "packet_loss_pct_mean": 0.5,
        "samples": 1,
        "audio_only_switches": 0,
    }


def test_pairs_are_paged_with_a_cursor(client, data, researcher):
    first = client.get("/api/v1/research/pairs?limit=4", headers=researcher).get_json()
    assert len(first["items"]) == 4 and first["next"]
    seen = [i["session_pid"] for i in first["items"]]
    cursor = first["next"]
    while cursor:
        page = client.get(
            f"/api/v1/research/pairs?limit=4&cursor={cursor}", headers=researcher
        ).get_json()
        seen += [i["session_pid"] for i in page["items"]]
        cursor = page["next"]
    assert len(seen) == len(set(seen)) == 10


def test_summary_is_the_analysis_json_with_multilevel_for_small_data(
    client, data, researcher
):
    r = client.get("/api/v1/research/summary", headers=researcher)
    assert r.status_code == 200
    s = r.get_json()
    assert set(s) >= CONTRACT_SUMMARY
    assert s["n_pairs"] == 10 and s["n_dyads"] == 3
    assert set(s["by_modality"]) == {"video", "chat", "audio"}
    assert set(s["icc"]) >= {"A1", "C1"} and "loa_lower_ci95" in s["bland_altman"]
    assert s["multilevel"] is not None, s["reasons"].get("multilevel")
    assert s["instruments"] == [
        {
            "client_id": "dta-c",
            "client_version": "1.0",
            "therapist_id": "dta-t",
            "therapist_version": "1.0",
        }
    ]


def test_summary_filters_and_skips_multilevel_above_the_limit(
    app, client, data, researcher
):
    app.config["RESEARCH_MULTILEVEL_MAX_PAIRS"] = 2
    s = client.get(
        "/api/v1/research/summary?modality=chat&from=2026-02-23&to=2027-01-03",
        headers=researcher,
    ).get_json()
    assert s["n_pairs"] == 3 and set(s["by_modality"]) == {"chat"}
    assert s["filters"] == {
        "modality": "chat",
        "from": "2026-02-23",
        "to": "2027-01-03",
    }
    assert s["multilevel"] is None and "more than 2 pairs" in s["reasons"]["multilevel"]


@pytest.mark.parametrize(
    ("path", "details"),
    [
        ("/api/v1/research/summary?modality=zoom&to=soon", {"modality", "to"}),
        ("/api/v1/research/summary?therapist=x", {"therapist"}),
        ("/api/v1/research/pairs?modalty=video", {"modalty"}),
        ("/api/v1/research/pairs?limit=0", {"limit"}),
        ("/api/v1/research/export.csv?shape=tall", {"shape"}),
        ("/api/v1/research/export.csv?from=2026-01-32", {"from"}),
        (
            "/api/v1/research/summary?instrument=dta%00c&modality=vi%00deo",
            {"instrument", "modality"},
        ),
    ],
)
def test_bad_query_parameters_are_422_per_field(client, researcher, path, details):
    r = client.get(path, headers=researcher)
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert error["code"] == "invalid" and set(error["details"]) == details


def test_wide_export_is_ready_for_analyze(client, data, researcher, tmp_path):
    r = client.get("/api/v1/research/export.csv?shape=wide", headers=researcher)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    path = tmp_path / "wide.csv"
    path.write_bytes(r.data)
    df, problems = read_pairs_csv(path)
    assert problems == [] and len(df) == 10
    assert {"client_goal", "therapist_bond", "rtt_ms", "difference"} <= set(df.columns)


def test_long_export_has_one_row_per_rating(client, data, researcher):
    r = client.get(
        "/api/v1/research/export.csv?shape=long&modality=audio", headers=researcher
    )
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert len(rows) == 6
    assert {r["perspective"] for r in rows} == {"client", "therapist"}
    assert {r["instrument_id"] for r in rows} == {"dta-c", "dta-t"}
    assert {"subscale_goal", "subscale_bond", "total"} <= set(rows[0])


def test_codebook_describes_every_export_column(client, data, researcher):
    book = client.get("/api/v1/research/codebook", headers=researcher).get_json()
    for shape in ("wide", "long"):
        r = client.get(f"/api/v1/research/export.csv?shape={shape}", headers=researcher)
        header = r.get_data(as_text=True).splitlines()[0].split(",")
        assert [c["name"] for c in book["files"][shape]] == header
    ids = {(i["id"], i["version"]) for i in book["instruments"]}
    assert ids == {("dta-c", "1.0"), ("dta-t", "1.0")}
    dta_c = next(i for i in book["instruments"] if i["id"] == "dta-c")
    assert dta_c["total_range"] == [9, 45]
    assert "items" not in dta_c  # structure only, never item text


def test_every_research_read_is_audited_without_scores(app, client, data, researcher):
    client.get("/api/v1/research/pairs", headers=researcher)
    client.get("/api/v1/research/summary?modality=video", headers=researcher)
    client.get("/api/v1/research/export.csv?shape=long", headers=researcher)
    rows = audit_actions(app, "research.")
    assert [r.action for r in rows] == [
        "research.pairs",
        "research.summary",
        "research.export",
    ]
    assert rows[1].details == {"modality": "video", "n_pairs": 4}
    assert rows[2].details == {"shape": "long", "n_pairs": 10}
    assert all(r.actor_id for r in rows)


def test_only_consented_pairs_in_every_endpoint(app, client, make_user, researcher):
    therapist, patient = make_user("therapist"), make_user("client")
    consent(app, therapist)  # the client has not agreed
    rated_session(app, therapist, patient)
    pairs = client.get("/api/v1/research/pairs", headers=researcher).get_json()
    summary = client.get("/api/v1/research/summary", headers=researcher).get_json()
    wide = client.get("/api/v1/research/export.csv", headers=researcher)
    assert pairs["items"] == [] and summary["n_pairs"] == 0
    assert wide.get_data(as_text=True).count("\n") == 1  # the header only
