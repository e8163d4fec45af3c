"""Model-based blocks: multilevel models of the discrepancy and the response surface (statsmodels).

statsmodels is imported inside the functions: it is slow to import and only analysis needs it.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ._stats_common import Json, Reasons, Unsupported, attempt, num, pair, require

MIN_THERAPISTS = 5
MIN_SURFACE_PAIRS = 12  # six coefficients, at least two observations each
MIN_CLUSTERS = 10  # fewer clusters make cluster-robust SEs unreliable


def multilevel(frame: pd.DataFrame) -> Json:
    """Linear mixed models of the discrepancy (client - therapist), fitted by REML.

    difference ~ session_number [+ C(modality)] with a random intercept per dyad, and, when at
    least 5 therapists are known, a random intercept per therapist with dyads as a variance
    component nested in therapists (sessions in dyads in therapists). statsmodels MixedLM; p
    values are Wald z tests. Convergence problems are reported, never hidden.
    """
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
        "reference_modality": reference,
    }
    if reference is None:
        block["reasons"] = {
            "reference_modality": "modality absent or with a single level"
        }
    attempt(block, "dyad_model", None, lambda r: _fit(data, formula, "dyad_id", r))
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
            lambda r: _fit(known, formula, "therapist_id", r),
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


def _fit(data: pd.DataFrame, formula: str, groups: str, reasons: Reasons) -> Json:
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
        "fixed_effects": _fixed_effects(result),
        "variance_components": _variances(result, groups, nested),
        "warnings": messages,
    }


def _fixed_effects(result: Any) -> Json:
    ci = result.conf_int()
    return {
        _pretty(name): {
            "coef": num(result.fe_params[name]),
            "se": num(result.bse_fe[name]),
            "z": num(result.tvalues[name]),
            "p": num(result.pvalues[name]),
            "ci95": pair(ci.loc[name]),
        }
        for name in result.fe_params.index
    }


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
    rate several sessions (statsmodels OLS; a_k by t_test on linear contrasts).
    """
    import statsmodels.api as sm

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
    model = sm.OLS(data["outcome"].to_numpy(dtype=float), design)
    if n_dyads < n and n_dyads >= MIN_CLUSTERS:
        codes = pd.factorize(data["dyad_id"])[0]
        result = model.fit(cov_type="cluster", cov_kwds={"groups": codes})
        se_kind = "cluster-robust by dyad"
    else:
        result = model.fit()
        se_kind = "OLS (independent pairs)"
        if n_dyads < n:
            reasons["se_kind"] = (
                f"only {n_dyads} dyads for repeated sessions: SEs treat pairs as independent"
            )
    return {
        "n": n,
        "n_dyads": int(n_dyads),
        "centre": centre,
        "centre_kind": "scale midpoint" if scale_midpoint is not None else "grand mean",
        "se_kind": se_kind,
        "r_squared": num(result.rsquared),
        "coefficients": _terms(result, ["b0", "b1", "b2", "b3", "b4", "b5"]),
        "surface": _surface(result),
    }


SURFACE_CONTRASTS = {
    "a1": [0, 1, 1, 0, 0, 0],
    "a2": [0, 0, 0, 1, 1, 1],
    "a3": [0, 1, -1, 0, 0, 0],
    "a4": [0, 0, 0, 1, -1, 1],
}


def _terms(result: Any, names: list[str]) -> Json:
    ci = np.asarray(result.conf_int())
    return {
        name: {
            "estimate": num(result.params[i]),
            "se": num(result.bse[i]),
            "p": num(result.pvalues[i]),
            "ci95": pair(ci[i]),
        }
        for i, name in enumerate(names)
    }


def _surface(result: Any) -> Json:
    test = result.t_test(np.array(list(SURFACE_CONTRASTS.values()), dtype=float))
    ci = np.asarray(test.conf_int())
    effect, se, p = (np.ravel(v) for v in (test.effect, test.sd, test.pvalue))
    return {
        name: {
            "estimate": num(effect[i]),
            "se": num(se[i]),
            "p": num(p[i]),
            "ci95": pair(ci[i]),
        }
        for i, name in enumerate(SURFACE_CONTRASTS)
    }
