"""The headline: the mean client - therapist difference with sessions nested in dyads respected.

Sessions of one dyad are not independent: a paired t over sessions treats 6 dyads x 10
sessions as 60 independent pairs and, when dyads differ in their typical gap, rejects a true
gap of zero far more often than its nominal 5 % (docs/research.md, "Level: how far apart and
which way"). The headline counts clusters instead of sessions. Choice rule (``RULE``, reported
in the block):

* clusters are therapists when every pair names its therapist and there are at least
  ``MIN_THERAPISTS`` of them (dyads are nested in therapists), else dyads;
* fewer than ``MIN_DYADS`` dyads: no headline (null with the reason);
* fewer than ``FEW_CLUSTERS`` clusters and at most ``MODEL_MAX_PAIRS`` pairs: a random-intercept
  model (statsmodels MixedLM, REML) ``difference ~ 1 + (session_number - S)`` with S the mean
  session number of the data, so the intercept is the average gap, not the gap at a
  "session 0"; a random intercept per dyad, or per therapist with dyads as a variance component
  nested in therapists. The intercept is tested with t on (clusters - 1) df, not the Wald z of
  the multilevel block, which is too liberal with few clusters;
* otherwise (or when the model cannot be fitted): the mean of all session differences with a
  cluster-robust (CR1) standard error and t on (clusters - 1) df. With equal numbers of
  sessions per cluster this is exactly the one-sample t-test on the cluster means.

Everything but the model route is plain numpy: 100,000 pairs take milliseconds.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._stats_common import CI_LEVEL, Json, Reasons, Unsupported, num, require

MIN_DYADS = 5
MIN_THERAPISTS = 5
FEW_CLUSTERS = 20
MODEL_MAX_PAIRS = 5000
RULE = (
    f"clusters are therapists when every pair names its therapist and there are >= "
    f"{MIN_THERAPISTS}, else dyads; below {FEW_CLUSTERS} clusters (and up to "
    f"{MODEL_MAX_PAIRS} pairs) a random-intercept model (REML, session number centred at "
    f"its mean), otherwise the mean difference with a cluster-robust (CR1) SE; both tested "
    f"with t on (clusters - 1) df; fewer than {MIN_DYADS} dyads: no headline"
)


def headline(frame: pd.DataFrame, reasons: Reasons) -> Json:
    """The headline block (docs/research.md, "Level"); Unsupported below 5 dyads.

    ``frame`` needs dyad_id, session_number, client_score and therapist_score (no missing
    values: ``ratings.analysis.prepare`` has dropped such rows) and may hold therapist_id.
    Notes on the fit (a model that could not be fitted, boundary warnings) go to ``reasons``
    under "method".
    """
    diff = (frame["client_score"] - frame["therapist_score"]).to_numpy(dtype=float)
    dyads = pd.factorize(frame["dyad_id"])[0]
    n_dyads = int(dyads.max()) + 1 if len(dyads) else 0
    require(
        n_dyads >= MIN_DYADS,
        f"needs at least {MIN_DYADS} dyads: with fewer, no estimate can respect the "
        f"nesting of sessions in dyads (got {n_dyads}); the session-level statistics "
        "below are descriptive only",
    )
    require(bool(np.ptp(diff) > 0), "all differences are equal (no variance to test)")
    therapists = _therapists(frame)
    n_therapists = None if therapists is None else int(therapists.nunique())
    if therapists is None:
        reasons["n_therapists"] = "no therapist_id given"
    by_therapist = (
        therapists is not None
        and therapists.notna().all()
        and n_therapists is not None
        and n_therapists >= MIN_THERAPISTS
    )
    level = "therapist" if by_therapist else "dyad"
    clusters = (
        pd.factorize(therapists)[0]
        if by_therapist and therapists is not None
        else dyads
    )
    n_clusters = int(clusters.max()) + 1
    block: Json = {
        "n_dyads": n_dyads,
        "n_pairs": len(diff),
        "n_therapists": n_therapists,
        "ci_level": CI_LEVEL,
        "cluster": level,
        "n_clusters": n_clusters,
        "rule": RULE,
    }
    fit: tuple[float, float, str] | None = None
    if n_clusters < FEW_CLUSTERS and len(diff) <= MODEL_MAX_PAIRS:
        try:
            fit = _model(frame, diff, dyads, clusters, by_therapist, reasons)
        except Unsupported as exc:
            reasons["method"] = f"{exc}; the cluster-robust mean is reported instead"
    elif n_clusters < FEW_CLUSTERS:
        reasons["method"] = (
            f"only {n_clusters} {level}s, but more than {MODEL_MAX_PAIRS} pairs: the "
            "cluster-robust mean is used (the model would be slow); with few clusters "
            "its SE is itself uncertain"
        )
    if fit is None:
        fit = _cluster_robust(diff, clusters, level)
    estimate, se, method = fit
    df = n_clusters - 1
    block.update(_t_inference(estimate, se, df), method=method, df=df)
    return block


def _therapists(frame: pd.DataFrame) -> pd.Series | None:
    if "therapist_id" not in frame or frame["therapist_id"].isna().all():
        return None
    return frame["therapist_id"].astype(object).where(frame["therapist_id"].notna())


def _t_inference(estimate: float, se: float, df: int) -> Json:
    t = estimate / se if se > 0 else float("nan")
    critical = float(stats.t.ppf(0.5 + CI_LEVEL / 2, df))
    return {
        "estimate": num(estimate),
        "se": num(se),
        "t": num(t),
        "p": num(2 * stats.t.sf(abs(t), df)),
        "ci95": [num(estimate - critical * se), num(estimate + critical * se)],
    }


def _cluster_robust(
    diff: np.ndarray, clusters: np.ndarray, level: str
) -> tuple[float, float, str]:
    """Mean of all differences; SE^2 = G/(G-1) sum_g (sum of residuals in g)^2 / N^2 (CR1)."""
    n = len(diff)
    g = int(clusters.max()) + 1
    estimate = float(diff.mean())
    sums = np.bincount(clusters, weights=diff - estimate, minlength=g)
    se = float(np.sqrt(g / (g - 1) * np.sum(sums**2)) / n)
    method = (
        f"mean of all session differences with a {level}-cluster-robust (CR1) SE, "
        f"t on {g - 1} df ({level}s - 1)"
    )
    return estimate, se, method


def _model(
    frame: pd.DataFrame,
    diff: np.ndarray,
    dyads: np.ndarray,
    clusters: np.ndarray,
    by_therapist: bool,
    reasons: Reasons,
) -> tuple[float, float, str]:
    import statsmodels.api as sm

    session = frame["session_number"].to_numpy(dtype=float)
    centre = float(session.mean())
    exog = np.column_stack([np.ones(len(diff)), session - centre])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if by_therapist:
                model = sm.MixedLM(
                    diff,
                    exog,
                    groups=clusters,
                    # the random intercept is not implied once exog_vc is given
                    exog_re=np.ones((len(diff), 1)),
                    exog_vc=_dyad_components(dyads, clusters),
                )
            else:
                model = sm.MixedLM(diff, exog, groups=dyads)
            result = model.fit(reml=True)
        except (np.linalg.LinAlgError, ValueError) as exc:
            raise Unsupported(
                f"the random-intercept model could not be fitted ({exc})"
            ) from exc
    if not result.converged:
        raise Unsupported("the random-intercept model did not converge")
    messages = sorted(
        {
            str(w.message)
            for w in caught
            if not issubclass(w.category, DeprecationWarning)
        }
    )
    if messages:
        reasons["method"] = "model fitted with warnings: " + "; ".join(messages)
    level = "therapist, with dyads nested in therapists" if by_therapist else "dyad"
    g = int(clusters.max()) + 1
    method = (
        f"random-intercept model (statsmodels MixedLM, REML): difference ~ 1 + "
        f"(session_number - S), session_number centred at its mean, S = {centre:.4g}; "
        f"random intercept per {level}; intercept tested with t on {g - 1} df "
        f"({'therapists' if by_therapist else 'dyads'} - 1)"
    )
    return float(result.fe_params[0]), float(result.bse_fe[0]), method


def _dyad_components(dyads: np.ndarray, clusters: np.ndarray) -> Any:
    """One variance component for dyads within therapists (MixedLM's exog_vc layout)."""
    from statsmodels.regression.mixed_linear_model import VCSpec

    names, colnames, mats = [], [], []
    for g in range(int(clusters.max()) + 1):
        inside = dyads[clusters == g]
        levels = np.unique(inside)
        mats.append((inside[:, None] == levels[None, :]).astype(float))
        colnames.append([f"dyad{d}" for d in levels])
    names.append("dyad_id")
    return VCSpec(names, [colnames], [mats])
