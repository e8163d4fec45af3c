"""Model-based and dyad-level blocks: known effects recovered from simulated data, hand cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ratings._stats_agreement import rm_bland_altman
from ratings._stats_common import Unsupported
from ratings._stats_dyadic import meta_perception, quality, ruptures
from ratings._stats_models import multilevel, response_surface


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


def test_ruptures_flag_a_one_sd_drop_from_the_previous_session() -> None:
    # Client 6 6 6 4 6: SD = sqrt(3.2/4) = 0.894; the drop of 2 at session 4 is 2.24 SD.
    frame = pd.concat(
        [series([6, 6, 6, 4, 6], [5, 5, 5, 5, 5]), series([5, 6], [5, 6], "b")]
    )
    result = ruptures(frame, {})
    assert result["threshold_name"] == "Strauss et al. 2006 (1 SD)"
    assert result["threshold_sd"] == 1.0
    assert [
        (e["dyad_id"], e["session_number"], e["perspective"]) for e in result["events"]
    ] == [("a", 4, "client")]
    assert result["events"][0]["drop_in_sd"] == pytest.approx(2 / np.sqrt(0.8))
    assert result["n_dyads_evaluated"] == 1
    assert result["n_dyads_not_evaluated"] == 1
    assert result["therapist"]["n_events"] == 0


def test_ruptures_threshold_is_configurable_and_named() -> None:
    # Drop of 1 in 6 5 6 6 6 6: SD = 0.408, 2.45 SD: flagged at 1 SD and at 2 SD;
    # drop of 1 in 6 5 6 5 6 5: SD = 0.548, 1.83 SD: flagged only at 1 SD.
    frame = pd.concat(
        [series([6, 5, 6, 6, 6, 6], [6] * 6), series([6, 5, 6, 5, 6, 5], [6] * 6, "b")]
    )
    assert ruptures(frame, {}, threshold_sd=1.0)["client"]["n_dyads_with_rupture"] == 2
    strict = ruptures(frame, {}, threshold_sd=2.0)
    assert strict["threshold_name"] == "Stiles et al. 2004 (2 SD)"
    assert strict["client"]["n_events"] == 1


def test_ruptures_need_three_sessions() -> None:
    with pytest.raises(Unsupported, match="3 sessions"):
        ruptures(series([6, 4], [6, 4]), {})


def test_meta_perception_reports_accuracy_and_directional_bias() -> None:
    frame = series([5, 6, 7, 4, 6], [5, 5, 6, 4, 5]).assign(
        therapist_meta=lambda f: f["client_score"] - 0.5
    )
    block = meta_perception(frame)
    accuracy = block["therapist_predicts_client"]
    assert accuracy["r"] == pytest.approx(1.0)
    assert accuracy["mean_bias"] == pytest.approx(-0.5)
    assert accuracy["bias_ci95"] is None
    assert "all prediction errors are equal" in accuracy["reasons"]["bias_ci95"]
    assert block["client_predicts_therapist"] is None


def test_quality_relates_discrepancy_to_connection_metrics() -> None:
    frame = series([6, 6, 6, 6, 6], [6, 5.5, 5, 4, 3]).assign(
        rtt_ms=[20, 40, 80, 160, 320]
    )
    block = quality(frame)
    assert block["rtt_ms"]["abs_difference"]["rho"] == pytest.approx(1.0)
    assert block["rtt_ms"]["difference"]["rho"] == pytest.approx(1.0)
    assert block["packet_loss_pct"] is None
