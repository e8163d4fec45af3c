"""Meta-perception: the therapist's prediction of the client's total against the client's total.

Simulated dyads with a known bias; the bias CI must respect that sessions are nested in dyads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ratings._stats_common import Unsupported
from ratings._stats_dyadic import meta_perception

SHAPE = {
    "n",
    "n_dyads",
    "bias",
    "ci95",
    "accuracy_r",
    "accuracy_r_ci95",
    "method",
    "reasons",
}


def predictions(
    dyads: int,
    sessions: int,
    bias: float,
    dyad_bias_sd: float = 0.0,
    noise: float = 1.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Client totals on a 9-45 scale; the therapist predicts them `bias` points too high, with
    a dyad-specific extra offset N(0, dyad_bias_sd) and session noise N(0, noise)."""
    rng = np.random.default_rng(seed)
    dyad = np.repeat(np.arange(dyads), sessions)
    client = np.clip(
        rng.normal(36, 4, dyads)[dyad] + rng.normal(0, 2, len(dyad)), 9, 45
    )
    return pd.DataFrame(
        {
            "dyad_id": [f"d{i}" for i in dyad],
            "session_number": np.tile(np.arange(1, sessions + 1), dyads),
            "client_score": client,
            "therapist_score": client - 3,
            "predicted_client_score": client
            + bias
            + rng.normal(0, dyad_bias_sd, dyads)[dyad]
            + rng.normal(0, noise, len(dyad)),
        }
    )


def test_predictions_two_points_too_high_give_a_bias_of_two() -> None:
    block = meta_perception(predictions(40, 8, bias=2.0, seed=1), {})
    assert block.keys() >= SHAPE
    assert block["n"] == 320 and block["n_dyads"] == 40
    assert block["bias"] == pytest.approx(2.0, abs=0.25)
    low, high = block["ci95"]
    assert low < 2.0 < high
    # the prediction tracks the client's session-to-session changes (noise SD 1 vs 2)
    assert block["accuracy_r"] == pytest.approx(2 / np.sqrt(5), abs=0.1)
    assert (
        block["accuracy_r_ci95"][0] < block["accuracy_r"] < block["accuracy_r_ci95"][1]
    )
    assert "cluster" in block["method"] and "t(G - 1)" in block["method"]
    assert block["reasons"] == {}


def test_bias_ci_equals_the_t_interval_of_dyad_means_when_balanced() -> None:
    data = predictions(12, 6, bias=1.0, dyad_bias_sd=1.0, seed=2)
    block = meta_perception(data, {})
    error = data["predicted_client_score"] - data["client_score"]
    means = error.groupby(data["dyad_id"]).mean()
    expected = stats.ttest_1samp(means, 0).confidence_interval(0.95)
    assert block["ci95"] == pytest.approx([expected.low, expected.high], rel=1e-9)


def test_bias_ci_covers_the_true_bias_when_dyads_differ() -> None:
    # Dyad-specific offsets (SD 1.5) make the sessions of a dyad share their error: a CI that
    # treated 80 sessions as independent would cover the true bias far less than 95%.
    covered = naive = 0
    runs = 300
    for seed in range(runs):
        data = predictions(10, 8, bias=2.0, dyad_bias_sd=1.5, noise=1.0, seed=seed)
        low, high = meta_perception(data, {})["ci95"]
        covered += low < 2.0 < high
        error = data["predicted_client_score"] - data["client_score"]
        ci = stats.ttest_1samp(error, 0).confidence_interval(0.95)
        naive += ci.low < 2.0 < ci.high
    print(
        f"coverage: cluster-robust {covered / runs:.3f}, sessions as independent "
        f"{naive / runs:.3f}"
    )
    assert covered / runs >= 0.90
    assert naive / runs < 0.80


def test_without_predictions_there_is_no_block() -> None:
    data = predictions(5, 4, bias=0.0).drop(columns="predicted_client_score")
    with pytest.raises(Unsupported, match="predicted_client_score"):
        meta_perception(data, {})
    empty = predictions(5, 4, bias=0.0).assign(predicted_client_score=np.nan)
    with pytest.raises(Unsupported, match="no session"):
        meta_perception(empty, {})


def test_one_dyad_gives_a_bias_without_a_ci() -> None:
    block = meta_perception(predictions(1, 6, bias=1.0, seed=3), {})
    assert block["bias"] is not None
    assert block["ci95"] is None
    assert "2 dyads" in block["reasons"]["ci95"]


def test_predictions_that_never_vary_within_dyads_give_no_accuracy() -> None:
    data = predictions(6, 5, bias=0.0, seed=4)
    data["predicted_client_score"] = data.groupby("dyad_id")["client_score"].transform(
        "mean"
    )
    block = meta_perception(data, {})
    assert block["accuracy_r"] is None and block["accuracy_r_ci95"] is None
    assert "does not vary within dyads" in block["reasons"]["accuracy_r"]
