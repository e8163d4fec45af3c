"""Rupture-repair episodes: false flags on stationary series, detection of injected drops.

Simulated dyads: each perspective's rating = dyad level + N(0, 1) noise per session, so
drop sizes are in SDs of the within-dyad noise. Fixed seeds: the numbers are reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ratings._stats_common import Unsupported
from ratings._stats_dyadic import (
    RUPTURE_SD,
    min_drop_for_range,
    ruptures,
)

SESSIONS = 10
SHAPE = {
    "definition",
    "threshold",
    "events",
    "n_events",
    "events_listed",
    "share_of_dyads",
    "share_of_dyads_by_perspective",
    "n_dyads_evaluated",
    "n_dyads_not_evaluated",
    "n_repaired",
    "reasons",
}
THRESHOLD = {
    "sd_multiple",
    "sd_within",
    "min_drop",
    "baseline_sessions",
    "repair_window",
    "sd_source",
}
EVENT = ["dyad_id", "perspective", "session_number", "drop", "repaired_session"]


def stationary(dyads: int, sessions: int = SESSIONS, seed: int = 0) -> pd.DataFrame:
    """Dyad levels N(30, 1) and N(28, 1), rating noise N(0, 1): no ruptures at all."""
    rng = np.random.default_rng(seed)
    dyad = np.repeat(np.arange(dyads), sessions)
    return pd.DataFrame(
        {
            "dyad_id": [f"d{i:05d}" for i in dyad],
            "session_number": np.tile(np.arange(1, sessions + 1), dyads),
            "client_score": rng.normal(30, 1, dyads)[dyad]
            + rng.normal(0, 1, len(dyad)),
            "therapist_score": rng.normal(28, 1, dyads)[dyad]
            + rng.normal(0, 1, len(dyad)),
        }
    )


def series(client: list[float], therapist: list[float], dyad: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dyad_id": dyad,
            "session_number": range(1, len(client) + 1),
            "client_score": client,
            "therapist_score": therapist,
        }
    )


def inject(
    frame: pd.DataFrame, low: float, high: float, seed: int
) -> tuple[pd.DataFrame, set[tuple[str, str, int]]]:
    """One single-session drop of low..high noise SDs in half the dyads, in one perspective
    each (alternating), at a session from 3 to 8; the next sessions return to the level."""
    rng = np.random.default_rng(seed)
    dyads = frame["dyad_id"].nunique()
    out = frame.copy()
    truth = set()
    for i in np.flatnonzero(rng.random(dyads) < 0.5):
        session = int(rng.integers(3, SESSIONS - 1))
        perspective = ("client", "therapist")[i % 2]
        row = i * SESSIONS + session - 1
        out.loc[row, f"{perspective}_score"] -= rng.uniform(low, high)
        truth.add((f"d{i:05d}", perspective, session))
    return out, truth


def found(
    result: dict[str, Any], truth: set[tuple[str, str, int]]
) -> tuple[float, float]:
    """Shares of the injected drops that were flagged, and flagged with a repair."""
    events = {
        (e["dyad_id"], e["perspective"], e["session_number"]): e["repaired_session"]
        for e in result["events"]
    }
    hits = [events[key] for key in truth if key in events]
    repaired = [r for r in hits if r is not None]
    return len(hits) / len(truth), len(repaired) / len(truth)


def test_a_flat_series_with_a_one_point_dip_is_not_a_rupture() -> None:
    # The old rule (the dyad's own SD, drops included) flagged this at 1 SD and at 2 SD.
    flat = series([45, 45, 45, 45, 44, 45], [40, 40, 40, 40, 39, 40], "flat")
    alone = ruptures(flat, {})
    assert alone["n_events"] == 0 and alone["events"] == []
    among = ruptures(pd.concat([stationary(50, seed=3), flat]), {})
    assert not [e for e in among["events"] if e["dyad_id"] == "flat"]


def test_stationary_series_flag_at_most_five_percent_of_dyads_per_perspective() -> None:
    # 4.0% expected at the default k = 3 (200,000 simulated dyads); 5,000 dyads: SE 0.3%
    result = ruptures(stationary(5000, seed=11), {})
    shares = result["share_of_dyads_by_perspective"]
    print(f"false flags per perspective on 5,000 stationary dyads: {shares}")
    assert shares["client"] <= 0.05
    assert shares["therapist"] <= 0.05
    # either perspective: two chances
    assert result["share_of_dyads"] <= 0.10
    for sd in result["threshold"]["sd_within"].values():
        assert sd == pytest.approx(1.0, rel=0.05)


def test_injected_five_sd_drops_are_found_with_their_repairs() -> None:
    data, truth = inject(stationary(2000, seed=21), 5, 5, seed=22)
    result = ruptures(data, {})
    share, with_repair = found(result, truth)
    print(f"5 SD drops: {share:.3f} found, {with_repair:.3f} with their repair")
    assert with_repair >= 0.80
    # the drops and their repairs are left out of SD_within (it stays near the noise SD)
    for sd in result["threshold"]["sd_within"].values():
        assert sd == pytest.approx(1.0, rel=0.05)


def test_detection_rate_of_two_to_two_and_a_half_sd_drops_is_reported(
    record_property: Callable[[str, object], None],
) -> None:
    # With ten sessions no rule keeps false flags at 5% and finds most of these: recorded,
    # not promised (docs/research.md#ruptures-and-repairs).
    data, truth = inject(stationary(2000, seed=31), 2, 2.5, seed=32)
    share, with_repair = found(ruptures(data, {}), truth)
    record_property("detection_rate_2_to_2.5_sd", share)
    print(f"2-2.5 SD drops: {share:.3f} found, {with_repair:.3f} with their repair")
    assert 0.0 < share < 0.5


def test_a_repair_is_the_first_later_session_back_at_the_level() -> None:
    noise = stationary(200, seed=41)
    repaired = series([30, 30, 30, 20, 25, 30, 30], [28] * 7, "back")
    lasting = series([30, 30, 30, 20, 20, 20, 20], [28] * 7, "stays")
    result = ruptures(pd.concat([noise, repaired, lasting]), {})
    events = {
        e["dyad_id"]: e for e in result["events"] if e["dyad_id"] in {"back", "stays"}
    }
    assert events["back"]["session_number"] == 4
    assert events["back"]["drop"] == pytest.approx(10)
    assert events["back"]["repaired_session"] == 6  # 25 is still 5 below the level
    assert events["stays"]["repaired_session"] is None
    assert "repaired_session is null where" in result["reasons"]["events"]
    # the sessions after an unrepaired drop continue that rupture, they are not new ones
    assert [
        e["session_number"] for e in result["events"] if e["dyad_id"] == "stays"
    ] == [4]
    assert result["n_repaired"] == sum(
        e["repaired_session"] is not None for e in result["events"]
    )


def test_output_has_the_documented_shape_and_names_the_rule() -> None:
    result = ruptures(stationary(300, seed=51), {})
    assert result.keys() >= SHAPE
    assert result["threshold"].keys() >= THRESHOLD
    assert result["threshold"]["sd_multiple"] == RUPTURE_SD
    assert set(result["threshold"]["sd_within"]) == {"client", "therapist"}
    assert "SD_within" in result["definition"]
    assert all(list(e) == EVENT for e in result["events"])
    keys = [
        (e["dyad_id"], e["session_number"], e["perspective"]) for e in result["events"]
    ]
    assert keys == sorted(keys)


def test_max_events_cuts_the_list_but_not_the_counts() -> None:
    data = stationary(2000, seed=61)
    full = ruptures(data, {})
    assert full["n_events"] > 10
    cut = ruptures(data, {}, max_events=10)
    assert cut["events_listed"] == len(cut["events"]) == 10
    assert cut["events"] == full["events"][:10]
    assert cut["n_events"] == full["n_events"]
    assert cut["share_of_dyads"] == full["share_of_dyads"]
    assert "max_events" in cut["reasons"]["events"]
    assert "max_events" not in full["reasons"].get("events", "")


def test_min_drop_is_a_second_hurdle() -> None:
    data, _ = inject(stationary(500, seed=71), 5, 5, seed=72)
    assert ruptures(data, {})["n_events"] > 0
    strict = ruptures(data, {}, min_drop=50)
    assert strict["n_events"] == 0
    assert strict["threshold"]["min_drop"] == {"client": 50.0, "therapist": 50.0}
    assert min_drop_for_range(9, 45) == pytest.approx(3.6)


def test_lower_threshold_flags_more() -> None:
    data = stationary(500, seed=81)
    assert (
        ruptures(data, {}, threshold_sd=2.0)["n_events"]
        > ruptures(data, {})["n_events"]
    )


def test_dyads_with_fewer_than_three_sessions_are_not_evaluated() -> None:
    short = series([30, 20], [28, 18], "short")
    result = ruptures(pd.concat([stationary(20, seed=91), short]), {})
    assert result["n_dyads_evaluated"] == 20
    assert result["n_dyads_not_evaluated"] == 1
    assert "fewer than 3" in result["reasons"]["n_dyads_not_evaluated"]
    with pytest.raises(Unsupported, match="3 sessions"):
        ruptures(short, {})


def test_ratings_at_the_ceiling_dip_by_one_step_without_a_rupture() -> None:
    # 40 with probability .9, else 39: over 80% of the changes are 0, so trimming alone would
    # give SD 0; and a dip of 1 is over 3 SD of this noise, yet one scale step.
    rng = np.random.default_rng(101)
    frame = stationary(300, seed=101)
    for column in ("client_score", "therapist_score"):
        frame[column] = np.where(rng.random(len(frame)) < 0.9, 40.0, 39.0)
    result = ruptures(frame, {})
    assert all(sd > 0 for sd in result["threshold"]["sd_within"].values())
    assert result["threshold"]["min_drop"] == {"client": 2.0, "therapist": 2.0}
    assert result["n_events"] == 0
    assert "untrimmed start" in result["threshold"]["sd_source"]
    frame.loc[5, "client_score"] = 30.0  # dyad d00000, session 6
    dip = ruptures(frame, {})["events"]
    assert [(e["dyad_id"], e["session_number"]) for e in dip] == [("d00000", 6)]
