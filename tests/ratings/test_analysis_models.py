"""Model-based and dyad-level blocks: known effects recovered from simulated data, hand cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ratings._stats_agreement import rm_bland_altman
from ratings._stats_common import Unsupported
from ratings._stats_dyadic import quality, ruptures
from ratings._stats_models import SURFACE_CONTRASTS, multilevel, response_surface


def simulated_discrepancy(seed: int = 7, therapists: int = 8) -> pd.DataFrame:
    """difference = 0.5 + 0.4 [video] - 0.05 session + dyad N(0, .5) + therapist N(0, .4) + e."""
    rng = np.random.default_rng(seed)
    dyads, sessions = 96, 6
    dyad = np.repeat(np.arange(dyads), sessions)
    therapist = dyad % therapists
    session = np.tile(np.arange(1, sessions + 1), dyads)
    video = (dyad // therapists) % 2 == 0
    diff = (
        0.5
        + 0.4 * video[dyad]
        - 0.05 * session
        + rng.normal(0, 0.5, dyads)[dyad]
        + rng.normal(0, 0.4, therapists)[therapist]
        + rng.normal(0, 0.3, len(dyad))
    )
    return pd.DataFrame(
        {
            "dyad_id": dyad.astype(str),
            "therapist_id": therapist.astype(str),
            "session_number": session,
            "modality": np.where(video[dyad], "video", "audio"),
            "difference": diff,
        }
    )


def test_mixedlm_recovers_known_fixed_effects() -> None:
    block = multilevel(simulated_discrepancy())
    model = block["dyad_model"]
    effects = model["fixed_effects"]
    assert block["reference_modality"] == "audio"
    assert effects["session_number"]["coef"] == pytest.approx(-0.05, abs=0.01)
    assert effects["modality[video]"]["coef"] == pytest.approx(0.4, abs=2.5 * 0.15)
    assert model["variance_components"]["residual"] == pytest.approx(0.09, rel=0.2)
    assert model["n_groups"] == 96
    assert {"coef", "se", "z", "p", "ci95"} <= effects["Intercept"].keys()


def test_mixedlm_intercept_is_the_gap_at_the_average_session() -> None:
    # Balanced sessions 1-6 with a trend of -0.05 per session: uncentred, the intercept is
    # the gap at "session 0" (0.5 + 0.2 + 0.05 higher); centred at S = 3.5 it is the
    # average gap, which in balanced data is the mean of all differences.
    frame = simulated_discrepancy().drop(columns="modality")
    block = multilevel(frame)
    intercept = block["dyad_model"]["fixed_effects"]["Intercept"]["coef"]
    assert block["session_centre"] == pytest.approx(3.5)
    assert block["session_centring"] == "session_number centred at its mean, S = 3.5"
    assert intercept == pytest.approx(frame["difference"].mean(), abs=1e-6)
    slope = block["dyad_model"]["fixed_effects"]["session_number"]["coef"]
    assert slope == pytest.approx(-0.05, abs=0.01)


def test_the_re_expressed_intercept_equals_a_fit_on_centred_sessions() -> None:
    # multilevel fits session_number as given and moves the intercept to S (b0 + S b1 with
    # its covariance); a fit on centred data (statsmodels directly) gives the same numbers.
    import statsmodels.formula.api as smf

    frame = simulated_discrepancy()
    block = multilevel(frame)
    centred = frame.assign(
        session_number=frame["session_number"] - frame["session_number"].mean(),
        dyad_id=frame["dyad_id"].astype(str),
    )
    for key, kwargs in (
        ("dyad_model", {"groups": centred["dyad_id"]}),
        (
            "therapist_model",
            {
                "groups": centred["therapist_id"],
                "re_formula": "1",
                "vc_formula": {"dyad_id": "0 + C(dyad_id)"},
            },
        ),
    ):
        fit = smf.mixedlm(block["formula"], centred, **kwargs).fit(reml=True)
        ours = block[key]["fixed_effects"]["Intercept"]
        assert ours["coef"] == pytest.approx(fit.fe_params["Intercept"], abs=1e-4)
        assert ours["se"] == pytest.approx(fit.bse_fe["Intercept"], rel=1e-3)
        assert ours["p"] == pytest.approx(fit.pvalues["Intercept"], rel=1e-2, abs=1e-12)
        low, high = ours["ci95"]
        assert low == pytest.approx(fit.conf_int().loc["Intercept", 0], abs=1e-3)
        assert high == pytest.approx(fit.conf_int().loc["Intercept", 1], abs=1e-3)


def test_mixedlm_nests_dyads_in_therapists_with_five_or_more() -> None:
    model = multilevel(simulated_discrepancy())["therapist_model"]
    variances = model["variance_components"]
    assert set(variances) == {"therapist_id", "dyad_id", "residual"}
    assert variances["dyad_id"] == pytest.approx(0.25, rel=0.5)
    assert model["n_groups"] == 8


def test_mixedlm_skips_the_therapist_level_below_five_therapists() -> None:
    block = multilevel(simulated_discrepancy(therapists=4))
    assert block["therapist_model"] is None
    assert "at least 5 therapists (got 4)" in block["reasons"]["therapist_model"]


def test_mixedlm_reports_convergence_warnings_as_reasons() -> None:
    # No between-dyad variance at all: the dyad variance sits on the boundary.
    frame = simulated_discrepancy().assign(
        difference=lambda f: np.random.default_rng(1).normal(0, 1, len(f))
    )
    block = multilevel(frame.drop(columns="therapist_id"))
    model = block["dyad_model"]
    assert model["warnings"]
    assert block["reasons"]["dyad_model.converged"]


def test_response_surface_recovers_known_a1_to_a4() -> None:
    rng = np.random.default_rng(3)
    n = 400
    c, t = rng.uniform(1, 7, n), rng.uniform(1, 7, n)
    cc, tc = c - 4, t - 4  # centred on the scale midpoint, as the analysis will be told
    z = 2 + 0.5 * cc + 0.3 * tc - 0.2 * cc**2 + 0.1 * cc * tc - 0.1 * tc**2
    frame = pd.DataFrame(
        {
            "client_score": c,
            "therapist_score": t,
            "outcome": z + rng.normal(0, 0.05, n),
            "dyad_id": np.arange(n).astype(str),
        }
    )
    result = response_surface(frame, {}, scale_midpoint=4)
    surface = result["surface"]
    # a1 = b1 + b2, a2 = b3 + b4 + b5, a3 = b1 - b2, a4 = b3 - b4 + b5
    expected = {"a1": 0.8, "a2": -0.2, "a3": 0.2, "a4": -0.4}
    for name, value in expected.items():
        assert surface[name]["estimate"] == pytest.approx(value, abs=0.01)
        assert surface[name]["se"] < 0.01
    assert result["se_kind"] == "OLS (independent pairs)"
    assert result["centre_kind"] == "scale midpoint"


def test_response_surface_clusters_by_dyad_with_repeated_sessions() -> None:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {
            "client_score": rng.uniform(1, 7, 120),
            "therapist_score": rng.uniform(1, 7, 120),
            "outcome": rng.normal(0, 1, 120),
            "dyad_id": np.repeat(np.arange(30), 4).astype(str),
        }
    )
    result = response_surface(frame, {})
    assert result["se_kind"] == "cluster-robust by dyad"
    assert result["centre"] == pytest.approx(
        np.r_[frame["client_score"], frame["therapist_score"]].mean()
    )


@pytest.mark.parametrize("n_dyads", [30, 5])
def test_response_surface_numbers_are_statsmodels_ols(n_dyads: int) -> None:
    # The surface is fitted with numpy; statsmodels gives the same numbers (cluster-robust
    # CR1 with normal p values at >= 10 dyads, else classical OLS with t(n - 6)).
    import statsmodels.api as sm

    rng = np.random.default_rng(8)
    n = 4 * n_dyads
    frame = pd.DataFrame(
        {
            "client_score": rng.uniform(1, 7, n),
            "therapist_score": rng.uniform(1, 7, n),
            "dyad_id": np.repeat(np.arange(n_dyads), 4).astype(str),
        }
    )
    frame["outcome"] = 0.3 * frame["client_score"] + rng.normal(0, 1, n)
    ours = response_surface(frame, {})
    centre = np.r_[frame["client_score"], frame["therapist_score"]].mean()
    c, t = frame["client_score"] - centre, frame["therapist_score"] - centre
    design = np.column_stack([np.ones(n), c, t, c**2, c * t, t**2])
    model = sm.OLS(frame["outcome"].to_numpy(), design)
    if n_dyads >= 10:
        groups = pd.factorize(frame["dyad_id"])[0]
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
    else:
        fit = model.fit()
    contrasts = fit.t_test(np.array(list(SURFACE_CONTRASTS.values()), dtype=float))
    assert ours["r_squared"] == pytest.approx(fit.rsquared, abs=1e-12)
    for i, term in enumerate(ours["coefficients"].values()):
        assert term["estimate"] == pytest.approx(fit.params[i], abs=1e-10)
        assert term["se"] == pytest.approx(fit.bse[i], rel=1e-9)
        assert term["p"] == pytest.approx(fit.pvalues[i], rel=1e-9, abs=1e-14)
        assert term["ci95"] == pytest.approx(list(fit.conf_int()[i]), abs=1e-10)
    for i, term in enumerate(ours["surface"].values()):
        assert term["estimate"] == pytest.approx(
            np.ravel(contrasts.effect)[i], abs=1e-10
        )
        assert term["p"] == pytest.approx(np.ravel(contrasts.pvalue)[i], rel=1e-9)
        assert term["ci95"] == pytest.approx(list(contrasts.conf_int()[i]), abs=1e-10)


def test_response_surface_needs_distinct_score_combinations() -> None:
    frame = pd.DataFrame(
        {
            "client_score": [5.0, 6.0] * 10,
            "therapist_score": [5.0, 6.0] * 10,
            "outcome": np.arange(20.0),
            "dyad_id": np.arange(20).astype(str),
        }
    )
    with pytest.raises(Unsupported, match="collinear"):
        response_surface(frame, {})


def test_repeated_measures_limits_match_hand_worked_anova() -> None:
    # Dyad A differences 1, 3; dyad B 2, 4, 6. Grand mean 16/5 = 3.2.
    # SS_between = 2 (2-3.2)^2 + 3 (4-3.2)^2 = 4.8 -> MS_b = 4.8; SS_within = 2 + 8 = 10,
    # MS_w = 10/3. D = (25 - 13) / (1 * 5) = 2.4; s_b^2 = (4.8 - 10/3) / 2.4 = 0.6111;
    # SD = sqrt(0.6111 + 3.3333) (Bland & Altman 2007, section 4).
    diff = pd.Series([1.0, 3, 2, 4, 6])
    result = rm_bland_altman(diff, pd.Series(list("AABBB")), {})
    sd = np.sqrt((4.8 - 10 / 3) / 2.4 + 10 / 3)
    assert result["sd"] == pytest.approx(sd)
    assert result["loa_upper"] == pytest.approx(3.2 + 1.96 * sd)
    assert result["bias"] == pytest.approx(3.2)


def test_repeated_measures_mean_squares_equal_pingouin_anova() -> None:
    import pingouin

    rng = np.random.default_rng(5)
    dyad = pd.Series(np.repeat(list("ABCDEFG"), [2, 3, 4, 2, 5, 3, 6]))
    diff = pd.Series(
        rng.normal(0, 1, len(dyad))
        + dyad.map(dict(zip("ABCDEFG", range(7), strict=True)))
    )
    ours = rm_bland_altman(diff, dyad, {})
    frame = pd.DataFrame({"d": diff, "g": dyad})
    table = pingouin.anova(frame, dv="d", between="g", detailed=True)
    assert ours["ms_between"] == pytest.approx(table.at[0, "MS"])
    assert ours["ms_within"] == pytest.approx(table.at[1, "MS"])


def series(
    client: list[float], therapist: list[float], dyad: str = "a"
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dyad_id": dyad,
            "session_number": range(1, len(client) + 1),
            "client_score": client,
            "therapist_score": therapist,
        }
    )


def test_ruptures_need_three_sessions() -> None:
    with pytest.raises(Unsupported, match="3 sessions"):
        ruptures(series([6, 4], [6, 4]), {})


def test_quality_relates_discrepancy_to_connection_metrics() -> None:
    frame = series([6, 6, 6, 6, 6], [6, 5.5, 5, 4, 3]).assign(
        rtt_ms=[20, 40, 80, 160, 320]
    )
    block = quality(frame)
    assert block["rtt_ms"]["abs_difference"]["rho"] == pytest.approx(1.0)
    assert block["rtt_ms"]["difference"]["rho"] == pytest.approx(1.0)
    assert block["packet_loss_pct"] is None
