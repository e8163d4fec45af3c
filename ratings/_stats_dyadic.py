"""Dyad-level extras: rupture-repair episodes, meta-perception, technical quality vs discrepancy."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
from scipy import stats

from ._stats_agreement import rm_corr
from ._stats_common import (
    CI_LEVEL,
    Json,
    Plain,
    Reasons,
    Unsupported,
    attempt,
    nulls,
    num,
    pair,
    require,
    require_pairs,
)

#: Rupture rule defaults (docs/research.md#ruptures-and-repairs). k = 3 keeps the share of
#: dyads flagged on stationary Gaussian series of 10 sessions at 4.0% per perspective (5% at
#: k = 2.9).
RUPTURE_SD = 3.0
#: the preceding level is the mean of up to this many preceding sessions ...
BASELINE_SESSIONS = 3
#: ... and at least this many: the first two sessions of a dyad are never a rupture
MIN_BASELINE_SESSIONS = 2
#: a repair is a return to the preceding level within this many following rated sessions
REPAIR_WINDOW = 3
#: the default minimum drop is this many SDs of all the perspective's scores in the sample
#: (half an SD: Norman, Sloan & Wyrwich 2003) and at least MIN_DROP_STEPS scale steps (a drop
#: by one step, the smallest difference between two observed scores, is never a rupture);
#: min_drop_for_range gives a range-based one
MIN_DROP_SD_OF_SCORES = 0.5
MIN_DROP_STEPS = 2
#: the range-based minimum drop, as a share of the instrument's score range
MIN_DROP_RANGE_SHARE = 0.1
#: the within-dyad SD starts from the SD of the session-to-session changes with this share of
#: the largest left out, then clips changes beyond CLIP_SD of them (sigma clipping)
TRIM_SHARE = 0.2
CLIP_SD = 2.0
CLIP_ROUNDS = 50
#: fewer session-to-session changes in the sample give no within-dyad SD
MIN_CHANGES = 5
PERSPECTIVES = {"client": "client_score", "therapist": "therapist_score"}
PREDICTION = "predicted_client_score"
QUALITY_COLUMNS = ("rtt_ms", "packet_loss_pct")
_TOLERANCE = 1e-9
# E[Z^2 | |Z| <= q] for the kept share of a standard normal: the trimmed mean square of
# N(0, s^2) changes is s^2 times this (consistency factor of the trimmed estimate)
_Q = float(stats.norm.ppf(0.5 + (1 - TRIM_SHARE) / 2))
_TRIM_FACTOR = (1 - TRIM_SHARE - 2 * _Q * float(stats.norm.pdf(_Q))) / (1 - TRIM_SHARE)
# E[Z^2 | |Z| <= CLIP_SD]: the same correction for the clipped changes
_INSIDE = float(stats.norm.cdf(CLIP_SD) - stats.norm.cdf(-CLIP_SD))
_CLIP_FACTOR = (_INSIDE - 2 * CLIP_SD * float(stats.norm.pdf(CLIP_SD))) / _INSIDE


def min_drop_for_range(low: float, high: float) -> float:
    """The minimum drop for an instrument whose totals run from low to high: 10% of the range."""
    return MIN_DROP_RANGE_SHARE * (high - low)


def ruptures(
    frame: pd.DataFrame,
    reasons: Reasons,
    *,
    threshold_sd: float = RUPTURE_SD,
    min_drop: float | None = None,
    max_events: int | None = None,
) -> Json:
    """Rupture-repair episodes in each perspective's session-by-session ratings.

    Per perspective, SD_within is the noise SD of one rating within a dyad, estimated from the
    whole sample's session-to-session changes (x_t - x_(t-1) within a dyad) by sigma clipping,
    so the drops and the rises of their repairs are left out (see _sd_within). A session is a
    rupture when its rating lies below the dyad's preceding level (mean of the up to 3
    preceding rated sessions, at least 2) by >= threshold_sd x SD_within and by >= min_drop.
    min_drop defaults to half the SD of all the perspective's scores (Norman et al. 2003), and
    at least two scale steps (the smallest gap between distinct observed scores: a one-step
    dip is never a rupture); pass min_drop_for_range() of the instrument's range where known.
    The repair is the first of the next 3 rated sessions whose rating is back within SD_within
    of the preceding level, else null; the sessions up to it (or the next 3 without one) are
    part of the same rupture, not new ones. Vectorised over all dyads (no per-dyad loop).
    """
    require(threshold_sd > 0, "threshold_sd must be positive")
    require(min_drop is None or min_drop >= 0, "min_drop must be 0 or more")
    columns = ["dyad_id", "session_number", *PERSPECTIVES.values()]
    data = frame[columns].dropna()
    codes, labels = pd.factorize(data["dyad_id"], sort=False)
    session = data["session_number"].to_numpy(dtype=np.int64)
    order = np.lexsort((session, codes))
    codes, session = codes[order], session[order]
    rows = len(codes)
    index = np.arange(rows)
    starts = np.r_[True, codes[1:] != codes[:-1]] if rows else np.zeros(0, bool)
    position = index - np.maximum.accumulate(np.where(starts, index, 0))
    sizes = np.bincount(codes, minlength=len(labels))
    evaluated = int((sizes > MIN_BASELINE_SESSIONS).sum())
    require(
        evaluated > 0,
        f"needs at least {MIN_BASELINE_SESSIONS + 1} sessions in some dyad",
    )
    changes = int((position > 0).sum())
    require(
        changes >= MIN_CHANGES,
        f"needs at least {MIN_CHANGES} session-to-session changes in the sample to "
        f"estimate the within-dyad SD (got {changes})",
    )
    episode = _Episodes(codes, session, position, float(threshold_sd))
    found: dict[str, pd.DataFrame] = {}
    sd_within: dict[str, float] = {}
    floors: dict[str, float] = {}
    sources: dict[str, str] = {}
    for perspective, column in PERSPECTIVES.items():
        x = data[column].to_numpy(dtype=float)[order]
        sd_within[perspective], sources[perspective] = _sd_within(x, position)
        floors[perspective] = (
            float(min_drop) if min_drop is not None else _default_min_drop(x)
        )
        found[perspective] = episode.find(
            x, sd_within[perspective], floors[perspective]
        )
    events = pd.concat(
        [f.assign(perspective=p) for p, f in found.items()], ignore_index=True
    )
    events["dyad_id"] = np.asarray(labels, dtype=object)[events.pop("code")].astype(str)
    events = events.sort_values(
        ["dyad_id", "session_number", "perspective"], kind="stable"
    )[["dyad_id", "perspective", "session_number", "drop", "repaired_session"]]
    n_events = len(events)
    listed = events if max_events is None else events.iloc[: max(0, max_events)]
    block: Json = {
        "definition": _definition(float(threshold_sd), min_drop),
        "threshold": {
            "sd_multiple": float(threshold_sd),
            "sd_within": sd_within,
            "min_drop": floors,
            "baseline_sessions": BASELINE_SESSIONS,
            "min_baseline_sessions": MIN_BASELINE_SESSIONS,
            "repair_window": REPAIR_WINDOW,
            "sd_source": "; ".join(f"{p}: {s}" for p, s in sources.items()),
            "min_drop_source": (
                "given (min_drop)" if min_drop is not None else _DEFAULT_MIN_DROP
            ),
        },
        "events": _event_records(listed),
        "n_events": n_events,
        "events_listed": len(listed),
        "share_of_dyads": events["dyad_id"].nunique() / evaluated,
        "share_of_dyads_by_perspective": {
            p: f["code"].nunique() / evaluated for p, f in found.items()
        },
        "n_dyads_evaluated": evaluated,
        "n_dyads_not_evaluated": len(labels) - evaluated,
        "n_repaired": int(events["repaired_session"].notna().sum()),
        "reasons": {},
    }
    notes = []
    if listed["repaired_session"].isna().any():
        notes.append(
            "repaired_session is null where the rating was not back at the preceding level "
            f"within the next {REPAIR_WINDOW} rated sessions (or the series ended)"
        )
    if len(listed) < n_events:
        notes.append(
            f"the list is cut to {len(listed)} of {n_events} events (max_events); "
            "n_events and the shares count all"
        )
    if notes:
        block["reasons"]["events"] = "; ".join(notes)
    if block["n_dyads_not_evaluated"]:
        block["reasons"]["n_dyads_not_evaluated"] = (
            f"dyads with fewer than {MIN_BASELINE_SESSIONS + 1} rated sessions have no "
            "preceding level to drop from"
        )
    return block


class _Episodes:
    """Drops and repairs in sorted rows (dyad codes, session numbers, position in the dyad)."""

    def __init__(
        self,
        codes: np.ndarray,
        session: np.ndarray,
        position: np.ndarray,
        threshold_sd: float,
    ) -> None:
        self.codes, self.session, self.threshold_sd = codes, session, threshold_sd
        self.count = np.minimum(position, BASELINE_SESSIONS)

    def find(self, x: np.ndarray, sd_within: float, floor: float) -> pd.DataFrame:
        total = np.zeros_like(x)
        for lag in range(1, BASELINE_SESSIONS + 1):
            total[lag:] += np.where(self.count[lag:] >= lag, x[:-lag], 0.0)
        level = total / np.maximum(self.count, 1)
        drop = level - x
        slack = _TOLERANCE * max(1.0, float(np.abs(x).max(initial=0.0)))
        hit = (
            (self.count >= MIN_BASELINE_SESSIONS)
            & (drop > slack)
            & (drop >= self.threshold_sd * sd_within - slack)
            & (drop >= floor - slack)
        )
        rows = np.flatnonzero(hit)
        ahead = self._repairs(x, rows, level[rows] - sd_within, slack)
        keep = self._episode_starts(rows, ahead)
        rows, ahead = rows[keep], ahead[keep]
        repaired = np.full(len(rows), None, dtype=object)
        back = ahead > 0
        repaired[back] = self.session[rows[back] + ahead[back]].tolist()
        return pd.DataFrame(
            {
                "code": self.codes[rows],
                "session_number": self.session[rows],
                "drop": drop[rows],
                "repaired_session": repaired,
            }
        )

    def _repairs(
        self, x: np.ndarray, rows: np.ndarray, target: np.ndarray, slack: float
    ) -> np.ndarray:
        """Rows from each drop to its repair (the first of the next REPAIR_WINDOW rows of the
        dyad back at target), 0 where none."""
        ahead = np.zeros(len(rows), dtype=np.int64)
        for step in range(1, REPAIR_WINDOW + 1):
            later = rows + step
            inside = later < len(x)
            later = np.where(inside, later, 0)
            back = (
                (ahead == 0)
                & inside
                & (self.codes[later] == self.codes[rows])
                & (x[later] >= target - slack)
            )
            ahead[back] = step
        return ahead

    def _episode_starts(self, rows: np.ndarray, ahead: np.ndarray) -> np.ndarray:
        """Which candidate drops start an episode: a drop inside an earlier episode of the
        same dyad (before its repair, or within the repair window when none came) continues
        it. Candidates are few (a share of the rows), so a plain loop."""
        keep = np.zeros(len(rows), dtype=bool)
        end, code = -1, -1
        for i, (row, step) in enumerate(
            zip(rows.tolist(), ahead.tolist(), strict=True)
        ):
            group = int(self.codes[row])
            if group == code and row <= end:
                continue
            keep[i] = True
            code, end = group, row + (step if step else REPAIR_WINDOW)
        return keep


_DEFAULT_MIN_DROP = (
    f"the larger of {MIN_DROP_SD_OF_SCORES:g} x SD of all the perspective's scores and "
    f"{MIN_DROP_STEPS} x the smallest step between distinct observed scores"
)


def _default_min_drop(x: np.ndarray) -> float:
    """Half the SD of all scores, and at least two scale steps (see MIN_DROP_STEPS)."""
    values = np.unique(x)
    gaps = np.diff(values)
    gaps = gaps[gaps > _TOLERANCE * max(1.0, float(np.abs(values).max(initial=0.0)))]
    step = float(gaps.min()) if len(gaps) else 0.0
    spread = float(np.std(x, ddof=1)) if len(x) > 1 else 0.0
    return max(MIN_DROP_SD_OF_SCORES * spread, MIN_DROP_STEPS * step)


def _sd_within(x: np.ndarray, position: np.ndarray) -> tuple[float, str]:
    """Noise SD of one rating within a dyad, from the sample's session-to-session changes.

    A change holds two ratings' noise, so SD_within = SD(changes) / sqrt(2). SD(changes) by
    sigma clipping: start from the 20%-trimmed estimate, then repeatedly leave out the changes
    more than 2 SDs from the median and re-estimate from the rest with the truncated normal's
    correction, until it settles. Drops and the rises of their repairs are left out even when
    every dyad has one (the trimmed estimate alone is 19% too high when half the dyads have a
    5 SD drop; clipped: within 2%).
    """
    change = (x[1:] - x[:-1])[position[1:] > 0]
    centred = np.abs(change - np.median(change))
    kept = np.sort(centred)[: int(np.ceil((1 - TRIM_SHARE) * len(centred)))]
    mean_square = float(np.mean(kept**2)) / _TRIM_FACTOR
    start = "trimmed start"
    if mean_square == 0:
        # nearly all changes are 0 (e.g. ratings at the ceiling): trimming leaves none
        mean_square = float(np.mean(centred**2))
        start = f"untrimmed start: over {100 * (1 - TRIM_SHARE):g}% of changes are 0"
    spread = float(np.sqrt(mean_square))
    for _ in range(CLIP_ROUNDS):
        inside = centred[centred <= CLIP_SD * spread]
        updated = float(np.sqrt(np.mean(inside**2) / _CLIP_FACTOR))
        if updated == 0:
            break  # discrete ratings: clipping would leave only zero changes
        settled = abs(updated - spread) <= _TOLERANCE * spread
        spread = updated
        if settled:
            break
    left_out = int((centred > CLIP_SD * spread).sum())
    source = (
        f"{len(change)} session-to-session changes within dyads, {left_out} more than "
        f"{CLIP_SD:g} SD from their median left out (sigma clipping, {start}); "
        "SD_within = SD of changes / sqrt(2)"
    )
    return float(spread / np.sqrt(2)), source


def _definition(threshold_sd: float, min_drop: float | None) -> str:
    floor = (
        f"{min_drop:g} points"
        if min_drop is not None
        else f"min_drop ({_DEFAULT_MIN_DROP})"
    )
    return (
        f"a rupture is a rating at least {threshold_sd:g} x SD_within and at least {floor} "
        f"below the dyad's preceding level (mean of the up to {BASELINE_SESSIONS} preceding "
        f"rated sessions, at least {MIN_BASELINE_SESSIONS}); SD_within is the noise SD of one "
        "rating within a dyad, per perspective, from the whole sample's session-to-session "
        f"changes with those beyond {CLIP_SD:g} SD left out (sigma clipping) and divided by "
        f"sqrt(2); the repair is the first of the next {REPAIR_WINDOW} rated sessions back "
        "within SD_within of that level; sessions up to the repair (or the next "
        f"{REPAIR_WINDOW} without one) belong to the same rupture and are not counted again"
    )


def _event_records(events: pd.DataFrame) -> Plain:
    return Plain(
        {
            "dyad_id": dyad,
            "perspective": perspective,
            "session_number": int(session),
            "drop": float(drop),
            "repaired_session": None if repaired is None else int(repaired),
        }
        for dyad, perspective, session, drop, repaired in zip(
            events["dyad_id"].tolist(),
            events["perspective"].tolist(),
            events["session_number"].tolist(),
            events["drop"].tolist(),
            events["repaired_session"].tolist(),
            strict=True,
        )
    )


def meta_perception(frame: pd.DataFrame, reasons: Reasons | None = None) -> Json:
    """The therapist's prediction of the client's rating against the client's actual rating.

    ``predicted_client_score`` is the therapist's prediction of the client's total on the client
    instrument's scale, compared with ``client_score`` (Kenny's meta-perception). bias = mean of
    prediction - actual over sessions; its 95% CI uses a dyad-cluster-robust standard error
    (CR1) with t(G - 1) for G dyads, so a dyad's sessions are not treated as independent.
    accuracy_r = repeated-measures correlation of prediction and actual (within-dyad: does the
    therapist see the client's ups and downs?), Bakdash & Marusich 2017, with its Fisher-z CI.
    """
    require(PREDICTION in frame, f"no {PREDICTION} column")
    data = frame[["dyad_id", PREDICTION, "client_score"]].dropna()
    require(len(data) > 0, f"no session has a {PREDICTION}")
    codes, labels = pd.factorize(data["dyad_id"], sort=False)
    error = (data[PREDICTION] - data["client_score"]).to_numpy(dtype=float)
    groups = len(labels)
    block: Json = {
        "n": len(data),
        "n_dyads": groups,
        "bias": float(np.mean(error)),
        "ci95": None,
        "accuracy_r": None,
        "accuracy_r_ci95": None,
        "method": (
            "bias = mean of predicted_client_score - client_score over sessions; 95% CI "
            "with a dyad-cluster-robust SE (CR1) and t(G - 1), G = dyads; accuracy_r = "
            "repeated-measures correlation (within dyads, Bakdash & Marusich 2017), 95% CI "
            "Fisher z with n_eff = df + 2"
        ),
        "reasons": {},
    }
    try:
        block["ci95"] = _cluster_ci(error, codes, groups)
    except Unsupported as exc:
        block["reasons"]["ci95"] = str(exc)
    try:
        rm = rm_corr(data, PREDICTION, "client_score", "dyad_id")
        block["accuracy_r"], block["accuracy_r_ci95"] = rm["r"], rm["ci95"]
    except Unsupported as exc:
        block["reasons"]["accuracy_r"] = block["reasons"]["accuracy_r_ci95"] = str(exc)
    return block


def _cluster_ci(
    error: np.ndarray, codes: np.ndarray, groups: int
) -> list[float | None]:
    """t(G - 1) interval of the mean with the CR1 cluster-robust SE (intercept-only OLS)."""
    require(groups >= 2, f"needs at least 2 dyads (got {groups})")
    residual = error - error.mean()
    sums = np.bincount(codes, weights=residual, minlength=groups)
    require(np.ptp(error) > 0, "all prediction errors are equal")
    se = np.sqrt(groups / (groups - 1) * float(np.sum(sums**2))) / len(error)
    require(se > 0, "the prediction errors' dyad sums do not vary")
    half = float(stats.t.ppf(0.5 + CI_LEVEL / 2, groups - 1)) * se
    mean = float(error.mean())
    return pair((mean - half, mean + half))


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
