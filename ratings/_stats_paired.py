"""Level and association statistics of paired ratings (client vs therapist): scipy, numpy.

Every function takes the two score arrays (client first) and a reasons dict for partial results,
and raises Unsupported when the data cannot support the statistic.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
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

Array = NDArray[np.float64]

#: R's wilcox.test uses the exact null distribution below this many non-zero differences.
WILCOXON_EXACT_BELOW = 50
EQUAL_DIFFERENCES = "all differences are equal (sd_difference = 0)"


def mean(x: Array) -> float | None:
    """Arithmetic mean; needs at least one value."""
    require(len(x) >= 1, "no pairs")
    return num(np.mean(x))


def sd(x: Array) -> float | None:
    """Sample standard deviation (n - 1 denominator); needs at least two values."""
    require(len(x) >= 2, f"needs at least 2 pairs (got {len(x)})")
    return num(np.std(x, ddof=1))


def cohens_d_av(client: Array, therapist: Array) -> float | None:
    """Cohen's d_av: mean difference over sqrt((s_C^2 + s_T^2) / 2) (Cumming 2012).

    With equal n this is Cohen's (1988) pooled-SD d, the standardized mean difference that
    meta-analyses of client vs therapist ratings report (Tryon, Blackwell & Hammel 2007).
    The arithmetic of pingouin.compute_effsize(paired=True, eftype="cohen") 0.7, which the tests
    compare it with (importing pingouin took about 0.9 s).
    """
    require_pairs(len(client))
    require(
        bool(np.var(client) + np.var(therapist) > 0),
        "neither perspective varies (both standard deviations are 0)",
    )
    x, y = np.asarray(client, dtype=float), np.asarray(therapist, dtype=float)
    return num((x.mean() - y.mean()) / np.sqrt((x.var(ddof=1) + y.var(ddof=1)) / 2))


def cohens_d_z(client: Array, therapist: Array) -> float | None:
    """Cohen's d_z: mean difference over the SD of the differences (Lakens 2013, eq. 6).

    As pingouin.compute_effsize(paired=True, eftype="cohen_dz") computes it (tests compare).
    """
    require_pairs(len(client))
    diff = client - therapist
    require(bool(np.ptp(diff) > 0), EQUAL_DIFFERENCES)
    return num(diff.mean() / diff.std(ddof=1))


def paired_t(client: Array, therapist: Array, reasons: Reasons) -> Json:
    """Student's paired t-test of client - therapist with the 95% CI of the mean difference."""
    require_pairs(len(client))
    require(bool(np.ptp(client - therapist) > 0), EQUAL_DIFFERENCES)
    result = stats.ttest_rel(client, therapist)
    return {
        "t": num(result.statistic),
        "df": int(result.df),
        "p": num(result.pvalue),
        "mean_difference_ci95": pair(result.confidence_interval(CI_LEVEL)),
    }


def wilcoxon(client: Array, therapist: Array, reasons: Reasons) -> Json:
    """Wilcoxon (1945) signed-rank test, with the conventions of R's wilcox.test.

    Zero differences are dropped (Wilcoxon's convention); the exact null distribution is used
    below 50 non-zero differences without ties, otherwise the normal approximation with
    continuity correction. ``statistic`` is W+ (R's V), the rank sum of positive differences.
    """
    require_pairs(len(client))
    diff = client - therapist
    nonzero = diff[diff != 0]
    require(len(nonzero) >= 1, "all differences are zero")
    ties = len(np.unique(np.abs(nonzero))) < len(nonzero)
    exact = (
        len(nonzero) < WILCOXON_EXACT_BELOW and not ties and len(nonzero) == len(diff)
    )
    method = "exact" if exact else "asymptotic"
    options = {"zero_method": "wilcox", "correction": not exact, "method": method}
    two_sided = stats.wilcoxon(diff, **options)
    w_plus = stats.wilcoxon(diff, alternative="greater", **options).statistic
    return {
        "statistic": num(w_plus),
        "statistic_kind": "W+ (sum of ranks of positive differences; R's V)",
        "p": num(two_sided.pvalue),
        "n_nonzero": len(nonzero),
        "method": method if exact else "normal approximation, continuity correction",
    }


FISHER_MIN_PAIRS = 4  # the Fisher-z SE is 1/sqrt(n - 3)


def pearson(client: Array, therapist: Array) -> Json:
    """Pearson's r with its p value and Fisher-z 95% CI (scipy.stats.pearsonr)."""
    _check_correlation(client, therapist)
    result = stats.pearsonr(client, therapist)
    r = float(result.statistic)
    # Three pairs leave the Fisher z no degrees of freedom: for |r| = 1 scipy computes
    # inf - inf (a RuntimeWarning and NaN limits); there is no interval to give.
    undefined = len(client) <= FISHER_MIN_PAIRS - 1 and abs(r) >= 1.0 - 1e-12
    return {
        "r": num(r),
        "p": num(result.pvalue),
        "ci95": None if undefined else pair(result.confidence_interval(CI_LEVEL)),
    }


def spearman(client: Array, therapist: Array) -> Json:
    """Spearman's rho with its p value (scipy.stats.spearmanr; t approximation)."""
    _check_correlation(client, therapist)
    result = stats.spearmanr(client, therapist)
    return {"rho": num(result.statistic), "p": num(result.pvalue)}


def _check_correlation(x: Array, y: Array) -> None:
    require_pairs(len(x))
    for name, values in (("client", x), ("therapist", y)):
        if np.ptp(values) == 0:
            raise Unsupported(
                f"{name} scores do not vary (a correlation needs variance)"
            )
