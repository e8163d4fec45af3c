"""Compare client and therapist alliance ratings: the JSON summary researchers read.

``summarize(df)`` (a frame, e.g. from ``read_pairs_csv``) and ``summarize_records``
(typed ``ratings.pairs.PairRecord`` rows) return one block of statistics plus extra blocks,
as docs/research.md ("The summary and the null-with-reason scheme") lists them. Every
value the data cannot support is null, and the enclosing object's ``reasons`` map says
why (see ratings._stats_common and docs/research.md). statsmodels (MixedLM, for the headline on
few clusters and the multilevel block) is imported only inside the functions that need it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import _stats_dyadic as dyadic
from ._stats_agreement import (
    LIMITS_CI_METHOD,
    bland_altman,
    icc_pair,
    icc_table,
    rm_bland_altman,
    rm_corr,
)
from ._stats_common import (
    MIN_PAIRS,
    Json,
    Plain,
    Reasons,
    attempt,
    finalize,
    nulls,
)
from ._stats_models import multilevel, response_surface
from ._stats_nested import RULE as HEADLINE_RULE
from ._stats_nested import headline
from ._stats_outcome import QUICK_MAX_PAIRS, outcome_block
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
    SCORE_LIMIT,
    PairsFormatError,
    Problem,
    check_score_range,
    out_of_bounds,
    subscale_names,
)

__all__ = [
    "CONVENTIONS",
    "bland_altman",
    "checked",
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
        "bias +- 1.96 SD of the differences (Bland & Altman 1986); 95% CI of the bias "
        "+- t(n-1) s/sqrt(n); 95% CIs of each limit exact under normality from non-central t "
        "tolerance factors (Carkeet 2015), not the 1986 approximation +- t sqrt(3 s^2/n)"
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
    "headline": (
        "the mean client - therapist difference respecting the nesting of sessions in "
        "dyads (and dyads in therapists): " + HEADLINE_RULE
    ),
    "pooled_tests": (
        "descriptive: the session-level tests and intervals (paired t, Wilcoxon, Pearson, "
        "Spearman, ICC, plain Bland-Altman limits) treat sessions as independent; when dyads "
        "rate many sessions their p values and CIs are too optimistic; read the headline"
    ),
    "instruments": (
        "totals of different instruments are never pooled: several instruments give "
        "by_instrument blocks and null pooled blocks (reason 'mixed_instruments')"
    ),
    "nulls": (
        "a null value has an entry for its dotted path, or a parent path, in the 'reasons' "
        "of the nearest enclosing object that has 'reasons'"
    ),
}
SCORES = ("client_score", "therapist_score")
MIXED = "mixed_instruments"
UNLABELLED = "(none)"
#: the blocks summarize adds to core_block's, in order
EXTRAS = (
    "headline",
    "by_modality",
    "per_subscale",
    "multilevel",
    "response_surface",
    "ruptures",
    "meta_perception",
    "quality",
    "outcome",
)


def prepare(
    df: pd.DataFrame, score_range: tuple[float, float] | None = None
) -> tuple[pd.DataFrame, int]:
    """Validate and coerce a pairs frame; return it with the number of rows dropped.

    Raises PairsFormatError naming missing required columns. Rows without a finite client and
    therapist score, dyad_id or a whole session_number, and rows out of bounds
    (``ratings.pairs_io.out_of_bounds``: sessions 1 to MAX_SESSION_NUMBER, totals inside
    ``score_range`` or within +-SCORE_LIMIT) are dropped; ``checked`` lists why, row by row.
    dyad_id becomes a categorical of strings.
    """
    frame, problems = checked(df, score_range)
    return frame, len({p.row for p in problems if p.message.endswith("row excluded")})


def checked(
    df: pd.DataFrame, score_range: tuple[float, float] | None = None
) -> tuple[pd.DataFrame, list[Problem]]:
    """``prepare`` with its reasons: the clean frame and one Problem per bad cell.

    Problem.row is the 0-based position in ``df`` (for summarize_records: in the list of
    records). A bad required cell excludes the row; a bad optional number is blanked. Missing
    optional values are not problems; NaN in a required column is ("missing").
    """
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise PairsFormatError(f"missing required column(s): {', '.join(missing)}")
    check_score_range(score_range)
    frame = df.reset_index(drop=True)  # a copy: positions are the rows of Problems
    problems: list[Problem] = []
    bad = pd.Series(False, index=frame.index)

    def report(
        where: pd.Series,
        column: str,
        message: str,
        required: bool,
        messages: pd.Series | None = None,
    ) -> None:
        effect = "row excluded" if required else "cell ignored"
        for row in where.index[where]:
            text = message if messages is None else messages[row]
            value = str(df[column].iat[row])
            problems.append(Problem(int(row), column, value, f"{text}; {effect}"))

    numeric = [*SCORES, "session_number", *MEASURE_COLUMNS, *PREDICTION_COLUMNS]
    numeric += [
        f"{p}_{n}"
        for n in subscale_names(frame.columns)
        for p in ("client", "therapist")
    ]
    for col in (c for c in numeric if c in frame):
        required = col in REQUIRED
        raw = frame[col]
        if not pd.api.types.is_numeric_dtype(raw):  # text (object or str) columns
            values = pd.to_numeric(raw, errors="coerce").astype(float)
            absent = raw.isna() | values.isna() & raw.astype(str).str.strip().eq("")
            report(values.isna() & ~absent, col, "not a number", required)
        else:
            values = raw.astype(float)
            absent = values.isna()
        if required:
            report(absent, col, "missing", True)
        report(np.isinf(values), col, "not a finite number", required)
        values = values.where(np.isfinite(values))
        if col == "session_number":
            fractional = values.notna() & (values != np.round(values))
            report(fractional, col, "not a whole number", required)
            values = values.mask(fractional)
        why = out_of_bounds(col, values, score_range)
        outside = pd.Series(values.index.isin(why.index), index=values.index)
        report(outside, col, "", required, why)
        values = values.mask(outside)
        frame[col] = values
        if required:
            bad |= values.isna()
    blank_dyad = frame["dyad_id"].isna() | frame["dyad_id"].astype(str).str.strip().eq(
        ""
    )
    report(blank_dyad, "dyad_id", "blank", True)
    bad |= blank_dyad
    frame = frame[~bad].reset_index(drop=True)
    # categorical: every per-dyad groupby below then reuses one factorisation
    frame["dyad_id"] = frame["dyad_id"].astype(str).astype("category")
    problems.sort(key=lambda p: (p.row, p.column))
    return frame, problems


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
    multilevel_reason: str | None = None,
    scale_midpoint: float | None = None,
    rupture_sd: float | None = None,
    rupture_min_drop: float | None = None,
    max_events: int | None = None,
    score_range: tuple[float, float] | None = None,
) -> Json:
    """The JSON summary comparing client and therapist ratings (see module docstring).

    It leads with ``headline`` (ratings._stats_nested: sessions nested in dyads respected);
    the session-level tests of the block are descriptive. Data on several instruments give one
    summary per instrument in ``by_instrument`` and nothing pooled (reason
    "mixed_instruments"). ``include_multilevel=False`` skips the MixedLM block (the slow part
    on large exports), with ``multilevel_reason`` as the caller's reason for skipping it;
    ``scale_midpoint`` centres the response surface (Shanock et al. 2010), else the grand mean
    is used; ``rupture_sd``, ``rupture_min_drop`` and ``max_events`` go to the rupture rule
    (``threshold_sd``, ``min_drop``, ``max_events``; None = its defaults, every event listed);
    ``score_range=(low, high)`` declares the instrument's range of totals: rows outside it are
    excluded and listed in ``input_problems`` with every other excluded row or ignored cell,
    and, unless ``rupture_min_drop`` is given, a rupture must drop by at least 10% of that range
    (``ratings._stats_dyadic.min_drop_for_range``).
    """
    frame, problems = checked(df, score_range)
    options = _Options(
        include_multilevel,
        multilevel_reason,
        scale_midpoint,
        {
            **({} if rupture_sd is None else {"threshold_sd": rupture_sd}),
            "min_drop": (
                rupture_min_drop
                if rupture_min_drop is not None or score_range is None
                else dyadic.min_drop_for_range(*score_range)
            ),
            "max_events": max_events,
        },
    )
    instruments = _instruments(frame)
    if len(instruments) > 1:
        summary = _mixed(frame, instruments, options)
    else:
        summary = _block(frame, options)
        summary["by_instrument"] = {}
        summary["reasons"]["by_instrument"] = (
            f"one instrument ({instruments[0]})"
            if instruments
            else "no instrument column (or no instrument given): one instrument assumed"
        )
    excluded = {p.row for p in problems if p.message.endswith("row excluded")}
    summary.update(
        schema_version=SCHEMA_VERSION,
        conventions=CONVENTIONS,
        n_rows_excluded=len(excluded),
        input_problems=Plain(p.__dict__ for p in problems),
        score_range=None if score_range is None else [*map(float, score_range)],
    )
    if score_range is None:
        summary["reasons"]["score_range"] = (
            f"none declared: scores beyond +-{SCORE_LIMIT:.0f} are refused"
        )
    return finalize(summary)


def summarize_records(records: Sequence[PairRecord], **options: Any) -> Json:
    """``summarize`` of typed records (ratings.pairs.records_frame); same options."""
    return summarize(records_frame(records), **options)


@dataclass(frozen=True)
class _Options:
    include_multilevel: bool
    multilevel_reason: str | None
    scale_midpoint: float | None
    rupture: dict[str, Any]


def _block(frame: pd.DataFrame, options: _Options) -> Json:
    """Everything computed from one instrument's rows (the top level or a by_instrument)."""
    summary = core_block(frame)
    reasons: Reasons = summary["reasons"]
    attempt(summary, "headline", None, _on(headline, frame))
    summary["by_modality"] = _by_modality(frame, reasons)
    summary["per_subscale"] = _per_subscale(frame, reasons)
    if options.include_multilevel:
        with_diff = frame.assign(
            difference=frame["client_score"] - frame["therapist_score"]
        )
        attempt(summary, "multilevel", None, lambda _: multilevel(with_diff))
    else:
        summary["multilevel"] = None
        reasons["multilevel"] = (
            options.multilevel_reason
            or "not requested (summarize(..., include_multilevel=False))"
        )
    if "outcome" in frame:
        surface = _on(response_surface, frame, scale_midpoint=options.scale_midpoint)
        attempt(summary, "response_surface", None, surface)
    else:
        summary["response_surface"] = None
        reasons["response_surface"] = "no outcome column"
    attempt(summary, "ruptures", None, _on(dyadic.ruptures, frame, **options.rupture))
    attempt(summary, "meta_perception", None, _on(dyadic.meta_perception, frame))
    attempt(summary, "quality", None, lambda _: dyadic.quality(frame))
    _outcome(summary, frame, options)
    return summary


def _outcome(summary: Json, frame: pd.DataFrame, options: _Options) -> None:
    """The ``outcome`` block (ratings._stats_outcome): null with a reason without outcomes."""
    if "outcome" not in frame:
        summary["outcome"] = None
        summary["reasons"]["outcome"] = "no outcome column"
        return
    limit = None if options.include_multilevel else QUICK_MAX_PAIRS
    attempt(summary, "outcome", None, lambda _: outcome_block(frame, max_pairs=limit))


def _instruments(frame: pd.DataFrame) -> list[str]:
    """The instruments of the rows, sorted; rows without one count as "(none)" beside others."""
    if "instrument" not in frame or frame["instrument"].isna().all():
        return []
    named = sorted(frame["instrument"].dropna().astype(str).unique())
    return [*named, UNLABELLED] if frame["instrument"].isna().any() else named


def _mixed(frame: pd.DataFrame, instruments: list[str], options: _Options) -> Json:
    """Several instruments: a full block per instrument, nothing pooled (all null)."""
    summary: Json = {"n_pairs": len(frame), "n_dyads": int(frame["dyad_id"].nunique())}
    summary["reasons"] = {}
    for key in [*core_block(frame.iloc[:0]), *EXTRAS]:
        if key in summary or key == "reasons":
            continue
        summary[key] = {} if key in ("by_modality", "per_subscale") else None
        summary["reasons"][key] = MIXED
    labels = frame["instrument"].astype(object).where(frame["instrument"].notna())
    blocks: Json = {}
    for name in instruments:
        if name == UNLABELLED:
            continue
        rows = frame[labels.astype(str) == name].reset_index(drop=True)
        rows["dyad_id"] = rows["dyad_id"].cat.remove_unused_categories()
        blocks[name] = finalize(_block(rows, options))
    summary["by_instrument"] = blocks
    if UNLABELLED in instruments:
        n = int(labels.isna().sum())
        summary["reasons"]["by_instrument"] = (
            f"{n} pairs without an instrument are in no block (their scale is unknown)"
        )
    return summary


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
    block["limits_ci_method"] = LIMITS_CI_METHOD
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
