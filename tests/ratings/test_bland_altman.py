"""Exact confidence intervals of the Bland–Altman limits (Carkeet 2015) against the 1986 one.

The 1986 paper's SE of a limit, sqrt(3 s^2 / n), is an approximation that is too narrow at small
n. The exact interval comes from the non-central t distribution of the limit's pivot; here it is
checked against figures computed for n = 8, an independent formula and its coverage.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ratings._stats_agreement import bland_altman, limit_ci_1986, limit_ci_exact


def differences(n: int, mean: float, sd: float) -> np.ndarray:
    """n values with exactly this mean and SD (n - 1 divisor)."""
    raw = np.random.default_rng(n).normal(size=n)
    return mean + sd * (raw - raw.mean()) / raw.std(ddof=1)


def test_eight_pairs_give_the_exact_not_the_approximate_interval() -> None:
    # n = 8, mean difference 3.150, SD 1.816: upper limit 6.71; the 1986 approximation gives
    # [4.08, 9.34], the exact interval [5.13, 10.86].
    diff = differences(8, 3.150131, 1.816260)
    result = bland_altman(diff, np.zeros(8), {})
    assert result["loa_upper"] == pytest.approx(6.71, abs=0.005)
    assert result["loa_upper_ci95"] == pytest.approx([5.13, 10.86], abs=0.005)
    assert limit_ci_1986(result["loa_upper"], result["sd"], 8) == pytest.approx(
        [4.08, 9.34], abs=0.005
    )
    assert "Carkeet 2015" in result["limits_ci_method"]


def test_exact_interval_is_the_non_central_t_pivot() -> None:
    # Independent route: sqrt(n) (mu + z sigma - mean) / s ~ t'(n - 1, z sqrt(n)); invert it
    # by root finding on the distribution function instead of calling its quantile function.
    from scipy.optimize import brentq

    n, mean, sd, z = 12, -1.5, 2.0, 1.96
    nc = z * np.sqrt(n)

    def bound(p: float) -> float:
        q = brentq(lambda t: stats.nct.cdf(t, n - 1, nc) - p, -50, 50, xtol=1e-12)
        return mean + q * sd / np.sqrt(n)

    assert limit_ci_exact(mean, sd, n, z) == pytest.approx(
        [bound(0.025), bound(0.975)], abs=1e-8
    )


def test_lower_limit_interval_mirrors_the_upper_one() -> None:
    diff = differences(10, 1.0, 3.0)
    result = bland_altman(diff, np.zeros(10), {})
    mirrored = bland_altman(-diff, np.zeros(10), {})
    low, high = result["loa_lower_ci95"]
    assert mirrored["loa_upper_ci95"] == pytest.approx([-high, -low])
    # asymmetric: wider away from the bias
    assert result["loa_lower"] - low > high - result["loa_lower"]


def test_exact_interval_covers_95_percent_at_small_n_the_1986_one_less() -> None:
    rng = np.random.default_rng(2015)
    n, runs, true_upper = 8, 4000, 1.96
    exact = approximate = 0
    for _ in range(runs):
        diff = rng.normal(0, 1, n)
        mean, sd = diff.mean(), diff.std(ddof=1)
        low, high = limit_ci_exact(mean, sd, n, 1.96)
        exact += low <= true_upper <= high
        low, high = limit_ci_1986(mean + 1.96 * sd, sd, n)
        approximate += low <= true_upper <= high
    print(f"coverage at n = 8: exact {exact / runs:.3f}, 1986 {approximate / runs:.3f}")
    assert exact / runs == pytest.approx(0.95, abs=0.015)
    assert approximate / runs < 0.93


def test_large_n_the_two_intervals_agree() -> None:
    diff = differences(2000, 0.5, 2.0)
    result = bland_altman(diff, np.zeros(2000), {})
    approx = limit_ci_1986(result["loa_upper"], result["sd"], 2000)
    # sqrt(3 s^2/n) is the large-sample SE for z near 2 (1 + z^2/2 = 2.92, not 3)
    assert result["loa_upper_ci95"] == pytest.approx(approx, abs=0.03)
