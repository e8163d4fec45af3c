"""Small cells (RESEARCH_MIN_CELL, default 5): no research surface shows a slice of
fewer dyads, and date filters select whole ISO weeks, never single days."""

import pytest

from teletherapy.research import cli as research_cli
from teletherapy.services.pseudonyms import pseudonym

from .research_export_helpers import dyads
from .research_helpers import audit_actions

API = [
    "/api/v1/research/pairs",
    "/api/v1/research/summary",
    "/api/v1/research/export.csv?shape=wide",
    "/api/v1/research/export.csv?shape=long",
    "/api/v1/research/export.csv?shape=dyadic",
    "/api/v1/research/redcap/dictionary.csv",
    "/api/v1/research/redcap/records.csv",
    "/api/v1/research/fhir.json",
]
PAGES = [
    "/research/export.csv?shape=wide",
    "/research/export.csv?shape=dyadic",
    "/research/plots/scatter.svg",
    "/research/plots/trajectories.png",
]


@pytest.fixture
def researcher(make_user):  # type: ignore[no-untyped-def]
    return make_user("researcher")


def _join(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}" if query else url


def _small_cell(r, n_dyads: int) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert error["code"] == "small_cell"
    assert error["details"] == {"n_dyads": n_dyads, "min_cell": 5}
    assert (
        f"leave {n_dyads} dyad" in error["message"]
        and "fewer than 5" in error["message"]
    )


@pytest.mark.parametrize("url", API)
def test_api_refuses_fewer_dyads_than_the_minimum(
    app, client, make_user, token_for, researcher, url
):
    dyads(app, make_user, 4, sessions=3)
    _small_cell(client.get(url, headers=token_for(researcher)), 4)


@pytest.mark.parametrize("url", API)
def test_api_answers_at_the_minimum(app, client, make_user, token_for, researcher, url):
    dyads(app, make_user, 5, sessions=3)
    assert client.get(url, headers=token_for(researcher)).status_code == 200


def test_a_filter_that_narrows_to_one_therapist_is_refused(
    app, client, make_user, token_for, researcher
):
    made = dyads(app, make_user, 6, sessions=2)
    headers = token_for(researcher)
    with app.app_context():
        pid = pseudonym("therapist", made[0][0].id, key=app.config["PSEUDONYM_KEY"])
    assert client.get("/api/v1/research/summary", headers=headers).status_code == 200
    for url in API:
        _small_cell(client.get(_join(url, f"therapist={pid}"), headers=headers), 1)


def test_an_empty_slice_shows_nothing_and_is_not_refused(
    app, client, make_user, token_for, researcher
):
    dyads(app, make_user, 2, sessions=2)
    r = client.get(
        "/api/v1/research/pairs?modality=chat", headers=token_for(researcher)
    )
    assert r.status_code == 200 and r.get_json()["items"] == []


def test_the_minimum_comes_from_the_configuration(make_app, make_user, token_for):
    app = make_app(RESEARCH_MIN_CELL=3)
    dyads(app, make_user, 3, sessions=2)
    client = app.test_client()
    headers = token_for(make_user("researcher"))
    assert client.get("/api/v1/research/pairs", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("from=2026-03-04&to=2026-03-04", {"from", "to"}),  # one day
        ("from=2026-03-02&to=2026-03-07", {"to"}),  # Monday to Saturday
        ("from=2026-03-03&to=2026-03-09", {"from", "to"}),  # 7 days, not a week
        ("from=2026-03-03", {"from"}),
        ("to=2026-03-10", {"to"}),
    ],
)
def test_date_filters_must_be_whole_iso_weeks(
    app, client, make_user, token_for, researcher, query, fields
):
    dyads(app, make_user, 6, sessions=3)
    headers = token_for(researcher)
    for url in API:
        r = client.get(_join(url, query), headers=headers)
        assert r.status_code == 422, url
        error = r.get_json()["error"]
        assert error["code"] == "small_cell" and set(error["details"]) == fields
    assert "a Wednesday; its week begins 2026-03-02" in str(
        client.get("/api/v1/research/summary?from=2026-03-04", headers=headers).json
    )


def test_a_whole_week_is_accepted(app, client, make_user, token_for, researcher):
    dyads(app, make_user, 6, sessions=3)
    r = client.get(
        "/api/v1/research/pairs?from=2026-03-09&to=2026-03-15",
        headers=token_for(researcher),
    )
    assert r.status_code == 200
    assert {i["session_number"] for i in r.get_json()["items"]} == {2}


def test_the_page_says_why_nothing_is_shown(app, client, auth, make_user, researcher):
    dyads(app, make_user, 3, sessions=2)
    auth.login(researcher)
    r = client.get("/research/")
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'data-testid="research-small-cell"' in page
    assert "leave 3 dyads" in page and "fewer than 5" in page
    assert 'data-testid="research-plots"' not in page
    assert 'data-testid="export-wide"' not in page
    for url in PAGES:
        assert client.get(url).status_code == 422, url


def test_the_page_refuses_a_one_day_range_at_the_date_fields(
    app, client, auth, make_user, researcher
):
    dyads(app, make_user, 6, sessions=2)
    auth.login(researcher)
    r = client.get("/research/?from=2026-03-04&to=2026-03-04")
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "must be a Monday" in page and "must be a Sunday" in page
    assert 'data-testid="research-plots"' not in page
    assert client.get("/research/?from=2026-03-02&to=2026-03-15").status_code == 200


def test_the_cli_export_refuses_and_writes_nothing(app, runner, make_user, tmp_path):
    dyads(app, make_user, 4, sessions=2)
    out = tmp_path / "export"
    r = runner.invoke(research_cli.export, ["--out", str(out), "--format", "dyadic"])
    assert r.exit_code == 1
    assert "small_cell" in r.output and "fewer than 5" in r.output
    assert not out.exists()
    assert audit_actions(app, "research.export") == []


def test_the_cli_export_writes_every_format(app, runner, make_user, tmp_path):
    dyads(app, make_user, 5, sessions=2)
    out = tmp_path / "export"
    formats = ["--format", "dyadic", "--format", "redcap", "--format", "fhir"]
    r = runner.invoke(research_cli.export, ["--out", str(out), *formats])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == [
        "codebook.md",
        "dyadic.csv",
        "fhir.json",
        "redcap_dictionary.csv",
        "redcap_records.csv",
    ]
    assert "## dyadic.csv" in (out / "codebook.md").read_text()
