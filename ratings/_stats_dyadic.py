"""Dyad-level extras: rupture flags, meta-perception accuracy, technical quality vs discrepancy."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
from scipy import stats

from ._stats_common import (
    CI_LEVEL,
    Json,
    Reasons,
    attempt,
    nulls,
    num,
    pair,
    records,
    require,
    require_pairs,
)

RUPTURE_MIN_SESSIONS = 3
RUPTURE_RULES = {1.0: "Strauss et al. 2006", 2.0: "Stiles et al. 2004"}
PERSPECTIVES = {"client": "client_score", "therapist": "therapist_score"}
PREDICTIONS = {
    "therapist_predicts_client": ("therapist_meta", "client_score"),
    "client_predicts_therapist": ("client_meta", "therapist_score"),
}
QUALITY_COLUMNS = ("rtt_ms", "packet_loss_pct")


def ruptures(frame: pd.DataFrame, reasons: Reasons, threshold_sd: float = 1.0) -> Json:
    """Flag sessions whose score dropped by >= threshold_sd SDs of the dyad's own series.

    Per dyad and perspective: drop = previous session's score - this session's score, flagged
    when drop >= threshold_sd * SD of that perspective's scores over all the dyad's sessions
    (Strauss et al. 2006 used 1 SD; Stiles et al. 2004 used 2 SD). Dyads with fewer than 3
    sessions are not evaluated (with two sessions any change is >= 1 SD).
    """
    data = frame.sort_values(["dyad_id", "session_number"])
    sizes = data.groupby("dyad_id", sort=False, observed=True)[
        "session_number"
    ].transform("size")
    data = data[sizes >= RUPTURE_MIN_SESSIONS]
    evaluated = int(data["dyad_id"].nunique())
    require(
        evaluated > 0, f"needs at least {RUPTURE_MIN_SESSIONS} sessions in some dyad"
    )
    flagged = {
        p: _flag(data, column, threshold_sd) for p, column in PERSPECTIVES.items()
    }
    events = pd.concat(
        [f.assign(perspective=p) for p, f in flagged.items()], ignore_index=True
    ).sort_values(["dyad_id", "session_number", "perspective"])
    both = flagged["client"].merge(
        flagged["therapist"], on=["dyad_id", "session_number"]
    )
    name = RUPTURE_RULES.get(float(threshold_sd), "custom threshold")
    return {
        "rule": "drop from the previous session >= threshold_sd x SD of the dyad's own series",
        "threshold_name": f"{name} ({threshold_sd:g} SD)",
        "threshold_sd": float(threshold_sd),
        "min_sessions": RUPTURE_MIN_SESSIONS,
        "n_dyads_evaluated": evaluated,
        "n_dyads_not_evaluated": int(frame["dyad_id"].nunique()) - evaluated,
        **{p: _counts(f, evaluated) for p, f in flagged.items()},
        "n_sessions_flagged_by_both": len(both),
        "events": records(events),
    }


def _flag(data: pd.DataFrame, column: str, threshold_sd: float) -> pd.DataFrame:
    groups = data.groupby("dyad_id", sort=False, observed=True)[column]
    previous = groups.shift(1)
    spread = groups.transform("std")
    drop = previous - data[column]
    hit = previous.notna() & (spread > 0) & (drop >= threshold_sd * spread - 1e-9)
    return pd.DataFrame(
        {
            "dyad_id": data["dyad_id"][hit].astype(str),
            "session_number": data["session_number"][hit].astype(int),
            "previous_score": previous[hit],
            "score": data[column][hit],
            "drop": drop[hit],
            "dyad_sd": spread[hit],
            "drop_in_sd": (drop / spread)[hit],
        }
    )


def _counts(events: pd.DataFrame, evaluated: int) -> Json:
    dyads = events["dyad_id"].nunique()
    return {
        "n_events": len(events),
        "n_dyads_with_rupture": int(dyads),
        "proportion_dyads": dyads / evaluated,
    }


def meta_perception(frame: pd.DataFrame) -> Json:
    """Accuracy of each side's prediction of the other's rating (meta-perception).

    therapist_meta is the therapist's prediction of the client's score, client_meta the client's
    prediction of the therapist's. Per direction: Pearson r of prediction and actual (tracking
    accuracy) and mean bias = prediction - actual with a t-based 95% CI (directional bias), in
    the spirit of the truth-and-bias model (West & Kenny 2011); pairs are treated as independent.
    """
    present = [col for col, _ in PREDICTIONS.values() if col in frame]
    require(bool(present), "no prediction columns (client_meta, therapist_meta)")
    block: Json = {"reasons": {}}
    for key, (predicted, actual) in PREDICTIONS.items():
        if predicted not in frame:
            block[key] = None
            block["reasons"][key] = f"no {predicted} column"
            continue
        attempt(block, key, None, partial(_accuracy, frame, predicted, actual))
    return block


def _accuracy(frame: pd.DataFrame, predicted: str, actual: str, _: Reasons) -> Json:
    data = frame[[predicted, actual]].dropna()
    require_pairs(len(data))
    guess = data[predicted].to_numpy(dtype=float)
    truth = data[actual].to_numpy(dtype=float)
    bias = guess - truth
    out: Json = {
        "n": len(data),
        "predicted": predicted,
        "actual": actual,
        "reasons": {},
    }
    if np.ptp(guess) > 0 and np.ptp(truth) > 0:
        result = stats.pearsonr(guess, truth)
        out["r"], out["r_p"] = num(result.statistic), num(result.pvalue)
    else:
        out["r"] = out["r_p"] = None
        out["reasons"]["r"] = out["reasons"]["r_p"] = (
            "predictions or actual scores do not vary"
        )
    out["mean_bias"] = num(np.mean(bias))
    if np.ptp(bias) > 0:
        out["bias_ci95"] = pair(
            stats.ttest_1samp(bias, 0).confidence_interval(CI_LEVEL)
        )
    else:
        out["bias_ci95"] = None
        out["reasons"]["bias_ci95"] = "all prediction errors are equal"
    return out


def quality(frame: pd.DataFrame) -> Json:
    """Spearman correlations of the discrepancy with connection quality (rtt_ms,
    packet_loss_pct): does |client - therapist| or the signed difference grow with bad
    connections? Session pairs are treated as independent."""
    require(
        any(col in frame for col in QUALITY_COLUMNS),
        "no technical quality columns (rtt_ms, packet_loss_pct)",
    )
    diff = frame["client_score"] - frame["therapist_score"]
    block: Json = {"reasons": {}}
    for col in QUALITY_COLUMNS:
        if col not in frame:
            block[col] = None
            block["reasons"][col] = f"no {col} column"
            continue
        sub: Json = {"reasons": {}}
        for name, values in (("abs_difference", diff.abs()), ("difference", diff)):
            attempt(
                sub, name, nulls("rho", "p", "n"), partial(_rho, values, frame[col])
            )
        block[col] = sub
    return block


def _rho(x: pd.Series, y: pd.Series, _: Reasons) -> Json:
    data = pd.DataFrame({"x": x, "y": y}).dropna()
    require_pairs(len(data))
    require(
        np.ptp(data["x"]) > 0 and np.ptp(data["y"]) > 0, "one of the two does not vary"
    )
    result = stats.spearmanr(data["x"], data["y"])
    return {"rho": num(result.statistic), "p": num(result.pvalue), "n": len(data)}
