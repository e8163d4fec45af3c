"""The headline's therapist-level route, calibrated by simulation.

With at least five therapists the headline takes therapists as the clusters (dyads nested in
them) and tests with t on therapists - 1 df. The dyad routes are checked in test_headline.py;
this checks the therapist route's error rate on null data with therapist and dyad offsets,
and that a true gap lies inside its interval about as often as promised.
"""

import warnings

import numpy as np
import pandas as pd

from ratings._stats_nested import headline

SEED = 11


def _data(
    rng: np.random.Generator, therapists: int, dyads: int, sessions: int, gap: float
) -> pd.DataFrame:
    rows = []
    for t in range(therapists):
        therapist_offset = rng.normal(0, 2.0)
        for d in range(dyads):
            dyad_offset = rng.normal(0, 1.5)
            for s in range(1, sessions + 1):
                diff = gap + therapist_offset + dyad_offset + rng.normal(0, 2.0)
                client = 38 + rng.normal(0, 2)
                rows.append((f"t{t}d{d}", s, client, client - diff, f"t{t}"))
    frame = pd.DataFrame(
        rows,
        columns=[
            "dyad_id",
            "session_number",
            "client_score",
            "therapist_score",
            "therapist_id",
        ],
    )
    frame["dyad_id"] = frame["dyad_id"].astype("category")
    return frame


def _run(
    sets: int, gap: float
) -> tuple[list[float], list[tuple[float, float]], set[str]]:
    rng = np.random.default_rng(SEED)
    ps, cis, methods = [], [], set()
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # MixedLM's convergence chatter; reported in reasons
        for _ in range(sets):
            block = headline(_data(rng, 5, 2, 8, gap), {})
            assert block is not None
            ps.append(block["p"])
            cis.append(tuple(block["ci95"]))
            methods.add(block["method"])
    return ps, cis, methods


def test_the_therapist_route_keeps_its_error_rate_on_null_data() -> None:
    ps, _, methods = _run(200, gap=0.0)
    assert any("per therapist" in m for m in methods)
    rejected = sum(p < 0.05 for p in ps) / len(ps)
    assert rejected <= 0.07  # 0.04 with this seed; 5.6% with 8 therapists, 500 sets


def test_the_therapist_routes_interval_covers_a_true_gap() -> None:
    _, cis, _ = _run(200, gap=2.0)
    covered = sum(low <= 2.0 <= high for low, high in cis) / len(cis)
    assert covered >= 0.92
