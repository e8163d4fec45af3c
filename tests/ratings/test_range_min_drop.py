"""A declared score range sets the rupture rule's minimum drop; an empty Bland-Altman block
still names its CI method."""

import numpy as np
import pandas as pd
import pytest

from ratings.analysis import summarize


def _pairs(n_dyads: int = 8, sessions: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for d in range(n_dyads):
        level = rng.uniform(30, 40)
        for s in range(1, sessions + 1):
            rows.append(
                {
                    "dyad_id": f"d{d}",
                    "session_number": s,
                    "client_score": round(level + rng.normal(0, 2)),
                    "therapist_score": round(level - 2 + rng.normal(0, 2)),
                }
            )
    return pd.DataFrame(rows)


def test_a_declared_range_gives_a_tenth_of_it_as_the_minimum_drop() -> None:
    out = summarize(_pairs(), include_multilevel=False, score_range=(9, 45))
    min_drop = out["ruptures"]["threshold"]["min_drop"]
    values = min_drop.values() if isinstance(min_drop, dict) else [min_drop]
    assert all(v == pytest.approx(3.6) for v in values)


def test_an_explicit_minimum_drop_wins_over_the_range() -> None:
    out = summarize(
        _pairs(), include_multilevel=False, score_range=(9, 45), rupture_min_drop=5.0
    )
    min_drop = out["ruptures"]["threshold"]["min_drop"]
    values = min_drop.values() if isinstance(min_drop, dict) else [min_drop]
    assert all(v == pytest.approx(5.0) for v in values)


def test_too_few_pairs_still_name_the_limits_ci_method() -> None:
    out = summarize(_pairs(n_dyads=1, sessions=2), include_multilevel=False)
    assert out["bland_altman"]["bias"] is None
    assert "Carkeet" in out["bland_altman"]["limits_ci_method"]
    assert "Carkeet" in out["conventions"]["limits_of_agreement"]
