"""The outcome block: alliance discrepancy and the next session's outcome (issue 15).

Data are generated with known effects (fixed seeds): each dyad has its own typical gap
(client - therapist) and its own speed of improvement; after session t the outcome moves by
``within`` times the session's deviation from the dyad's typical gap and ``between`` times
the dyad's typical gap (centred), plus noise. The outcome column is the score *before* each
session, as the app stores PHQ-9 totals.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ratings._stats_common import Unsupported
from ratings._stats_outcome import fit_lagged, lagged, outcome_block
from ratings.analysis import summarize
from ratings.plots import OUTCOME_KIND, figure, render_png, render_svg


def nulls_without_reason(block: dict[str, Any], path: str = "") -> list[str]:
    """Paths of nulls that no reason of the nearest enclosing block explains."""
    reasons = block.get("reasons", {})
    missing: list[str] = []

    def visit(value: Any, where: str) -> None:
        if isinstance(value, dict):
            if where and "reasons" in value:
                missing.extend(nulls_without_reason(value, where))
                return
            for key, child in value.items():
                if key != "reasons":
                    visit(child, f"{where}.{key}" if where else key)
        elif value is None and not any(
            where == k or where.startswith(k + ".") for k in reasons
        ):
            missing.append(f"{path}:{where}")

    visit(block, "")
    return missing


TYPICAL_GAP = 2.0


def generate(
    n_dyads: int = 40,
    sessions: int = 10,
    *,
    within: float = -0.5,
    between: float = 0.3,
    therapist_bias: float = 0.0,
    gap_sd: float = 2.0,
    seed: int = 0,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for i in range(n_dyads):
        gap = rng.normal(
            TYPICAL_GAP, gap_sd
        )  # the dyad's own typical client - therapist gap
        speed = rng.normal(0, 0.5)  # dyads improve at different speeds
        before = rng.normal(15, 4)  # e.g. a PHQ-9 total before the first session
        level = rng.normal(35, 3)
        for t in range(1, sessions + 1):
            deviation = rng.normal(0, 2)  # this session's gap beyond the dyad's own
            therapist = level + rng.normal(0, 1.5)
            rows.append(
                {
                    "dyad_id": f"d{i:02d}",
                    "session_number": t,
                    "client_score": therapist + gap + deviation + therapist_bias,
                    "therapist_score": therapist,
                    "outcome": before,
                }
            )
            before += (
                -0.4
                + speed
                + within * deviation
                + between * (gap - TYPICAL_GAP)
                + rng.normal(0, 1.5)
            )
    return pd.DataFrame(rows)


def covers(ci: list[float], value: float) -> bool:
    return ci[0] <= value <= ci[1]


@pytest.fixture(scope="module")
def known() -> dict[str, Any]:
    return summarize(generate(), include_multilevel=False)


def test_recovers_a_known_within_dyad_effect(known: dict[str, Any]) -> None:
    block = known["outcome"]
    within, between = block["within"], block["between"]
    assert covers(within["ci95"], -0.5)
    assert abs(within["estimate"] + 0.5) < 0.1  # measured: -0.484
    assert within["p"] < 0.001
    assert within["df"] == 360 - 40 - 3  # lagged pairs - dyads - within terms
    # the between-dyad slope (true 0.3) is a different number, kept apart from the within
    # one; it is attenuated by the noise in observed dyad means (measured: 0.16, CI 0.05
    # to 0.28; Lüdtke et al. 2008 on manifest centring)
    assert between["estimate"] > 0 and not covers(between["ci95"], -0.5)
    assert between["df"] == 40 - 3  # dyads - (intercept, two dyad means)
    assert (block["n_dyads"], block["n_pairs"]) == (40, 360)
    assert block["n_sessions_without_lag"] == 40  # each dyad's last session
    assert block["predictor"] == "client_score - therapist_score"
    assert nulls_without_reason(known) == []
    json.dumps(known, allow_nan=False)


def test_each_perspective_has_its_own_model(known: dict[str, Any]) -> None:
    perspectives = known["outcome"]["by_perspective"]
    # the outcome follows the client's rating only (the generator's deviation is the
    # client's): the client's within slope is negative, the therapist's covers zero
    assert perspectives["client"]["within"]["ci95"][1] < 0
    assert covers(perspectives["therapist"]["within"]["ci95"], 0.0)
    assert set(perspectives["therapist"]) == {"within", "between"}


def test_null_effects_are_not_claimed_above_the_nominal_rate() -> None:
    """100 data sets with no effect at all: a 5% test may reject in about 5 of them.

    Measured: within 5, between 8 of 100 (seeds 100-199; over 400 sets, seeds 1000-1399:
    6.5% and 5.0%); above 10 of 100 has a probability of about 1% at a true rate of 5%."""
    rejected = {"within": 0, "between": 0}
    for seed in range(100, 200):
        data = lagged(generate(20, 6, within=0.0, between=0.0, seed=seed))
        fit = fit_lagged(data, data["client_score"] - data["therapist_score"])
        for key in rejected:
            rejected[key] += fit.effects[key]["p"] < 0.05
    assert rejected["within"] <= 10 and rejected["between"] <= 10, rejected


def test_a_null_effect_is_reported_with_its_interval_not_as_a_verdict() -> None:
    block = summarize(
        generate(20, 8, within=0.0, between=0.0, seed=3), include_multilevel=False
    )["outcome"]
    for key in ("within", "between"):
        effect = block[key]
        assert set(effect) == {"estimate", "se", "t", "df", "p", "ci95"}
        assert effect["ci95"][0] < effect["estimate"] < effect["ci95"][1]


def test_too_few_dyads_give_null_with_the_reason() -> None:
    summary = summarize(generate(4, 10), include_multilevel=False)
    assert summary["outcome"] is None
    assert "at least 5 dyads" in summary["reasons"]["outcome"]
    assert "(got 4)" in summary["reasons"]["outcome"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda df: df.drop(columns="outcome"), "no outcome column"),
        (lambda df: df.assign(outcome=np.nan), "no session has an outcome value"),
    ],
)
def test_without_outcomes_the_block_is_null_with_the_reason(
    change: Any, reason: str
) -> None:
    summary = summarize(change(generate(8, 5)), include_multilevel=False)
    assert summary["outcome"] is None
    assert reason in summary["reasons"]["outcome"]
    assert nulls_without_reason(summary) == []


def test_only_consecutive_sessions_are_lagged() -> None:
    frame = pd.DataFrame(
        {
            "dyad_id": ["a", "a", "a", "a", "b", "b"],
            "session_number": [1, 2, 4, 5, 1, 2],
            "client_score": [30.0] * 6,
            "therapist_score": [28.0] * 6,
            "outcome": [20.0, 18.0, 15.0, np.nan, 10.0, 9.0],
        }
    )
    data = lagged(frame)
    # a1 -> a2 (18); a2 -> a4 is not consecutive; a4 -> a5 has no outcome; b1 -> b2 (9)
    assert data[["dyad_id", "session_number", "outcome_next"]].values.tolist() == [
        ["a", 1, 18.0],
        ["b", 1, 9.0],
    ]


def test_truth_and_bias_recovers_the_directional_bias() -> None:
    """Clients rate 2 points above their therapists on average (the generator's typical
    gap, dyads' own gaps with SD 0.5) plus 1 more here: the directional bias (therapist's
    level minus the client's) is about -3. The therapist's rating is part of the client's,
    so the within-dyad truth force is var(therapist noise) / var(client within dyad)
    = 2.25 / 6.25 = 0.36."""
    frame = generate(therapist_bias=1.0, gap_sd=0.5, seed=7)
    block = summarize(frame, include_multilevel=False)
    truth_bias = block["outcome"]["truth_bias"]
    assert covers(truth_bias["directional_bias"]["ci95"], -3.0)
    assert covers(truth_bias["temporal_congruence"]["ci95"], 0.36)
    assert truth_bias["judgement"] == "therapist_score"
    assert truth_bias["n_dyads"] == 40
    assert nulls_without_reason(block) == []


def test_truth_and_bias_needs_enough_sessions_per_dyad() -> None:
    summary = summarize(generate(30, 3), include_multilevel=False)
    block = summary["outcome"]
    assert block["within"]["estimate"] is not None  # the lagged model still runs
    assert block["truth_bias"] is None
    assert "4 or more sessions" in block["reasons"]["truth_bias"]


def test_a_quick_summary_skips_large_data_with_the_reason() -> None:
    with pytest.raises(Unsupported, match="above 100 lagged pairs"):
        outcome_block(generate(30, 10), max_pairs=100)
    big = generate(600, 10)  # 5,400 lagged pairs: more than QUICK_MAX_PAIRS
    quick = summarize(big, include_multilevel=False)
    assert quick["outcome"] is None
    assert "teletherapy analyze" in quick["reasons"]["outcome"]


def test_outcome_figure_draws_the_within_dyad_relation(known: dict[str, Any]) -> None:
    frame = generate()
    fig = figure(OUTCOME_KIND, frame, known)
    ax = fig.axes[0]
    assert "within" in ax.get_xlabel().lower()
    slopes = [line for line in ax.get_lines() if line.get_label().startswith("slope")]
    assert len(slopes) == 1
    x, y = slopes[0].get_data()
    slope = (y[-1] - y[0]) / (x[-1] - x[0])
    assert slope == pytest.approx(known["outcome"]["within"]["estimate"])
    svg = render_svg(OUTCOME_KIND, frame, known)
    assert "40 dyads" in svg
    assert render_png(OUTCOME_KIND, frame).startswith(b"\x89PNG")


def test_outcome_figure_says_why_without_outcomes() -> None:
    fig = figure(OUTCOME_KIND, generate(8, 5).drop(columns="outcome"))
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert texts == ["No outcome analysis: no outcome column."]


def test_the_text_report_gives_the_outcome_block(known: dict[str, Any]) -> None:
    from ratings.report import format_report

    text = format_report(known)
    assert "Alliance gap and the next session's outcome" in text
    within = known["outcome"]["within"]
    line = next(
        x for x in text.splitlines() if x.strip().startswith("gap, within-dyad")
    )
    assert f"{within['estimate']:.2f}" in line and f"{within['ci95'][0]:.2f}" in line
    assert (
        "client rating, within-dyad" in text
        and "therapist rating, between-dyad" in text
    )
