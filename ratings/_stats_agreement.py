"""Agreement between the two perspectives: ICC, Bland–Altman limits, repeated-measures r.

Library calls where a library does the job (pingouin ICC, scipy regression and distributions);
the published formulas where none does (the exact CIs of the Bland–Altman limits, Carkeet
2015; the repeated-measures limits of Bland & Altman 2007) and where the library cannot scale
(see rm_corr).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import cast

import numpy as np
import pandas as pd
from scipy import stats

from ._stats_common import (
    CI_LEVEL,
    Json,
    Reasons,
    Unsupported,
    num,
    pair,
    require,
    require_pairs,
)
from ._stats_paired import Array

#: pingouin's names for the six forms -> McGraw & Wong (1996) short names used in our JSON.
ICC_FORMS = {
    "ICC(1,1)": "1",
    "ICC(A,1)": "A1",
    "ICC(C,1)": "C1",
    "ICC(1,k)": "1k",
    "ICC(A,k)": "Ak",
    "ICC(C,k)": "Ck",
}
LOA_MULTIPLIER = 1.96
LIMITS_CI_METHOD = (
    "exact under normality: non-central t tolerance factors (Carkeet 2015); the bias CI is "
    "t(n-1)"
)


def icc_table(wide: pd.DataFrame) -> dict[str, Json]:
    """ICCs of n targets (rows) rated by k raters (columns), with F-based 95% CIs.

    Returns McGraw & Wong (1996) forms keyed "1", "A1", "C1", "1k", "Ak", "Ck": A1 (absolute
    agreement, two-way) equals Shrout & Fleiss (1979) ICC(2,1) and C1 (consistency, two-way
    mixed) equals ICC(3,1). Computed by pingouin.intraclass_corr (ANOVA mean squares; CIs as in
    McGraw & Wong 1996). Rows with a missing rating are dropped.
    """
    complete = wide.dropna()
    require(complete.shape[1] >= 2, "needs at least 2 raters")
    require_pairs(len(complete))
    values = complete.to_numpy(dtype=float)
    require(np.ptp(values) > 0, "all ratings are equal (no variance)")
    require(np.ptp(values.mean(axis=1)) > 0, "all targets have the same mean rating")
    import pingouin  # slow import: only where analysis runs

    long = (
        pd.DataFrame(values, columns=[f"rater{i}" for i in range(values.shape[1])])
        .rename_axis("_target")
        .reset_index()
        .melt(id_vars="_target", var_name="_rater", value_name="_rating")
    )
    with np.errstate(divide="ignore", invalid="ignore"), _full_precision():
        table = pingouin.intraclass_corr(
            long, targets="_target", raters="_rater", ratings="_rating"
        )
    return {
        ICC_FORMS[row.Type]: {
            "value": num(row.ICC),
            "ci95": pair(row.CI95),
            "F": num(row.F),
            "df1": int(row.df1),
            "df2": int(row.df2),
            "p": num(row.pval),
        }
        for row in table.itertuples()
    }


def _full_precision() -> AbstractContextManager[object]:
    """pingouin rounds CIs to 2 decimals unless its rounding is switched off for the call."""
    try:
        from pingouin.config import _no_rounding
    except ImportError:  # pragma: no cover - a future pingouin without the helper
        return nullcontext()
    return cast(AbstractContextManager[object], _no_rounding())


def icc_pair(client: Array, therapist: Array, reasons: Reasons) -> Json:
    """ICC(A,1) and ICC(C,1) of the two perspectives (each session pair is one target)."""
    table = icc_table(pd.DataFrame({"client": client, "therapist": therapist}))
    if np.ptp(client - therapist) == 0:
        for form in ("A1", "C1"):
            reasons[f"{form}.ci95"] = (
                "no residual variance (client - therapist is constant)"
            )
    return {form: table[form] for form in ("A1", "C1")}


def bland_altman(
    client: Array,
    therapist: Array,
    reasons: Reasons | None = None,
    z: float = LOA_MULTIPLIER,
) -> Json:
    """Bland & Altman (1986) limits of agreement of client - therapist.

    bias +- z * SD (z = 1.96 by default; the 1986 paper rounded it to 2). The bias CI is the
    t(n-1) interval bias +- t * s / sqrt(n). Each limit's CI is exact under normality
    (Carkeet 2015; see limit_ci_exact), not the 1986 paper's approximation +- t sqrt(3 s^2/n)
    (limit_ci_1986), which is too narrow at small n. Proportional bias: OLS regression of the
    difference on the mean of the two (Bland & Altman 1999, section 3.2), by
    scipy.stats.linregress.
    """
    n = len(client)
    require_pairs(n)
    diff = client - therapist
    bias = float(np.mean(diff))
    s = float(np.std(diff, ddof=1))
    t_q = float(stats.t.ppf(0.5 + CI_LEVEL / 2, n - 1))
    half_bias = t_q * s / np.sqrt(n)
    lower, upper = bias - z * s, bias + z * s
    return {
        "bias": bias,
        "sd": s,
        "loa_lower": lower,
        "loa_upper": upper,
        "bias_ci95": [bias - half_bias, bias + half_bias],
        "loa_lower_ci95": limit_ci_exact(bias, s, n, -z),
        "loa_upper_ci95": limit_ci_exact(bias, s, n, z),
        "limits_ci_method": LIMITS_CI_METHOD,
        "multiplier": z,
        "n": n,
        "proportional_bias": _proportional_bias(
            (client + therapist) / 2, diff, {} if reasons is None else reasons
        ),
    }


def limit_ci_exact(bias: float, sd: float, n: int, z: float) -> list[float | None]:
    """Exact 95% CI of the limit bias + z * SD (z < 0: the lower limit), Carkeet (2015).

    With normal differences, sqrt(n) * (mu + z sigma - bias) / sd follows a non-central t with
    n - 1 df and non-centrality z sqrt(n); its 2.5% and 97.5% quantiles (the exact two-sided
    tolerance factors) give bias + sd / sqrt(n) * [q_0.025, q_0.975]. Asymmetric around the
    limit: wider on the side away from the bias.
    """
    alpha = 1 - CI_LEVEL
    low, high = stats.nct.ppf([alpha / 2, 1 - alpha / 2], n - 1, z * np.sqrt(n))
    scale = sd / np.sqrt(n)
    return [num(bias + scale * low), num(bias + scale * high)]


def limit_ci_1986(limit: float, sd: float, n: int) -> list[float]:
    """The 1986 paper's approximate 95% CI of a limit: limit +- t(n-1) sqrt(3 sd^2 / n).

    Not used in the summary (too narrow at small n; kept to reproduce the published example).
    """
    half = float(stats.t.ppf(0.5 + CI_LEVEL / 2, n - 1)) * np.sqrt(3 * sd**2 / n)
    return [limit - half, limit + half]


def _proportional_bias(means: Array, diff: Array, reasons: Reasons) -> Json:
    if np.ptp(diff) == 0 or np.ptp(means) == 0:
        which = "differences" if np.ptp(diff) == 0 else "pair means"
        reasons["proportional_bias"] = f"the {which} do not vary"
        return {"slope": None, "intercept": None, "p": None}
    fit = stats.linregress(means, diff)
    return {
        "slope": num(fit.slope),
        "intercept": num(fit.intercept),
        "p": num(fit.pvalue),
    }


def rm_corr(data: pd.DataFrame, x: str, y: str, subject: str) -> Json:
    """Repeated-measures correlation r_rm (Bakdash & Marusich 2017; Bland & Altman 1995).

    The common within-subject slope of the ANCOVA y ~ subject + x, computed as the Pearson r of
    subject-mean-centred x and y (the same r by the Frisch–Waugh–Lovell theorem), df = N - K - 1.
    pingouin.rm_corr builds an N x K dummy design and took > 16 GB at 10,000 dyads, hence this
    route; tests check both against the published values. 95% CI: Fisher z with the effective
    sample size df + 2 (rmcorr >= 0.5 and pingouin; the 2017 paper used n = df).
    """
    frame = data[[subject, x, y]].dropna()
    sizes = frame.groupby(subject, sort=False, observed=True)[x].transform("size")
    frame = frame[sizes >= 2]
    n, k = len(frame), frame[subject].nunique()
    require(k >= 1, "needs at least 2 sessions per dyad (no dyad has two)")
    dof = n - k - 1
    require(
        dof >= 2, f"needs more repeated sessions (df = N - K - 1 = {dof}, at least 2)"
    )
    groups = frame.groupby(subject, sort=False, observed=True)
    xc = (frame[x] - groups[x].transform("mean")).to_numpy(dtype=float)
    yc = (frame[y] - groups[y].transform("mean")).to_numpy(dtype=float)
    for name, centred in ((x, xc), (y, yc)):
        if np.ptp(centred) < 1e-12:
            raise Unsupported(f"{name} does not vary within dyads")
    r = float(stats.pearsonr(xc, yc).statistic)
    return {"r": r, "df": dof, "p": _rm_p(r, dof), "ci95": _fisher_ci(r, dof + 2)}


def _rm_p(r: float, dof: int) -> float:
    if abs(r) >= 1:
        return 0.0
    t = r * np.sqrt(dof / (1 - r**2))
    return float(2 * stats.t.sf(abs(t), dof))


def _fisher_ci(r: float, n_eff: int) -> list[float | None]:
    """Fisher (1921) z interval: tanh(atanh(r) +- z_.975 / sqrt(n - 3))."""
    if abs(r) >= 1:
        return [r, r]
    half = stats.norm.ppf(0.5 + CI_LEVEL / 2) / np.sqrt(n_eff - 3)
    return [num(np.tanh(np.arctanh(r) - half)), num(np.tanh(np.arctanh(r) + half))]


def rm_bland_altman(
    diff: pd.Series, dyad: pd.Series, reasons: Reasons | None = None
) -> Json:
    """Limits of agreement for several sessions per dyad (Bland & Altman 2007, section 4;
    1999 section 5.3, "true value varies").

    One-way ANOVA of the differences by dyad: s_w^2 = MS_within, s_b^2 = (MS_between -
    MS_within) / D with D = (N^2 - sum m_i^2) / ((K - 1) N), floored at 0; the SD of a single
    difference is sqrt(s_b^2 + s_w^2); bias is the mean of all differences. No CIs: the paper
    gives none in closed form for unequal m_i.
    """
    frame = pd.DataFrame({"d": diff.to_numpy(dtype=float), "g": dyad.array})
    groups = frame.groupby("g", sort=False, observed=True)["d"]
    sizes, means = groups.size(), groups.mean()
    n, k = len(frame), len(sizes)
    require(k >= 2, f"needs at least 2 dyads (got {k})")
    require(n > k, "needs at least 2 sessions in some dyad")
    grand = float(frame["d"].mean())
    ms_between = float((sizes * (means - grand) ** 2).sum()) / (k - 1)
    ms_within = float(((frame["d"] - groups.transform("mean")) ** 2).sum()) / (n - k)
    divisor = (n**2 - float((sizes**2).sum())) / ((k - 1) * n)
    var_between = max(0.0, (ms_between - ms_within) / divisor)
    sd_total = float(np.sqrt(var_between + ms_within))
    return {
        "bias": grand,
        "sd": sd_total,
        "sd_within_dyad": float(np.sqrt(ms_within)),
        "sd_between_dyads": float(np.sqrt(var_between)),
        "loa_lower": grand - LOA_MULTIPLIER * sd_total,
        "loa_upper": grand + LOA_MULTIPLIER * sd_total,
        "ms_between": ms_between,
        "ms_within": ms_within,
        "n_pairs": n,
        "n_dyads": k,
    }
