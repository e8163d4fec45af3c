"""Each statistic against a published worked example (sources in fixtures/published/README.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ratings._stats_agreement import (
    bland_altman,
    icc_pair,
    icc_table,
    limit_ci_1986,
    limit_ci_exact,
    rm_corr,
)
from ratings._stats_paired import (
    cohens_d_av,
    cohens_d_z,
    paired_t,
    pearson,
    spearman,
    wilcoxon,
)

PUBLISHED = Path(__file__).parent / "fixtures" / "published"


def table(name: str) -> pd.DataFrame:
    return pd.read_csv(PUBLISHED / name, comment="#")


def arrays(frame: pd.DataFrame, x: str, y: str) -> tuple[np.ndarray, np.ndarray]:
    return frame[x].to_numpy(dtype=float), frame[y].to_numpy(dtype=float)


# Shrout & Fleiss (1979), Table 4, for their Table 2 data; McGraw & Wong (1996) name ICC(2,1)
# "A,1" and ICC(3,1) "C,1". CIs as printed by R psych::ICC for the same table (2 decimals).
SHROUT_FLEISS = {
    "1": (0.17, (-0.13, 0.72)),
    "A1": (0.29, (0.02, 0.76)),
    "C1": (0.71, (0.34, 0.95)),
    "1k": (0.44, (-0.88, 0.91)),
    "Ak": (0.62, (0.07, 0.93)),
    "Ck": (0.91, (0.68, 0.99)),
}


@pytest.mark.parametrize(("form", "published"), SHROUT_FLEISS.items())
def test_icc_engine_reproduces_shrout_fleiss_table(form: str, published: tuple) -> None:
    value, ci = published
    result = icc_table(table("shrout_fleiss_1979_table2.csv").set_index("target"))[form]
    assert result["value"] == pytest.approx(value, abs=0.005)
    assert result["ci95"] == pytest.approx(ci, abs=0.005)


def test_icc_ci_keeps_full_precision_of_mcgraw_wong_formula() -> None:
    # McGraw & Wong (1996), Table 7, case 3 (consistency): F_L = F / F_.975(n-1, (n-1)(k-1)),
    # F_U = F * F_.975((n-1)(k-1), n-1), bound = (F_b - 1) / (F_b + k - 1).
    result = icc_table(table("shrout_fleiss_1979_table2.csv").set_index("target"))["C1"]
    n, k, f = 6, 4, result["F"]
    low = f / stats.f.ppf(0.975, n - 1, (n - 1) * (k - 1))
    high = f * stats.f.ppf(0.975, (n - 1) * (k - 1), n - 1)
    expected = [(low - 1) / (low + k - 1), (high - 1) / (high + k - 1)]
    assert result["ci95"] == pytest.approx(expected, rel=1e-9)


def test_two_rater_icc_matches_hand_worked_anova() -> None:
    # Targets (client, therapist): (1,2) (2,2) (3,4) (4,6). Grand mean 3; row means 1.5 2 3.5 5
    # -> MSR = 2 * 7.5 / 3 = 5; column means 2.5, 3.5 -> MSC = 4 * 0.5 / 1 = 2;
    # SS_total = 18 -> SSE = 18 - 15 - 2 = 1, MSE = 1/3.
    # ICC(C,1) = (MSR - MSE) / (MSR + MSE) = 7/8;
    # ICC(A,1) = (MSR - MSE) / (MSR + MSE + k/n (MSC - MSE)) = 28/37 (McGraw & Wong 1996).
    result = icc_pair(np.array([1.0, 2, 3, 4]), np.array([2.0, 2, 4, 6]), {})
    assert result["C1"]["value"] == pytest.approx(7 / 8)
    assert result["A1"]["value"] == pytest.approx(28 / 37)
    assert result["A1"]["ci95"][0] < 28 / 37 < result["A1"]["ci95"][1]


def test_two_rater_icc_separates_agreement_from_consistency() -> None:
    # A constant offset leaves consistency perfect but lowers absolute agreement.
    client = np.array([3.0, 4, 5, 6, 7])
    reasons: dict[str, str] = {}
    result = icc_pair(client, client - 1, reasons)
    assert result["C1"]["value"] == pytest.approx(1.0)
    assert result["A1"]["value"] < 1.0
    assert "no residual variance" in reasons["C1.ci95"]


def test_rm_corr_reproduces_bland_altman_1995() -> None:
    result = rm_corr(table("bland_altman_1995_ph_paco2.csv"), "pH", "PacO2", "Subject")
    assert result["r"] == pytest.approx(-0.507, abs=0.0005)
    assert result["df"] == 38
    assert result["p"] == pytest.approx(0.00085, abs=0.00001)
    assert result["ci95"] == pytest.approx([-0.71, -0.23], abs=0.005)
    # CI convention: Fisher z with the effective sample size df + 2 (rmcorr >= 0.5, pingouin).
    half = 1.959963984540054 / np.sqrt(38 + 2 - 3)
    expected = np.tanh(np.arctanh(result["r"]) + np.array([-half, half]))
    assert result["ci95"] == pytest.approx(expected, rel=1e-12)


def test_rm_corr_equals_pingouin_ancova_route() -> None:
    import pingouin

    data = table("bland_altman_1995_ph_paco2.csv")
    ours = rm_corr(data, "pH", "PacO2", "Subject")
    theirs = pingouin.rm_corr(data, x="pH", y="PacO2", subject="Subject").iloc[0]
    assert ours["r"] == pytest.approx(theirs["r"], rel=1e-9)
    assert ours["p"] == pytest.approx(theirs["pval"], rel=1e-6)
    assert ours["df"] == theirs["dof"]


def test_bland_1995_fixture_is_the_dataset_pingouin_ships_offline() -> None:
    import pingouin

    shipped = pingouin.read_dataset("rm_corr")  # pingouin's name for bland1995
    pd.testing.assert_frame_equal(table("bland_altman_1995_ph_paco2.csv"), shipped)


def test_bland_altman_reproduces_lancet_1986_with_two_sd() -> None:
    wright, mini = arrays(table("bland_altman_1986_pefr.csv"), "wright", "mini_wright")
    result = bland_altman(wright, mini, {}, z=2)
    assert result["bias"] == pytest.approx(-2.1, abs=0.05)
    assert result["sd"] == pytest.approx(38.8, abs=0.05)
    assert result["loa_lower"] == pytest.approx(-79.7, abs=0.1)
    assert result["loa_upper"] == pytest.approx(75.5, abs=0.1)
    # The paper's limit CIs are its approximation +- t sqrt(3 s^2/n), computed from the rounded
    # limits and SE; allow for that rounding. The summary reports the exact ones instead.
    sd, n = result["sd"], len(wright)
    assert limit_ci_1986(result["loa_lower"], sd, n) == pytest.approx(
        [-114.3, -45.1], abs=0.2
    )
    assert limit_ci_1986(result["loa_upper"], sd, n) == pytest.approx(
        [40.9, 110.1], abs=0.2
    )
    assert result["loa_lower_ci95"] == pytest.approx([-126.42, -54.35], abs=0.005)
    assert result["loa_upper_ci95"] == pytest.approx([50.11, 122.18], abs=0.005)
    assert result["loa_upper_ci95"] == limit_ci_exact(result["bias"], sd, n, 2)


def test_bland_altman_default_1_96_sd_t_bias_ci_exact_limit_cis() -> None:
    wright, mini = arrays(table("bland_altman_1986_pefr.csv"), "wright", "mini_wright")
    result = bland_altman(wright, mini, {})
    diff = wright - mini
    s = np.std(diff, ddof=1)
    assert result["loa_lower"] == pytest.approx(diff.mean() - 1.96 * s)
    assert result["loa_upper"] == pytest.approx(diff.mean() + 1.96 * s)
    ci = stats.ttest_1samp(diff, 0).confidence_interval(0.95)
    assert result["bias_ci95"] == pytest.approx([ci.low, ci.high])
    nc = 1.96 * np.sqrt(17)
    factors = stats.nct.ppf([0.025, 0.975], 16, nc) / np.sqrt(17)
    assert result["loa_upper_ci95"] == pytest.approx(diff.mean() + s * factors)
    assert result["loa_lower_ci95"] == pytest.approx(diff.mean() - s * factors[::-1])


def test_paired_t_reproduces_student_sleep_data() -> None:
    drug1, drug2 = arrays(table("student_1908_sleep.csv"), "drug1", "drug2")
    result = paired_t(drug2, drug1, {})
    assert result["t"] == pytest.approx(4.0621, abs=5e-5)
    assert result["df"] == 9
    assert result["p"] == pytest.approx(0.002833, abs=5e-7)
    assert result["mean_difference_ci95"] == pytest.approx(
        [0.7001142, 2.4598858], abs=5e-8
    )


def test_wilcoxon_reproduces_r_on_sleep_data() -> None:
    # One zero difference and tied |differences|: R drops the zero and uses the normal
    # approximation with continuity correction: V = 45, p = 0.009091.
    drug1, drug2 = arrays(table("student_1908_sleep.csv"), "drug1", "drug2")
    result = wilcoxon(drug2, drug1, {})
    assert result["statistic"] == 45
    assert result["p"] == pytest.approx(0.009091, abs=5e-7)
    assert result["n_nonzero"] == 9


def test_wilcoxon_is_exact_for_small_samples_without_ties() -> None:
    # Six positive, distinct differences: W+ = 1+...+6 = 21, exact two-sided p = 2 / 2^6.
    result = wilcoxon(np.arange(2.0, 8.0), np.ones(6), {})
    assert result["statistic"] == 21
    assert result["p"] == pytest.approx(2 / 64)
    assert result["method"] == "exact"


def test_pearson_reproduces_anscombe_quartet() -> None:
    x, y = arrays(table("anscombe_1973_set1.csv"), "x", "y")
    assert pearson(x, y)["r"] == pytest.approx(0.816, abs=0.0005)


def test_spearman_reproduces_hand_worked_ranks() -> None:
    iq, tv = arrays(table("spearman_iq_tv.csv"), "iq", "tv_hours")
    assert spearman(iq, tv)["rho"] == pytest.approx(-29 / 165)


def test_cohens_d_reproduces_lakens_2013_table_1() -> None:
    movie1, movie2 = arrays(table("lakens_2013_movies.csv"), "movie1", "movie2")
    assert cohens_d_z(movie1, movie2) == pytest.approx(1.50, abs=0.005)
    assert cohens_d_av(movie1, movie2) == pytest.approx(1.13, abs=0.005)
    assert paired_t(movie1, movie2, {})["t"] == pytest.approx(4.74, abs=0.005)


def test_cohens_d_hand_worked() -> None:
    # client 5 6 7, therapist 4 5 5: differences 1 1 2, mean 4/3, SD sqrt(1/3);
    # SD client 1, SD therapist sqrt(1/3).
    # d_z = (4/3) / sqrt(1/3); d_av = (4/3) / sqrt((1 + 1/3) / 2) = (4/3) / sqrt(2/3).
    client, therapist = np.array([5.0, 6, 7]), np.array([4.0, 5, 5])
    assert cohens_d_z(client, therapist) == pytest.approx((4 / 3) / np.sqrt(1 / 3))
    assert cohens_d_av(client, therapist) == pytest.approx((4 / 3) / np.sqrt(2 / 3))
