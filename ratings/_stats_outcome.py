"""Alliance and the next session's outcome: within- and between-dyad effects, truth and bias.

The ``outcome`` column holds a score measured *before* each session (e.g. the PHQ-9 total), so
the outcome before session t + 1 is the outcome after session t. Each session t of a dyad whose
next session t + 1 is in the data (consecutive session numbers) gives one lagged pair: the
predictor at t, the current outcome y_t and the next outcome y_(t+1). Models (statsmodels
MixedLM, REML, random intercept per dyad), with person-mean centring of every predictor
that varies within dyads (the within-between "hybrid" model: Allison 2009; Bell & Jones
2015; in alliance research Zilcha-Mano 2017, Rubel et al. 2018):

    y_(t+1) = b0 + b_w (x_t - xbar_i) + b_b (xbar_i - xbar)
              + c_w (y_t - ybar_i) + c_b (ybar_i - ybar) + s_w (session_t - sbar_i) + u_i + e

where x is the discrepancy (client - therapist), or one perspective's own rating
(``by_perspective``, one model each). Dyad means are taken over the dyad's lagged pairs, so the
within parts have mean 0 in every dyad and b_w equals the fixed-effects (dyad dummies)
estimate: a session whose x is one point above the dyad's own average is followed by an
outcome b_w points higher, at the same current outcome. b_b compares dyads with the same mean
outcome. Controlling y_t makes it a prediction of change. Centring y_t within dyads matters:
with y_t entered whole, its correlation with the dyad's random intercept (a dyad that improves
fast has low later y_t) biased the model and a true b_w of 0 was rejected in 9.5% of 200
simulated data sets at 5% (6.5% with this model, the fixed-effects rate). c_w itself carries
the small-T bias of any lagged outcome within dyads (Nickell 1981): it is a control, not a
finding.

Inference: t tests with between-within degrees of freedom (SAS's DDFM=BETWITHIN): a term that
is constant within every dyad (the intercept, xbar_i) is tested on G - k_between df for G
dyads, a term that varies within dyads on N - G - k_within. With few dyads the Wald z of
MixedLM would be too liberal for the between effect (as for the headline,
ratings._stats_nested). No verdict is drawn: estimate, SE, t, df, p and the 95% CI.

``truth_bias`` is West & Kenny's (2011) truth-and-bias model as used for alliance ratings by
Atzil-Slonim et al. (2015) and Rubel et al. (2018): the therapist's rating is the judgement,
the client's the truth, both centred on the client's grand mean M. Judgement - M = b0 +
b1 (C_ti - Cbar_i) + b2 (Cbar_i - M) + u0_i + u1_i (C_ti - Cbar_i) + e: b0 is the directional
bias (the therapist's mean level relative to the client's), b1 the within-dyad truth force
(temporal congruence: does the therapist's session-to-session rating follow the client's?), b2
the between-dyad truth force, and the SD of u1 how much dyads differ in congruence.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._stats_common import (
    CI_LEVEL,
    Json,
    Reasons,
    Unsupported,
    attempt,
    num,
    require,
)

MIN_DYADS = 5  # as the headline: fewer dyads cannot carry a between-dyad estimate
FEW_DYADS = 20  # below this, say that the between-dyad estimate rests on few dyad means
MIN_TRUTH_BIAS_SESSIONS = 4  # sessions a dyad needs for its own congruence slope
#: without the multilevel models (a quick summary), larger data skip these fits
QUICK_MAX_PAIRS = 5000
DISCREPANCY = "client_score - therapist_score"
PERSPECTIVES = {"client": "client_score", "therapist": "therapist_score"}
LAG_RULE = (
    "outcome is measured before each session; the next outcome of session t is the "
    "outcome before session t + 1 of the same dyad (consecutive session numbers only); "
    "sessions without both outcomes are left out"
)
METHOD = (
    "linear mixed model (statsmodels MixedLM, REML), random intercept per dyad: "
    "next outcome ~ within + between + current outcome (within, between) + session "
    "number (within); within = the session's value minus the dyad's mean over its "
    "analysed sessions, between = that dyad mean minus the mean over all analysed "
    "sessions (person-mean centring); t tests with between-within df "
    "(terms constant within dyads: dyads - k_between; the others: pairs - dyads - "
    "k_within)"
)
TRUTH_BIAS_METHOD = (
    "truth-and-bias model (West & Kenny 2011; Rubel et al. 2018): therapist_score - M ~ "
    "(client_score - dyad mean) + (dyad mean - M), M = the client's grand mean, random "
    "intercept and random slope of the within term per dyad (statsmodels MixedLM, REML); "
    "directional_bias = intercept (negative: therapists rate lower than their clients), "
    "temporal_congruence = within-dyad truth force, between_congruence = between-dyad "
    f"truth force; dyads with at least {MIN_TRUTH_BIAS_SESSIONS} sessions; t tests with "
    "between-within df (a random slope is tested on dyads - 1)"
)


def outcome_block(frame: pd.DataFrame, *, max_pairs: int | None = None) -> Json:
    """The summary's ``outcome`` block (module docstring; docs/ratings.md, "Outcome").

    ``frame`` is a prepared pairs frame with an ``outcome`` column. Unsupported (null with
    the reason) without outcome values, below MIN_DYADS dyads with a lagged pair, or above
    ``max_pairs`` lagged pairs when given. ``within`` and ``between`` are the discrepancy's
    effects; ``by_perspective`` each rating's own model; ``truth_bias`` null with a reason
    when too few dyads have MIN_TRUTH_BIAS_SESSIONS sessions.
    """
    data, fit = within_relation(frame, max_pairs=max_pairs)
    n_dyads = int(data["dyad_id"].nunique())
    notes: Reasons = {}
    if fit.notes:
        notes["converged"] = fit.notes
    if n_dyads < FEW_DYADS:
        notes["between"] = (
            f"only {n_dyads} dyads: the between-dyad estimate rests on {n_dyads} dyad "
            "means and its interval is wide"
        )
    block: Json = {
        "method": METHOD,
        "lag": LAG_RULE,
        "predictor": DISCREPANCY,
        "n_dyads": n_dyads,
        "n_pairs": len(data),
        "n_sessions_without_lag": int(frame["outcome"].notna().sum()) - len(data),
        "within": fit.effects["within"],
        "between": fit.effects["between"],
        "controls": {
            name: fit.effects[name]
            for name in (
                "current_outcome_within",
                "current_outcome_between",
                "session_number_within",
            )
        },
        "variance_components": fit.variances,
        "converged": fit.converged,
        "by_perspective": _by_perspective(data, notes),
        "reasons": notes,
    }
    attempt(block, "truth_bias", None, lambda r: truth_bias(frame, r))
    return block


def within_relation(
    frame: pd.DataFrame, *, max_pairs: int | None = None
) -> tuple[pd.DataFrame, LaggedFit]:
    """The lagged pairs and the discrepancy's model, or Unsupported with the reason."""
    require("outcome" in frame, "no outcome column")
    require(frame["outcome"].notna().any(), "no session has an outcome value")
    data = lagged(frame)
    n_dyads = int(data["dyad_id"].nunique())
    require(
        n_dyads >= MIN_DYADS,
        f"needs at least {MIN_DYADS} dyads with an outcome before two consecutive "
        f"sessions (got {n_dyads})",
    )
    require(
        max_pairs is None or len(data) <= max_pairs,
        f"not fitted in a quick summary above {max_pairs} lagged pairs (got "
        f"{len(data)}); include the multilevel models (teletherapy analyze) for it",
    )
    return data, fit_lagged(data, data["client_score"] - data["therapist_score"])


def lagged(frame: pd.DataFrame) -> pd.DataFrame:
    """Sessions with the current and the next outcome (``outcome_next``), sorted by dyad."""
    columns = ["dyad_id", "session_number", *PERSPECTIVES.values(), "outcome"]
    data = frame[columns].assign(dyad_id=frame["dyad_id"].astype(str))
    data = data.sort_values(["dyad_id", "session_number"], kind="stable")
    following = data.groupby("dyad_id", sort=False)[["session_number", "outcome"]]
    nxt = following.shift(-1)
    consecutive = nxt["session_number"] == data["session_number"] + 1
    data["outcome_next"] = nxt["outcome"].where(consecutive)
    return data.dropna(subset=["outcome", "outcome_next"]).reset_index(drop=True)


@dataclass(frozen=True)
class LaggedFit:
    """One fitted lagged model: the effects as JSON, and what the figure needs."""

    effects: Json
    variances: Json
    converged: bool
    notes: str
    within: np.ndarray  # the centred predictor of each lagged pair
    partial: np.ndarray  # b_w * within + the conditional residual


def fit_lagged(data: pd.DataFrame, predictor: pd.Series) -> LaggedFit:
    """The lagged random-intercept model of ``predictor`` (module docstring)."""
    x = predictor.to_numpy(dtype=float)
    groups = pd.factorize(data["dyad_id"])[0]
    n_groups = int(groups.max()) + 1
    dyad_mean = _group_mean(x, groups, n_groups)
    within = x - dyad_mean
    require(bool(np.ptp(within) > 0), "the predictor does not vary within any dyad")
    require(bool(np.ptp(dyad_mean) > 0), "the predictor's dyad means are all equal")
    current = data["outcome"].to_numpy(dtype=float)
    current_mean = _group_mean(current, groups, n_groups)
    session = data["session_number"].to_numpy(dtype=float)
    exog = pd.DataFrame(
        {
            "intercept": 1.0,
            "within": within,
            "between": dyad_mean - x.mean(),
            "current_outcome_within": current - current_mean,
            "current_outcome_between": current_mean - current.mean(),
            "session_number_within": session - _group_mean(session, groups, n_groups),
        }
    )
    y = data["outcome_next"].to_numpy(dtype=float)
    result, notes = _mixedlm(y, exog, groups, None)
    df = _betwithin_df(exog, groups, n_groups)
    effects = {
        name: _t_effect(result, i, df[name])
        for i, name in enumerate(exog.columns)
        if name != "intercept"
    }
    fitted = np.asarray(result.fittedvalues, dtype=float)  # includes the dyad intercept
    slope = float(result.fe_params.iloc[1])
    return LaggedFit(
        effects=effects,
        variances={
            "dyad": num(np.asarray(result.cov_re)[0, 0]),
            "residual": num(result.scale),
        },
        converged=bool(result.converged),
        notes=notes,
        within=within,
        partial=slope * within + (y - fitted),
    )


def truth_bias(frame: pd.DataFrame, reasons: Reasons) -> Json:
    """West & Kenny's truth-and-bias model of the therapist's ratings (module docstring)."""
    data = frame[["dyad_id", *PERSPECTIVES.values()]].assign(
        dyad_id=frame["dyad_id"].astype(str)
    )
    sizes = data.groupby("dyad_id")["client_score"].transform("size")
    data = data[sizes >= MIN_TRUTH_BIAS_SESSIONS].reset_index(drop=True)
    groups = pd.factorize(data["dyad_id"])[0]
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    require(
        n_groups >= MIN_DYADS,
        f"needs at least {MIN_DYADS} dyads with {MIN_TRUTH_BIAS_SESSIONS} or more "
        f"sessions (got {n_groups})",
    )
    truth = data["client_score"].to_numpy(dtype=float)
    centre = float(truth.mean())
    dyad_mean = _group_mean(truth, groups, n_groups)
    exog = pd.DataFrame(
        {
            "directional_bias": 1.0,
            "temporal_congruence": truth - dyad_mean,
            "between_congruence": dyad_mean - centre,
        }
    )
    require(
        bool(np.ptp(exog["temporal_congruence"]) > 0),
        "the client's ratings do not vary within any dyad",
    )
    judgement = data["therapist_score"].to_numpy(dtype=float) - centre
    slopes = exog[["directional_bias", "temporal_congruence"]].to_numpy()
    random_slope = True
    try:
        result, notes = _mixedlm(judgement, exog, groups, slopes)
        if not result.converged:
            raise Unsupported("the optimizer did not converge")
    except Unsupported as exc:
        reasons["random_slope"] = (
            f"the random-slope model could not be used ({exc}); congruence is "
            "assumed equal in every dyad (random intercept only)"
        )
        random_slope = False
        result, notes = _mixedlm(judgement, exog, groups, None)
    if notes:
        reasons["converged"] = notes
    df = _betwithin_df(exog, groups, n_groups)
    if random_slope:
        df["temporal_congruence"] = n_groups - 1
    cov = np.asarray(result.cov_re, dtype=float)
    block: Json = {
        "method": TRUTH_BIAS_METHOD,
        "judgement": "therapist_score",
        "truth": "client_score",
        "centre": centre,
        "n_dyads": n_groups,
        "n_pairs": len(data),
        "random_slope": random_slope,
        "congruence_sd_between_dyads": (
            num(np.sqrt(max(cov[1, 1], 0.0))) if random_slope else None
        ),
        "converged": bool(result.converged),
    }
    if not random_slope:
        reasons["congruence_sd_between_dyads"] = "no random slope in the fitted model"
    for i, name in enumerate(exog.columns):
        block[name] = _t_effect(result, i, df[name])
    return block


def _by_perspective(data: pd.DataFrame, reasons: Reasons) -> Json:
    out: Json = {}
    for name, column in PERSPECTIVES.items():
        scratch: Json = {"reasons": {}}

        def compute(_: Reasons, column: str = column) -> Json:
            fit = fit_lagged(data, data[column])
            return {"within": fit.effects["within"], "between": fit.effects["between"]}

        attempt(scratch, name, {"within": None, "between": None}, compute)
        out[name] = scratch[name]
        for key, why in scratch["reasons"].items():
            reasons[f"by_perspective.{key}"] = why
    return out


def _mixedlm(
    y: np.ndarray, exog: pd.DataFrame, groups: np.ndarray, exog_re: np.ndarray | None
) -> tuple[Any, str]:
    """REML fit; Unsupported when it cannot be fitted; warnings returned as one note."""
    import statsmodels.api as sm

    require(
        np.linalg.matrix_rank(exog.to_numpy()) == exog.shape[1],
        "the model's terms are collinear (e.g. a constant outcome or session number)",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = sm.MixedLM(y, exog, groups=groups, exog_re=exog_re)
            # Powell first: on these small models statsmodels' default (BFGS, then
            # L-BFGS, then CG) often stops near a zero dyad variance without converging
            result = model.fit(reml=True, method=["powell", "lbfgs"])
            # cached properties: their own warnings (a singular covariance) are caught here
            _ = result.bse_fe, result.fittedvalues
        except (np.linalg.LinAlgError, ValueError) as exc:
            raise Unsupported(f"the model could not be fitted ({exc})") from exc
    messages = sorted(
        {
            str(w.message)
            for w in caught
            if not issubclass(w.category, DeprecationWarning)
        }
    )
    if not result.converged:
        messages.append("the optimizer did not converge")
    return result, "; ".join(messages)


def _betwithin_df(
    exog: pd.DataFrame, groups: np.ndarray, n_groups: int
) -> dict[str, int]:
    """SAS DDFM=BETWITHIN: G - k_between for dyad-level terms, N - G - k_within else."""
    level = {
        name: bool(np.all(exog[name].groupby(groups).nunique() <= 1))
        for name in exog.columns
    }
    k_between = sum(level.values())
    k_within = len(level) - k_between
    between_df = n_groups - k_between
    within_df = len(exog) - n_groups - k_within
    return {
        name: between_df if constant else within_df for name, constant in level.items()
    }


def _t_effect(result: Any, index: int, df: int) -> Json:
    estimate = float(result.fe_params.iloc[index])
    se = float(result.bse_fe.iloc[index])
    if df < 1:
        raise Unsupported(f"no degrees of freedom left for the test (df = {df})")
    t = estimate / se if se > 0 else float("nan")
    half = float(stats.t.ppf(0.5 + CI_LEVEL / 2, df)) * se
    return {
        "estimate": num(estimate),
        "se": num(se),
        "t": num(t),
        "df": int(df),
        "p": num(2 * stats.t.sf(abs(t), df)),
        "ci95": [num(estimate - half), num(estimate + half)],
    }


def _group_mean(x: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    sums = np.bincount(groups, weights=x, minlength=n_groups)
    counts = np.bincount(groups, minlength=n_groups)
    return np.asarray((sums / counts)[groups], dtype=float)
