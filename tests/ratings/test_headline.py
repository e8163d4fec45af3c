"""The headline: the mean client - therapist gap with sessions nested in dyads respected.

Why it exists: sessions of one dyad are not independent. When dyads differ in their typical
gap, a paired t over all sessions counts 6 dyads x 10 sessions as 60 independent pairs and
calls a gap of zero "p < .001" in a large share of data sets; the headline counts dyads (or
therapists) and keeps its nominal 5 %. These tests check that calibration by simulation, the
coverage of a true gap, the numbers against independent fits (scipy on dyad means, statsmodels
directly) and the choice rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ratings._stats_common import Unsupported
from ratings._stats_nested import FEW_CLUSTERS, MODEL_MAX_PAIRS, RULE, headline
from ratings.analysis import summarize


def nested(
    n_dyads: int,
    sessions: int,
    *,
    gap: float = 0.0,
    offset_sd: float = 1.0,
    noise_sd: float = 0.5,
    rng: np.random.Generator,
    dyads_per_therapist: int | None = None,
) -> pd.DataFrame:
    """Each dyad has its own typical gap (offset) around ``gap``; session noise on top."""
    dyad = np.repeat(np.arange(n_dyads), sessions)
    n = len(dyad)
    therapist = rng.normal(0, 40, n)  # the level itself is irrelevant to the gap
    diff = gap + rng.normal(0, offset_sd, n_dyads)[dyad] + rng.normal(0, noise_sd, n)
    frame = pd.DataFrame(
        {
            "dyad_id": [f"d{i:03d}" for i in dyad],
            "session_number": np.tile(np.arange(1, sessions + 1), n_dyads),
            "client_score": therapist + diff,
            "therapist_score": therapist,
        }
    )
    if dyads_per_therapist:
        frame["therapist_id"] = [f"t{i // dyads_per_therapist}" for i in dyad]
    return frame


def dyad_means_t(frame: pd.DataFrame) -> Any:
    diff = frame["client_score"] - frame["therapist_score"]
    return stats.ttest_1samp(diff.groupby(frame["dyad_id"]).mean(), 0)


def test_null_monte_carlo_headline_keeps_five_percent_pooled_t_does_not() -> None:
    # 300 data sets of 20 dyads x 8 sessions, dyad offsets SD 1, session noise SD 0.5, true
    # gap 0. The headline (dyad-cluster-robust mean, t(19); 20 clusters) must reject at
    # about 5 %; the pooled paired t over 160 "independent" sessions rejects far more.
    rng = np.random.default_rng(20261130)
    rejected_headline, rejected_pooled = 0, 0
    runs = 300
    for _ in range(runs):
        frame = nested(20, 8, rng=rng)
        block = headline(frame, {})
        assert block["df"] == 19 and "cluster-robust" in block["method"]
        rejected_headline += block["p"] < 0.05
        pooled = stats.ttest_rel(frame["client_score"], frame["therapist_score"])
        rejected_pooled += pooled.pvalue < 0.05
    assert rejected_headline / runs <= 0.07
    assert rejected_pooled / runs >= 0.4
    assert rejected_pooled > 5 * max(rejected_headline, 1)


def test_null_monte_carlo_of_the_model_route_with_six_dyads() -> None:
    # 6 dyads x 10 sessions: the random-intercept model, t(5).
    rng = np.random.default_rng(6)
    runs = 200
    rejected = 0
    for _ in range(runs):
        block = headline(nested(6, 10, offset_sd=1.5, rng=rng), {})
        assert block["df"] == 5 and block["method"].startswith("random-intercept model")
        rejected += block["p"] < 0.05
    assert rejected / runs <= 0.07


def test_the_ci_covers_a_true_gap() -> None:
    rng = np.random.default_rng(3)
    block = headline(nested(30, 6, gap=0.4, rng=rng), {})
    low, high = block["ci95"]
    assert low < 0.4 < high
    assert block["p"] < 0.05  # offsets SD 1 over 30 dyads: a gap of 0.4 is detectable
    covered = 0
    runs = 300
    for _ in range(runs):
        low, high = headline(nested(25, 6, gap=0.4, rng=rng), {})["ci95"]
        covered += low <= 0.4 <= high
    assert covered / runs >= 0.93


@pytest.mark.parametrize("n_dyads", [12, 30])
def test_balanced_data_give_the_t_test_on_dyad_means(n_dyads: int) -> None:
    # Equal sessions per dyad: the random-intercept intercept (12 dyads, model route) and the
    # cluster-robust mean (30 dyads) both equal the one-sample t-test of the dyad means.
    frame = nested(n_dyads, 6, gap=0.3, rng=np.random.default_rng(n_dyads))
    block = headline(frame, {})
    reference = dyad_means_t(frame)
    tolerance = 1e-4 if n_dyads < FEW_CLUSTERS else 1e-10
    assert ("random-intercept" in block["method"]) == (n_dyads < FEW_CLUSTERS)
    means = (frame["client_score"] - frame["therapist_score"]).groupby(frame["dyad_id"])
    assert block["estimate"] == pytest.approx(means.mean().mean(), abs=tolerance)
    assert block["df"] == reference.df == n_dyads - 1
    assert block["t"] == pytest.approx(reference.statistic, rel=tolerance)
    assert block["p"] == pytest.approx(reference.pvalue, rel=tolerance * 10)
    assert block["ci95"] == pytest.approx(
        list(reference.confidence_interval(0.95)), abs=tolerance
    )


def test_unbalanced_model_route_equals_statsmodels_fitted_directly() -> None:
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(9)
    frame = nested(9, 8, gap=0.2, rng=rng)
    frame = frame.drop(index=rng.choice(len(frame), 25, replace=False))
    block = headline(frame, {})
    data = frame.assign(
        difference=frame["client_score"] - frame["therapist_score"],
        centred=frame["session_number"] - frame["session_number"].mean(),
    )
    fit = smf.mixedlm("difference ~ centred", data, groups=data["dyad_id"]).fit(
        reml=True
    )
    assert block["estimate"] == pytest.approx(fit.fe_params["Intercept"], abs=1e-5)
    assert block["se"] == pytest.approx(fit.bse_fe["Intercept"], rel=1e-3)
    t = fit.fe_params["Intercept"] / fit.bse_fe["Intercept"]
    assert block["p"] == pytest.approx(2 * stats.t.sf(abs(t), 8), rel=1e-3)
    s = frame["session_number"].mean()
    assert f"session_number centred at its mean, S = {s:.4g}" in block["method"]


def test_the_six_dyad_example_without_a_true_gap() -> None:
    # Big dyad offsets, no true gap: the paired t over 60 sessions says p < .001.
    offsets = np.array([3.0, 2.5, 2.0, -1.0, -0.5, 1.0])
    rng = np.random.default_rng(11)
    dyad = np.repeat(np.arange(6), 10)
    therapist = 30 + rng.normal(0, 0.5, 60)
    frame = pd.DataFrame(
        {
            "dyad_id": [f"d{i}" for i in dyad],
            "session_number": np.tile(range(1, 11), 6),
            "client_score": therapist + offsets[dyad] + rng.normal(0, 0.5, 60),
            "therapist_score": therapist,
        }
    )
    summary = summarize(frame, include_multilevel=False)
    assert summary["paired_t"]["p"] < 0.001
    head = summary["headline"]
    assert head["p"] > 0.05
    assert head["ci95"][0] < 0 < head["ci95"][1]
    assert head["n_dyads"] == 6 and head["n_pairs"] == 60 and head["df"] == 5
    assert head["ci_level"] == 0.95
    assert head["rule"] == RULE
    assert head["p"] == pytest.approx(dyad_means_t(frame).pvalue, rel=1e-3)
    assert "descriptive" in summary["conventions"]["pooled_tests"]
    assert "treat sessions as independent" in summary["conventions"]["pooled_tests"]


def test_fewer_than_five_dyads_give_no_headline_with_a_reason() -> None:
    frame = nested(4, 10, rng=np.random.default_rng(1))
    with pytest.raises(Unsupported, match="at least 5 dyads"):
        headline(frame, {})
    summary = summarize(frame, include_multilevel=False)
    assert summary["headline"] is None
    reason = summary["reasons"]["headline"]
    assert reason.startswith("needs at least 5 dyads") and "(got 4)" in reason
    assert summary["paired_t"]["t"] is not None  # the descriptive tests remain


def test_five_or_more_therapists_make_therapists_the_clusters() -> None:
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(4)
    frame = nested(24, 6, gap=0.3, rng=rng, dyads_per_therapist=3)
    block = headline(frame, {})
    assert block["cluster"] == "therapist" and block["n_clusters"] == 8
    assert block["n_therapists"] == 8 and block["df"] == 7
    assert "dyads nested in therapists" in block["method"]
    data = frame.assign(
        difference=frame["client_score"] - frame["therapist_score"],
        centred=frame["session_number"] - frame["session_number"].mean(),
    )
    fit = smf.mixedlm(
        "difference ~ centred",
        data,
        groups=data["therapist_id"],
        re_formula="1",
        vc_formula={"dyad_id": "0 + C(dyad_id)"},
    ).fit(reml=True)
    assert block["estimate"] == pytest.approx(fit.fe_params["Intercept"], abs=1e-4)
    assert block["se"] == pytest.approx(fit.bse_fe["Intercept"], rel=1e-3)


def test_many_therapists_give_the_therapist_cluster_robust_mean() -> None:
    rng = np.random.default_rng(5)
    frame = nested(120, 4, gap=0.3, rng=rng, dyads_per_therapist=4)
    block = headline(frame, {})
    assert block["cluster"] == "therapist" and block["df"] == 29
    assert "therapist-cluster-robust (CR1)" in block["method"]
    diff = frame["client_score"] - frame["therapist_score"]
    # equal pairs per therapist: the t-test on therapist means
    reference = stats.ttest_1samp(diff.groupby(frame["therapist_id"]).mean(), 0)
    assert block["p"] == pytest.approx(reference.pvalue, rel=1e-8)


def test_partly_known_therapists_leave_dyads_as_the_clusters() -> None:
    frame = nested(24, 4, rng=np.random.default_rng(2), dyads_per_therapist=3)
    frame.loc[0, "therapist_id"] = None
    block = headline(frame, {})
    assert block["cluster"] == "dyad" and block["n_therapists"] == 8
    assert block["df"] == 23


def test_few_clusters_with_many_pairs_use_the_cluster_robust_mean_and_say_so() -> None:
    frame = nested(6, MODEL_MAX_PAIRS // 6 + 10, rng=np.random.default_rng(7))
    reasons: dict[str, str] = {}
    block = headline(frame, reasons)
    assert "cluster-robust" in block["method"] and block["df"] == 5
    assert "more than 5000 pairs" in reasons["method"]


def test_equal_differences_give_a_reason() -> None:
    frame = nested(6, 3, rng=np.random.default_rng(1)).assign(therapist_score=30.0)
    frame["client_score"] = 31.0
    with pytest.raises(Unsupported, match="all differences are equal"):
        headline(frame, {})
