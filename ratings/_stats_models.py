"""Model-based blocks: multilevel models of the discrepancy (statsmodels) and the response surface.

statsmodels is imported inside the multilevel functions: it is slow to import (about 0.5 s)
and only the models need it; the response surface's OLS is numpy (same numbers).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._stats_common import Json, Reasons, Unsupported, attempt, num, pair, require

MIN_THERAPISTS = 5
MIN_SURFACE_PAIRS = 12  # six coefficients, at least two observations each
MIN_CLUSTERS = 10  # fewer clusters make cluster-robust SEs unreliable


def multilevel(frame: pd.DataFrame) -> Json:
    """Linear mixed models of the discrepancy (client - therapist), fitted by REML.

    difference ~ session_number [+ C(modality)] with a random intercept per dyad, and, when at
    least 5 therapists are known, a random intercept per therapist with dyads as a variance
    component nested in therapists (sessions in dyads in therapists). session_number is
    centred at its mean S over the data, so the intercept is the gap at the average session
    (for the reference modality), not at a "session 0" nobody attended. statsmodels MixedLM;
    p values are Wald z tests. Convergence problems are reported, never hidden.

    The fit itself uses session_number as given and the intercept is re-expressed at S from the
    fitted coefficients and their covariance (b0 + S b1; Var = V00 + 2 S V01 + S^2 V11). REML
    is invariant to such a reparametrisation of the fixed effects, so this is the centred
    model's intercept; fitted on centred data, statsmodels' optimizer took 2.5 times as long
    on the therapist model of 100,000 pairs (56 s against 20 s).
    """
    centre = float(frame["session_number"].mean()) if len(frame) else 0.0
    data = frame.assign(dyad_id=frame["dyad_id"].astype(str))
    require(data["dyad_id"].nunique() >= 3, "needs at least 3 dyads")
    require(
        len(data) > data["dyad_id"].nunique(), "needs at least 2 sessions in some dyad"
    )
    formula, reference = _formula(data)
    block: Json = {
        "formula": formula,
        "difference": "client_score - therapist_score",
        "estimation": "REML; Wald z tests",
        "session_centring": f"session_number centred at its mean, S = {centre:.4g}",
        "session_centre": centre,
        "reference_modality": reference,
    }
    if reference is None:
        block["reasons"] = {
            "reference_modality": "modality absent or with a single level"
        }
    attempt(
        block, "dyad_model", None, lambda r: _fit(data, formula, "dyad_id", r, centre)
    )
    therapists = (
        data["therapist_id"].dropna() if "therapist_id" in data else pd.Series()
    )
    if therapists.nunique() >= MIN_THERAPISTS:
        known = data[data["therapist_id"].notna()]
        known = known.assign(therapist_id=known["therapist_id"].astype(str))
        attempt(
            block,
            "therapist_model",
            None,
            lambda r: _fit(known, formula, "therapist_id", r, centre),
        )
    else:
        block["therapist_model"] = None
        block["reasons"]["therapist_model"] = (
            f"needs at least {MIN_THERAPISTS} therapists (got {therapists.nunique()})"
        )
    return block


def _formula(data: pd.DataFrame) -> tuple[str, str | None]:
    if "modality" in data and data["modality"].dropna().nunique() >= 2:
        reference = str(sorted(data["modality"].dropna().astype(str).unique())[0])
        return "difference ~ session_number + C(modality)", reference
    return "difference ~ session_number", None


def _fit(
    data: pd.DataFrame, formula: str, groups: str, reasons: Reasons, centre: float
) -> Json:
    import statsmodels.formula.api as smf

    nested = groups == "therapist_id"
    frame = data.dropna(subset=["modality"]) if "C(modality)" in formula else data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = smf.mixedlm(
                formula,
                frame,
                groups=frame[groups],
                re_formula="1",
                vc_formula={"dyad_id": "0 + C(dyad_id)"} if nested else None,
            )
            result = model.fit(reml=True)
        except (np.linalg.LinAlgError, ValueError) as exc:
            raise Unsupported(f"the model could not be fitted ({exc})") from exc
    messages = sorted(
        {
            str(w.message)
            for w in caught
            if not issubclass(w.category, DeprecationWarning)
        }
    )
    if messages or not result.converged:
        reasons["converged"] = "; ".join(messages) or "the optimizer did not converge"
    return {
        "groups": groups,
        "n_obs": int(result.nobs),
        "n_groups": len(model.group_labels),
        "converged": bool(result.converged),
        "fixed_effects": _fixed_effects(result, centre),
        "variance_components": _variances(result, groups, nested),
        "warnings": messages,
    }


def _fixed_effects(result: Any, centre: float) -> Json:
    ci = result.conf_int()
    effects = {
        _pretty(name): {
            "coef": num(result.fe_params[name]),
            "se": num(result.bse_fe[name]),
            "z": num(result.tvalues[name]),
            "p": num(result.pvalues[name]),
            "ci95": pair(ci.loc[name]),
        }
        for name in result.fe_params.index
    }
    names = ["Intercept", "session_number"]
    b0, b1 = (float(result.fe_params[n]) for n in names)
    cov = np.asarray(result.cov_params().loc[names, names], dtype=float)
    coef = b0 + centre * b1
    se = float(np.sqrt(cov[0, 0] + 2 * centre * cov[0, 1] + centre**2 * cov[1, 1]))
    z = coef / se
    critical = float(stats.norm.ppf(0.975))
    effects["Intercept"] = {
        "coef": num(coef),
        "se": num(se),
        "z": num(z),
        "p": num(2 * stats.norm.sf(abs(z))),
        "ci95": pair((coef - critical * se, coef + critical * se)),
    }
    return effects


def _pretty(name: str) -> str:
    """'C(modality)[T.video]' -> 'modality[video]'."""
    return re.sub(r"C\((\w+)\)\[T\.(.*)\]", r"\1[\2]", str(name))


def _variances(result: Any, groups: str, nested: bool) -> Json:
    variances = {groups: num(np.asarray(result.cov_re)[0, 0])}
    if nested:
        variances["dyad_id"] = num(result.vcomp[0])
    variances["residual"] = num(result.scale)
    return variances


def response_surface(
    frame: pd.DataFrame, reasons: Reasons, scale_midpoint: float | None = None
) -> Json:
    """Polynomial regression and response-surface analysis of an outcome on C and T.

    Z = b0 + b1 C + b2 T + b3 C^2 + b4 C T + b5 T^2 (Edwards & Parry 1993); surface tests
    a1 = b1 + b2, a2 = b3 + b4 + b5 (line of agreement C = T), a3 = b1 - b2,
    a4 = b3 - b4 + b5 (line of disagreement C = -T) (Shanock et al. 2010). Both predictors are
    centred on one common value: the scale midpoint when given (Shanock et al. 2010), else the
    grand mean of all client and therapist scores. SEs are cluster-robust by dyad when dyads
    rate several sessions. The numbers are statsmodels' (OLS; cluster-robust with its CR1
    correction and normal p values and CIs, else t on n - 6 df; a_k as t_test of linear
    contrasts), computed here with numpy so that a summary without the multilevel models
    need not import statsmodels (tests/ratings/test_analysis_models.py compares the two).
    """
    data = frame[["client_score", "therapist_score", "outcome", "dyad_id"]].dropna()
    n = len(data)
    require(
        n >= MIN_SURFACE_PAIRS,
        f"needs at least {MIN_SURFACE_PAIRS} pairs with an outcome",
    )
    pooled = np.r_[data["client_score"], data["therapist_score"]]
    centre = float(np.mean(pooled)) if scale_midpoint is None else float(scale_midpoint)
    c = data["client_score"].to_numpy(dtype=float) - centre
    t = data["therapist_score"].to_numpy(dtype=float) - centre
    design = np.column_stack([np.ones(n), c, t, c**2, c * t, t**2])
    require(
        np.linalg.matrix_rank(design) == 6,
        "the polynomial terms are collinear (too few distinct client/therapist combinations)",
    )
    n_dyads = data["dyad_id"].nunique()
    codes: np.ndarray | None = None
    if n_dyads < n and n_dyads >= MIN_CLUSTERS:
        codes = pd.factorize(data["dyad_id"])[0]
        se_kind = "cluster-robust by dyad"
    else:
        se_kind = "OLS (independent pairs)"
        if n_dyads < n:
            reasons["se_kind"] = (
                f"only {n_dyads} dyads for repeated sessions: SEs treat pairs as independent"
            )
    fit = _Ols(data["outcome"].to_numpy(dtype=float), design, codes)
    names = ["b0", "b1", "b2", "b3", "b4", "b5"]
    contrasts = np.array(list(SURFACE_CONTRASTS.values()), dtype=float)
    return {
        "n": n,
        "n_dyads": int(n_dyads),
        "centre": centre,
        "centre_kind": "scale midpoint" if scale_midpoint is not None else "grand mean",
        "se_kind": se_kind,
        "r_squared": num(fit.rsquared),
        "coefficients": fit.tests(np.eye(6), names),
        "surface": fit.tests(contrasts, list(SURFACE_CONTRASTS)),
    }


SURFACE_CONTRASTS = {
    "a1": [0, 1, 1, 0, 0, 0],
    "a2": [0, 0, 0, 1, 1, 1],
    "a3": [0, 1, -1, 0, 0, 0],
    "a4": [0, 0, 0, 1, -1, 1],
}


class _Ols:
    """OLS as statsmodels fits it: classical SEs with t(n - k), or cluster-robust (CR1:
    G/(G-1) * (n-1)/(n-k)) with normal p values and CIs (statsmodels' default for
    cov_type="cluster")."""

    def __init__(
        self, y: np.ndarray, x: np.ndarray, clusters: np.ndarray | None
    ) -> None:
        n, k = x.shape
        bread = np.linalg.pinv(x.T @ x)
        self.params = np.linalg.lstsq(x, y, rcond=None)[0]
        resid = y - x @ self.params
        self.rsquared = 1 - resid @ resid / np.sum((y - y.mean()) ** 2)
        if clusters is None:
            self.cov = bread * (resid @ resid / (n - k))
            self.df: int | None = n - k
        else:
            g = int(clusters.max()) + 1
            scores = np.column_stack(
                [
                    np.bincount(clusters, weights=x[:, j] * resid, minlength=g)
                    for j in range(k)
                ]
            )
            correction = g / (g - 1) * (n - 1) / (n - k)
            self.cov = bread @ (scores.T @ scores) @ bread * correction
            self.df = None

    def tests(self, contrasts: np.ndarray, names: list[str]) -> Json:
        """Estimate, SE, p and 95% CI of each row of ``contrasts`` times the coefficients."""
        effect = contrasts @ self.params
        se = np.sqrt(np.einsum("ij,jk,ik->i", contrasts, self.cov, contrasts))
        z = effect / se
        if self.df is None:
            p, crit = 2 * stats.norm.sf(np.abs(z)), stats.norm.ppf(0.975)
        else:
            p, crit = 2 * stats.t.sf(np.abs(z), self.df), stats.t.ppf(0.975, self.df)
        return {
            name: {
                "estimate": num(effect[i]),
                "se": num(se[i]),
                "p": num(p[i]),
                "ci95": pair((effect[i] - crit * se[i], effect[i] + crit * se[i])),
            }
            for i, name in enumerate(names)
        }
