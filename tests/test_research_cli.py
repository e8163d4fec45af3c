"""`teletherapy analyze` and `teletherapy export` (teletherapy/research/cli.py)."""

import json
import stat

import click
import pytest

from ratings.pairs_io import read_pairs_csv
from teletherapy.research import cli as research_cli

from .research_helpers import audit_actions, consent, history

GOOD = """dyad_id,session_number,client_score,therapist_score,modality
a,1,40,36,video
a,2,42,37,video
a,3,41,39,chat
b,1,38,35,video
b,2,44,40,audio
b,3,39,39,chat
"""


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    """These tests' data hold fewer dyads than RESEARCH_MIN_CELL (default 5); they test
    other things, and the small-cell rule has its own (tests/test_research_cells.py)."""
    return make_app(RESEARCH_MIN_CELL=1)


@pytest.fixture
def good_csv(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "pairs.csv"
    path.write_text(GOOD)
    return path


def test_analyze_prints_the_readable_report(runner, good_csv):
    r = runner.invoke(research_cli.analyze, [str(good_csv)])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("Client vs therapist alliance ratings")
    assert "n = 6 session pairs from 2 dyads" in r.stdout
    # two dyads cannot carry a headline; the session-level mean is shown as descriptive
    assert (
        "No estimate respecting the nesting of sessions in dyads: needs at least 5 dyads"
        in r.stdout
    )
    assert "Mean of the session differences 3.00" in r.stdout


def test_analyze_json_is_the_contract_summary(runner, good_csv):
    r = runner.invoke(research_cli.analyze, [str(good_csv), "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["n_pairs"] == 6 and summary["n_dyads"] == 2
    assert set(summary["by_modality"]) == {"video", "chat", "audio"}
    assert summary["mean_difference"] == pytest.approx(18 / 6)
    assert summary["input_problems"] == []


def test_analyze_reports_bad_cells_by_row_and_column_and_excludes_them(
    runner, tmp_path
):
    path = tmp_path / "bad.csv"
    path.write_text(GOOD + "c,1,,30,video\nc,2,six,31,video\nc,3,40,32,video\n")
    r = runner.invoke(research_cli.analyze, [str(path), "--json"])
    assert r.exit_code == 0, r.output
    assert "2 problem(s)" in r.stderr
    assert "row 8, column client_score (''): blank; row excluded" in r.stderr
    assert "row 9, column client_score ('six'): not a number; row excluded" in r.stderr
    summary = json.loads(r.stdout)
    assert summary["n_pairs"] == 7
    assert [(p["row"], p["column"]) for p in summary["input_problems"]] == [
        (8, "client_score"),
        (9, "client_score"),
    ]


def test_analyze_missing_columns_is_a_clear_error(runner, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("dyad_id,client_score\na,40\n")
    r = runner.invoke(research_cli.analyze, [str(path)])
    assert r.exit_code != 0
    assert "missing required column(s): session_number, therapist_score" in r.output


def test_analyze_writes_every_plot(runner, good_csv, tmp_path):
    out = tmp_path / "figures"
    r = runner.invoke(research_cli.analyze, [str(good_csv), "--plots", str(out)])
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in out.iterdir())
    kinds = ("bland_altman", "modality", "scatter", "trajectories")
    assert names == sorted(f"{k}.{ext}" for k in kinds for ext in ("png", "svg"))


def test_export_writes_long_wide_and_codebook(app, runner, make_user, tmp_path):
    therapist, patient = make_user("therapist"), make_user("client")
    consent(app, therapist, patient)
    history(app, therapist, patient, 3)
    out = tmp_path / "export"
    r = runner.invoke(research_cli.export, ["--out", str(out)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == [
        "codebook.md",
        "long.csv",
        "wide.csv",
    ]
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    df, problems = read_pairs_csv(out / "wide.csv")
    assert problems == [] and len(df) == 3
    assert (out / "long.csv").read_text().count("\n") == 7
    book = (out / "codebook.md").read_text()
    assert "`client_score`" in book and "`dta-c` version 1.0" in book
    (row,) = audit_actions(app, "research.export")
    assert row.actor_id is None and row.ip == "cli"
    assert row.details == {"shape": "long+wide", "via": "cli", "n_pairs": 3}
    analyzed = runner.invoke(research_cli.analyze, [str(out / "wide.csv"), "--json"])
    assert json.loads(analyzed.stdout)["n_pairs"] == 3


def test_register_adds_both_commands():
    group = click.Group("teletherapy")
    research_cli.register(group)
    assert set(group.commands) == {"analyze", "export"}


def _course_csv(tmp_path, drops: int = 4):  # type: ignore[no-untyped-def]
    """10 dyads x 8 sessions with small noise; ``drops`` dyads fall 10 points at session 5."""
    import random

    rng = random.Random(3)
    lines = ["dyad_id,session_number,client_score,therapist_score"]
    for d in range(10):
        for s in range(1, 9):
            client = 40 + rng.uniform(-0.5, 0.5) - (10 if d < drops and s == 5 else 0)
            lines.append(f"d{d},{s},{client:.2f},{38 + rng.uniform(-0.5, 0.5):.2f}")
    path = tmp_path / "course.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_analyze_leads_with_the_headline_and_labels_pooled_tests(runner, tmp_path):
    r = runner.invoke(research_cli.analyze, [str(_course_csv(tmp_path))])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[3].startswith("Clients rated the alliance higher than therapists by")
    assert "10 dyads, t(9)" in lines[4]
    assert lines[5].startswith("Method: random-intercept model")
    assert (
        "Session-level statistics (descriptive: treats sessions as independent)"
        in r.stdout
    )


def test_analyze_events_bounds_the_list_but_reports_the_count(runner, tmp_path):
    path = _course_csv(tmp_path)
    r = runner.invoke(research_cli.analyze, [str(path), "--json", "--events", "1"])
    assert r.exit_code == 0, r.output
    ruptures = json.loads(r.stdout)["ruptures"]
    assert ruptures["n_events"] >= 4
    assert ruptures["events_listed"] == len(ruptures["events"]) == 1
    text = runner.invoke(research_cli.analyze, [str(path), "--events", "1"]).stdout
    assert f"... {ruptures['n_events'] - 1} more not listed here" in text


def test_analyze_score_range_refuses_scores_outside_it(runner, tmp_path):
    path = tmp_path / "range.csv"
    path.write_text(GOOD + "c,1,61,30,video\nc,2,1e308,31,video\n")
    r = runner.invoke(
        research_cli.analyze, [str(path), "--json", "--score-range", "0", "60"]
    )
    assert r.exit_code == 0, r.output
    assert (
        "row 8, column client_score ('61'): outside the declared score range 0 to 60;"
        " row excluded" in r.stderr
    )
    summary = json.loads(r.stdout)
    assert [(p["row"], p["column"]) for p in summary["input_problems"]] == [
        (8, "client_score"),
        (9, "client_score"),
    ]
    assert summary["score_range"] == [0, 60] and summary["n_pairs"] == 6
    bad = runner.invoke(research_cli.analyze, [str(path), "--score-range", "40", "0"])
    assert bad.exit_code == 2 and "score_range must be finite" in bad.output


def test_analyze_no_multilevel_skips_the_models_but_keeps_the_headline(
    runner, tmp_path
):
    path = _course_csv(tmp_path)
    r = runner.invoke(research_cli.analyze, [str(path), "--json", "--no-multilevel"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["multilevel"] is None
    assert "--no-multilevel" in summary["reasons"]["multilevel"]
    assert summary["headline"]["n_dyads"] == 10
    full = json.loads(runner.invoke(research_cli.analyze, [str(path), "--json"]).stdout)
    assert full["multilevel"]["dyad_model"] is not None
    assert full["headline"] == summary["headline"]


def test_analyze_plots_each_instrument_apart(runner, tmp_path):
    lines = ["dyad_id,session_number,client_score,therapist_score,instrument"]
    for d in range(10):
        name, base = ("wai-sr", 50) if d % 2 else ("srs/2", 30)
        for s in range(1, 5):
            lines.append(f"d{d},{s},{base + (d * s) % 3},{base - 1 + s % 2},{name}")
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "figures"
    r = runner.invoke(research_cli.analyze, [str(path), "--plots", str(out)])
    assert r.exit_code == 0, r.output
    assert "on 2 instruments (srs/2, wai-sr)" in r.stdout
    assert sorted(p.name for p in out.iterdir()) == ["srs_2", "wai-sr"]
    assert len(list((out / "wai-sr").iterdir())) == 8
