"""summarize(): the contract's keys, the null-with-reason scheme, tiny and degenerate data."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ratings.analysis import prepare, summarize
from ratings.pairs_io import PairsFormatError

CONTRACT_KEYS = {
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
}
NESTED = {
    "paired_t": {"t", "df", "p"},
    "wilcoxon": {"statistic", "p"},
    "rm_corr": {"r", "df", "p", "ci95"},
    "bland_altman": {
        "bias",
        "sd",
        "loa_lower",
        "loa_upper",
        "bias_ci95",
        "loa_lower_ci95",
        "loa_upper_ci95",
        "proportional_bias",
    },
}
EXTRAS = {
    "headline",
    "by_instrument",
    "input_problems",
    "score_range",
    "per_subscale",
    "multilevel",
    "response_surface",
    "ruptures",
    "meta_perception",
    "quality",
    "repeated_measures_bland_altman",
}


def pairs(
    n_dyads: int = 12, sessions: int = 5, seed: int = 1, **extra: Any
) -> pd.DataFrame:
    """Clients rate about half a point higher; each dyad has its own level."""
    rng = np.random.default_rng(seed)
    dyad = np.repeat(np.arange(n_dyads), sessions)
    level = rng.normal(0, 0.6, n_dyads)[dyad]
    n = len(dyad)
    return pd.DataFrame(
        {
            "dyad_id": [f"d{i:02d}" for i in dyad],
            "session_number": np.tile(np.arange(1, sessions + 1), n_dyads),
            "client_score": 5.5 + level + rng.normal(0, 0.4, n),
            "therapist_score": 5.0 + level + rng.normal(0, 0.4, n),
            "modality": np.where(dyad % 2 == 0, "video", "chat"),
            **extra,
        }
    )


def nulls_without_reason(block: dict[str, Any]) -> list[str]:
    """Paths of null values that no reason in the nearest block explains."""
    reasons = block["reasons"]
    missing = []
    for path, value in walk(block, ""):
        if value is None and not any(
            path == k or path.startswith(k + ".") for k in reasons
        ):
            missing.append(path)
    for _, child in children(block):
        missing += nulls_without_reason(child)
    return missing


def walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        if path and "reasons" in value:
            return
        for key, child in value.items():
            if key != "reasons":
                yield from walk(child, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from walk(child, f"{path}.{i}")
    else:
        yield path, value


def children(value: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        if isinstance(child, dict) and "reasons" in child:
            yield str(key), child
        elif isinstance(child, dict | list) and key != "reasons":
            yield from children(child)


def test_summary_has_every_contract_key_and_is_strict_json() -> None:
    summary = summarize(pairs())
    assert CONTRACT_KEYS | EXTRAS | {"by_modality", "reasons"} <= summary.keys()
    assert {
        "estimate",
        "ci95",
        "p",
        "method",
        "n_dyads",
        "n_pairs",
        "ci_level",
        "n_therapists",
        "df",
        "rule",
    } <= summary["headline"].keys()
    assert "treat sessions as independent" in summary["conventions"]["pooled_tests"]
    for key, nested in NESTED.items():
        assert nested <= summary[key].keys()
    assert set(summary["icc"]) == {"A1", "C1"}
    assert {"value", "ci95"} <= summary["icc"]["A1"].keys()
    assert {"slope", "p"} <= summary["bland_altman"]["proportional_bias"].keys()
    json.dumps(summary, allow_nan=False)


def test_by_modality_repeats_the_contract_block_per_modality() -> None:
    summary = summarize(pairs())
    assert set(summary["by_modality"]) == {"chat", "video"}
    for block in summary["by_modality"].values():
        assert block.keys() >= CONTRACT_KEYS
        assert block["n_pairs"] == 30
    assert (
        sum(b["n_dyads"] for b in summary["by_modality"].values()) == summary["n_dyads"]
    )


def test_difference_is_client_minus_therapist_and_d_kind_is_named() -> None:
    summary = summarize(pairs())
    assert summary["mean_difference"] == pytest.approx(
        summary["client_mean"] - summary["therapist_mean"]
    )
    assert summary["mean_difference"] > 0
    assert summary["bland_altman"]["bias"] == pytest.approx(summary["mean_difference"])
    assert summary["cohens_d_kind"] == "d_av"
    assert summary["cohens_d"] > 0
    assert summary["conventions"]["difference"] == "client_score - therapist_score"


def test_one_session_per_dyad_gives_rm_corr_null_with_reason() -> None:
    summary = summarize(pairs(n_dyads=20, sessions=1))
    assert summary["rm_corr"] == {"r": None, "df": None, "p": None, "ci95": None}
    assert "2 sessions per dyad" in summary["reasons"]["rm_corr"]
    assert summary["repeated_measures_bland_altman"]["sd"] is None
    assert summary["pearson_r"] is not None
    assert nulls_without_reason(summary) == []


@pytest.mark.parametrize("n", [0, 1, 2])
def test_fewer_than_three_pairs_give_reasons_not_numbers(n: int) -> None:
    summary = summarize(pairs(n_dyads=1, sessions=5).iloc[:n])
    for key in ("cohens_d", "pearson_r", "spearman_rho"):
        assert summary[key] is None
        assert "at least 3 pairs" in summary["reasons"][key]
    assert summary["paired_t"]["t"] is None
    assert summary["icc"]["A1"]["value"] is None
    assert summary["n_pairs"] == n
    assert nulls_without_reason(summary) == []
    json.dumps(summary, allow_nan=False)


def test_zero_variance_gives_reasons_not_nan() -> None:
    frame = pairs(n_dyads=4, sessions=3).assign(client_score=5.0, therapist_score=5.0)
    summary = summarize(frame)
    assert summary["mean_difference"] == 0
    assert summary["sd_difference"] == 0
    assert "all differences are equal" in summary["reasons"]["paired_t"]
    assert "all differences are zero" in summary["reasons"]["wilcoxon"]
    assert "do not vary" in summary["reasons"]["pearson_r"]
    assert "no variance" in summary["reasons"]["icc"]
    assert nulls_without_reason(summary) == []
    json.dumps(summary, allow_nan=False)


def test_constant_offset_keeps_consistency_and_reports_missing_ci() -> None:
    frame = pairs()
    summary = summarize(frame.assign(therapist_score=frame["client_score"] - 1))
    assert summary["icc"]["C1"]["value"] == pytest.approx(1.0)
    assert summary["bland_altman"]["sd"] == pytest.approx(0, abs=1e-12)
    assert nulls_without_reason(summary) == []


def test_every_null_in_a_rich_summary_has_a_reason() -> None:
    frame = pairs(n_dyads=14, sessions=4, therapist_id="t1")
    frame["outcome"] = frame["client_score"] * 0.3
    frame["client_goal"] = frame["client_score"]
    frame["therapist_goal"] = frame["therapist_score"]
    summary = summarize(frame)
    assert set(summary["per_subscale"]) == {"goal"}
    assert summary["per_subscale"]["goal"].keys() >= CONTRACT_KEYS
    assert summary["multilevel"]["therapist_model"] is None
    assert "5 therapists" in summary["multilevel"]["reasons"]["therapist_model"]
    assert nulls_without_reason(summary) == []


def test_extra_blocks_exist_as_null_with_reason_when_not_applicable() -> None:
    summary = summarize(pairs(), include_multilevel=False)
    for key in ("response_surface", "meta_perception", "quality", "multilevel"):
        assert summary[key] is None
        assert summary["reasons"][key]
    assert summary["per_subscale"] == {}
    assert "subscale" in summary["reasons"]["per_subscale"]


def test_no_modality_column_gives_empty_by_modality_with_reason() -> None:
    summary = summarize(pairs().drop(columns="modality"), include_multilevel=False)
    assert summary["by_modality"] == {}
    assert "modality" in summary["reasons"]["by_modality"]


def test_prepare_names_the_missing_column() -> None:
    with pytest.raises(PairsFormatError, match="therapist_score"):
        prepare(pairs().drop(columns="therapist_score"))


def test_prepare_drops_rows_without_both_scores_and_counts_them() -> None:
    frame = pairs()
    frame.loc[[0, 3], "client_score"] = np.nan
    frame.loc[5, "therapist_score"] = np.inf
    clean, excluded = prepare(frame)
    assert excluded == 3
    assert len(clean) == len(frame) - 3
    assert summarize(frame, include_multilevel=False)["n_rows_excluded"] == 3


def test_importing_the_analysis_leaves_pingouin_and_statsmodels_unloaded() -> None:
    # pingouin takes ~1.3 s to import: it must load only when a summary is computed.
    code = (
        "import sys, ratings.analysis, ratings.plots, ratings.report, ratings.pairs_io\n"
        "print(sorted(m for m in ('pingouin', 'statsmodels', 'matplotlib.pyplot')"
        " if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
