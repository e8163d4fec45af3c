"""Pearson's r at the edge of what its Fisher-z interval supports (three pairs)."""

import warnings

import numpy as np
import pytest

from ratings._stats_paired import pearson


@pytest.mark.parametrize(
    ("client", "therapist"),
    [([12.0, 15.0, 12.0], [12.0, 14.0, 12.0]), ([1.0, 2.0, 3.0], [3.0, 2.0, 1.0])],
)
def test_a_perfect_r_from_three_pairs_gives_no_interval_and_no_warning(
    client: list[float], therapist: list[float]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = pearson(np.array(client), np.array(therapist))
    assert abs(out["r"]) == pytest.approx(1.0)
    assert out["ci95"] is None


def test_three_pairs_that_are_not_perfect_keep_scipys_interval() -> None:
    out = pearson(np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0]))
    assert out["ci95"] == pytest.approx([-1.0, 1.0])


def test_a_perfect_r_from_four_pairs_has_the_degenerate_interval() -> None:
    out = pearson(np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 4.0, 6.0, 8.0]))
    assert out["ci95"] == pytest.approx([1.0, 1.0])
