"""Compare client and therapist alliance ratings: the JSON summary researchers read.

``summarize(df)`` (a frame, e.g. from ``read_pairs_csv``) and ``summarize_records``
(typed ``ratings.pairs.PairRecord`` rows) return one block of statistics plus extra blocks,
as docs/research.md ("The summary and the null-with-reason scheme") lists them. Every
value the data cannot support is null, and the enclosing object's ``reasons`` map says
why (see ratings._stats_common and docs/research.md). Heavy libraries (pingouin, statsmodels) are
imported only inside the functions that need them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import _stats_dyadic as dyadic
from ._stats_agreement import (
    bland_altman,
    icc_pair,
    icc_table,
    rm_bland_altman,
    rm_corr,
)
from ._stats_common import MIN_PAIRS, Json, Reasons, attempt, finalize, nulls
from ._stats_models import multilevel, response_surface
from ._stats_paired import (
    cohens_d_av,
    cohens_d_z,
    mean,
    paired_t,
    pearson,
    sd,
    spearman,
    wilcoxon,
)
from .pairs import REQUIRED, PairRecord, records_frame
from .pairs_io import (
    MEASURE_COLUMNS,
    PREDICTION_COLUMNS,
    PairsFormatError,
    subscale_names,
)

__all__ = [
    "CONVENTIONS",
    "bland_altman",
    "core_block",
    "icc_table",
    "prepare",
    "rm_bland_altman",
    "rm_corr",
    "summarize",
    "summarize_records",
]

SCHEMA_VERSION = 1
CONVENTIONS = {
    "difference": "client_score - therapist_score",
    "ci_level": 0.95,
    "min_pairs": MIN_PAIRS,
    "limits_of_agreement": (
        "bias +- 1.96 SD of the differences; 95% CIs with t(n-1): bias +- t s/sqrt(n), "
        "each limit +- t sqrt(3 s^2/n) (Bland & Altman 1986)"
    ),
    "cohens_d": (
        "d_av = mean difference / sqrt((SD_client^2 + SD_therapist^2) / 2), the pooled-SD d of "
        "meta-analyses; cohens_d_z = mean difference / SD of the differences"
    ),
    "icc": (
        "McGraw & Wong 1996 two-way models, each session pair one target: A1 = Shrout & "
        "Fleiss ICC(2,1) (absolute agreement), C1 = ICC(3,1) (consistency); F-based 95% CIs"
    ),
    "rm_corr": "Bakdash & Marusich 2017; 95% CI Fisher z with n_eff = df + 2 (rmcorr >= 0.5)",
    "wilcoxon": (
        "zero differences dropped; exact below 50 non-zero differences without ties, else "
        "normal approximation with continuity correction (as R's wilcox.test)"
    ),
    "nulls": (
        "a null value has an entry for its dotted path, or a parent path, in the 'reasons' "
        "of the nearest enclosing object that has 'reasons'"
    ),
}
SCORES = ("client_score", "therapist_score")


def prepare(df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Validate and coerce a pairs frame; return it with the number of rows dropped.

    Raises PairsFormatError naming missing required columns. Rows without a finite client and
    therapist score, dyad_id or session_number are dropped (read_pairs_csv reports them);
    dyad_id becomes a categorical of strings.
    """
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise PairsFormatError(f"missing required column(s): {', '.join(missing)}")
    frame = df.copy()
    numeric = [*SCORES, "session_number", *MEASURE_COLUMNS, *PREDICTION_COLUMNS]
    numeric += [
        f"{p}_{n}"
        for n in subscale_names(frame.columns)
        for p in ("client", "therapist")
    ]
    for col in (c for c in numeric if c in frame):
        values = pd.to_numeric(frame[col], errors="coerce").astype(float)
        frame[col] = values.where(np.isfinite(values))
    keep = frame[[*SCORES, "session_number", "dyad_id"]].notna().all(axis=1)
    frame = frame[keep].reset_index(drop=True)
    # categorical: every per-dyad groupby below then reuses one factorisation
    frame["dyad_id"] = frame["dyad_id"].astype(str).astype("category")
    return frame, int((~keep).sum())


def core_block(frame: pd.DataFrame) -> Json:
    """The contract's statistics for one set of pairs (used per modality and per subscale)."""
    c = frame["client_score"].to_numpy(dtype=float)
    t = frame["therapist_score"].to_numpy(dtype=float)
    d = c - t
    block: Json = {"n_pairs": len(frame), "n_dyads": int(frame["dyad_id"].nunique())}
    block["reasons"] = {}
    for key, compute in {
        "client_mean": lambda: mean(c),
        "client_sd": lambda: sd(c),
        "therapist_mean": lambda: mean(t),
        "therapist_sd": lambda: sd(t),
        "mean_difference": lambda: mean(d),
        "sd_difference": lambda: sd(d),
        "cohens_d": lambda: cohens_d_av(c, t),
        "cohens_d_z": lambda: cohens_d_z(c, t),
    }.items():
        attempt(block, key, None, _ignoring_reasons(compute))
    block["cohens_d_kind"] = "d_av"
    attempt(
        block,
        "paired_t",
        nulls("t", "df", "p", "mean_difference_ci95"),
        _on(paired_t, c, t),
    )
    attempt(block, "wilcoxon", nulls("statistic", "p"), _on(wilcoxon, c, t))
    _flat(
        block,
        {"r": "pearson_r", "p": "pearson_p", "ci95": "pearson_ci95"},
        pearson,
        c,
        t,
    )
    _flat(block, {"rho": "spearman_rho", "p": "spearman_p"}, spearman, c, t)
    icc_empty = {form: nulls("value", "ci95") for form in ("A1", "C1")}
    attempt(block, "icc", icc_empty, _on(icc_pair, c, t))
    attempt(block, "bland_altman", _empty_bland_altman(), _on(bland_altman, c, t))
    rm = _ignoring_reasons(lambda: rm_corr(frame, *SCORES, "dyad_id"))
    attempt(block, "rm_corr", nulls("r", "df", "p", "ci95"), rm)
    attempt(
        block,
        "repeated_measures_bland_altman",
        nulls("bias", "sd", "loa_lower", "loa_upper"),
        lambda r: rm_bland_altman(pd.Series(d), frame["dyad_id"], r),
    )
    return block


def summarize(
    df: pd.DataFrame,
    *,
    include_multilevel: bool = True,
    rupture_sd: float = 1.0,
    scale_midpoint: float | None = None,
    multilevel_reason: str | None = None,
) -> Json:
    """The JSON summary comparing client and therapist ratings (see module docstring).

    ``include_multilevel=False`` skips the MixedLM block (the slow part on large exports),
    with ``multilevel_reason`` as the caller's reason for skipping it;
    ``rupture_sd`` is the rupture threshold in SDs of the dyad's own series (1 = Strauss et al.
    2006, 2 = Stiles et al. 2004); ``scale_midpoint`` centres the response surface (Shanock et
    al. 2010), else the grand mean is used.
    """
    frame, excluded = prepare(df)
    summary = core_block(frame)
    summary.update(
        schema_version=SCHEMA_VERSION, conventions=CONVENTIONS, n_rows_excluded=excluded
    )
    reasons: Reasons = summary["reasons"]
    summary["by_modality"] = _by_modality(frame, reasons)
    summary["per_subscale"] = _per_subscale(frame, reasons)
    with_diff = frame.assign(
        difference=frame["client_score"] - frame["therapist_score"]
    )
    if include_multilevel:
        attempt(summary, "multilevel", None, lambda _: multilevel(with_diff))
    else:
        summary["multilevel"] = None
        reasons["multilevel"] = (
            multilevel_reason
            or "not requested (summarize(..., include_multilevel=False))"
        )
    if "outcome" in frame:
        surface = _on(response_surface, frame, scale_midpoint=scale_midpoint)
        attempt(summary, "response_surface", None, surface)
    else:
        summary["response_surface"] = None
        reasons["response_surface"] = "no outcome column"
    rupture = _on(dyadic.ruptures, frame, threshold_sd=rupture_sd)
    attempt(summary, "ruptures", None, rupture)
    attempt(summary, "meta_perception", None, lambda _: dyadic.meta_perception(frame))
    attempt(summary, "quality", None, lambda _: dyadic.quality(frame))
    return finalize(summary)


def summarize_records(records: Sequence[PairRecord], **options: Any) -> Json:
    """``summarize`` of typed records (ratings.pairs.records_frame); same options."""
    return summarize(records_frame(records), **options)


def _by_modality(frame: pd.DataFrame, reasons: Reasons) -> Json:
    if "modality" not in frame or frame["modality"].isna().all():
        reasons["by_modality"] = "no modality column (or no modality given)"
        return {}
    groups = frame.dropna(subset=["modality"]).groupby("modality", sort=True)
    return {str(name): core_block(group) for name, group in groups}


def _per_subscale(frame: pd.DataFrame, reasons: Reasons) -> Json:
    names = subscale_names(frame.columns)
    if not names:
        reasons["per_subscale"] = (
            "no subscale columns (client_<name> with therapist_<name>)"
        )
        return {}
    blocks: Json = {}
    for name in names:
        sub = frame.assign(
            client_score=frame[f"client_{name}"],
            therapist_score=frame[f"therapist_{name}"],
        ).dropna(subset=list(SCORES))
        blocks[name] = core_block(sub)
    return blocks


def _empty_bland_altman() -> Json:
    block = nulls(
        "bias",
        "sd",
        "loa_lower",
        "loa_upper",
        "bias_ci95",
        "loa_lower_ci95",
        "loa_upper_ci95",
    )
    block["proportional_bias"] = nulls("slope", "intercept", "p")
    return block


def _flat(
    block: Json, keys: dict[str, str], stat: Callable[..., Json], *args: Any
) -> None:
    """Run a statistic returning an object and store its parts as flat keys of ``block``."""
    scratch: Json = {}
    attempt(scratch, "x", nulls(*keys), _ignoring_reasons(lambda: stat(*args)))
    for source, target in keys.items():
        block[target] = scratch["x"][source]
        if "x" in scratch["reasons"]:
            block["reasons"][target] = scratch["reasons"]["x"]


def _on(
    stat: Callable[..., Any], *args: Any, **kwargs: Any
) -> Callable[[Reasons], Any]:
    """A compute callable for attempt(): stat(*args, reasons, **kwargs)."""
    return lambda reasons: stat(*args, reasons, **kwargs)


def _ignoring_reasons(compute: Callable[[], Any]) -> Callable[[Reasons], Any]:
    return lambda _reasons: compute()
