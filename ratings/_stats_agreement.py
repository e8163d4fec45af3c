"""Agreement between the two perspectives: ICC, Bland–Altman limits, repeated-measures r.

Library calls where a library does the job (scipy regression and distributions); the published
formulas where none does (the exact CIs of the Bland–Altman limits, Carkeet 2015; the
repeated-measures limits of Bland & Altman 2007), where the library cannot scale (see rm_corr)
and where importing it costs more than the arithmetic (the ICCs: pingouin, which pulls in
statsmodels, took about 0.9 s to import and 0.13 s per call at 100,000 pairs; the tests check
these against pingouin.intraclass_corr).
"""

from __future__ import annotations

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

#: pingouin's names for the six forms -> McGraw & Wong (1996) short names used in our JSON
#: (the order of icc_table's keys).
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
    mixed) equals ICC(3,1). Computed from the mean squares of the two-way ANOVA without
    replication (targets x raters; see icc_from_ratings), with the arithmetic of
    pingouin.intraclass_corr 0.7, which the tests compare it with. Rows with a missing rating
    are dropped.
    """
    complete = wide.dropna()
    require(complete.shape[1] >= 2, "needs at least 2 raters")
    require_pairs(len(complete))
    values = complete.to_numpy(dtype=float)
    require(np.ptp(values) > 0, "all ratings are equal (no variance)")
    require(np.ptp(values.mean(axis=1)) > 0, "all targets have the same mean rating")
    return icc_from_ratings(values)


def icc_from_ratings(values: Array) -> dict[str, Json]:
    """The six ICC forms of a complete n x k matrix (targets x raters), unchecked.

    Mean squares of the two-way ANOVA: MSR (targets, df n - 1), MSC (raters, df k - 1), MSE
    (residual = interaction, df (n - 1)(k - 1), SSE = SS_total - SSR - SSC) and MSW = (SSC +
    SSE) / (n (k - 1)) for the one-way form. Shrout & Fleiss (1979) / McGraw & Wong (1996):
    ICC(1,1) = (MSR - MSW) / (MSR + (k - 1) MSW); ICC(A,1) = (MSR - MSE) / (MSR + (k - 1) MSE
    + k (MSC - MSE) / n); ICC(C,1) = (MSR - MSE) / (MSR + (k - 1) MSE); the k-rater forms
    (1k, Ak, Ck) are those of the mean of k ratings. F = MSR / MSW (one-way) or MSR / MSE. CIs:
    McGraw & Wong (1996) Table 7, with Satterthwaite's df for the absolute-agreement forms.
    NaN or infinite values (e.g. MSE = 0) are left for num() to turn into None.
    """
    n, k = values.shape
    q = 0.5 + CI_LEVEL / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        grand = values.mean()
        ss_total = ((values - grand) ** 2).sum()
        ss_rows = ((values.mean(axis=1) - grand) ** 2).sum() * k
        ss_cols = ((values.mean(axis=0) - grand) ** 2).sum() * n
        ss_error = ss_total - (ss_rows + ss_cols)
        df1, df_cols, df_error = n - 1, k - 1, (n - 1) * (k - 1)
        df_within = n * (k - 1)
        msb, msj, mse = ss_rows / df1, ss_cols / df_cols, ss_error / df_error
        msw = (ss_cols + ss_error) / (df_cols + df_error)

        icc1 = (msb - msw) / (msb + (k - 1) * msw)
        icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
        icc3 = (msb - mse) / (msb + (k - 1) * mse)
        icc1k = (msb - msw) / msb
        icc2k = (msb - mse) / (msb + (msj - mse) / n)
        icc3k = (msb - mse) / msb

        f1 = msb / msw
        f3 = msb / mse
        p1 = stats.f.sf(f1, df1, df_within)
        p3 = stats.f.sf(f3, df1, df_error)

        f1l = f1 / stats.f.ppf(q, df1, df_within)
        f1u = f1 * stats.f.ppf(q, df_within, df1)
        f3l = f3 / stats.f.ppf(q, df1, df_error)
        f3u = f3 * stats.f.ppf(q, df_error, df1)
        fj = msj / mse
        vn = df_error * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        vd = df1 * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        v = vn / vd
        f2u = stats.f.ppf(q, n - 1, v)
        f2l = stats.f.ppf(q, v, n - 1)
        l2 = n * (msb - f2u * mse) / (f2u * (k * msj + (k * n - k - n) * mse) + n * msb)
        u2 = n * (f2l * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f2l * msb)
        forms = {
            "1": (icc1, f1, df_within, p1, _bound(f1l, k), _bound(f1u, k)),
            "A1": (icc2, f3, df_error, p3, l2, u2),
            "C1": (icc3, f3, df_error, p3, _bound(f3l, k), _bound(f3u, k)),
            "1k": (icc1k, f1, df_within, p1, 1 - 1 / f1l, 1 - 1 / f1u),
            "Ak": (
                icc2k,
                f3,
                df_error,
                p3,
                _spearman_brown(l2, k),
                _spearman_brown(u2, k),
            ),
            "Ck": (icc3k, f3, df_error, p3, 1 - 1 / f3l, 1 - 1 / f3u),
        }
    return {
        form: {
            "value": num(value),
            "ci95": pair((low, high)),
            "F": num(f),
            "df1": int(df1),
            "df2": int(df2),
            "p": num(p),
        }
        for form, (value, f, df2, p, low, high) in forms.items()
    }


def _bound(f: float, k: int) -> float:
    """A single-rating ICC bound from an F bound: (F_b - 1) / (F_b + k - 1)."""
    return (f - 1) / (f + (k - 1))


def _spearman_brown(icc: float, k: int) -> float:
    """The ICC of the mean of k ratings from that of one: k r / (1 + (k - 1) r)."""
    return icc * k / (1 + icc * (k - 1))


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
