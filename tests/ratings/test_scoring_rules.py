"""Scoring against hand-worked tables: reversal, sum vs mean, prorating."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ratings import Instrument, Scores, ScoringError, score

Parse = Callable[..., Instrument]


def _definition(scoring: str, max_missing: int = 1) -> dict[str, Any]:
    """Subscale a: a1 a2 a3 a4 (a4 reversed); subscale b: b1 b2. Scale 1-5."""
    items = [
        {"id": "a1", "subscale": "a", "text": "Item a1"},
        {"id": "a2", "subscale": "a", "text": "Item a2"},
        {"id": "a3", "subscale": "a", "text": "Item a3"},
        {"id": "a4", "subscale": "a", "text": "Item a4", "reversed": True},
        {"id": "b1", "subscale": "b", "text": "Item b1"},
        {"id": "b2", "subscale": "b", "text": "Item b2"},
    ]
    return {
        "id": "calc",
        "version": "1.0",
        "title": "Scoring fixture",
        "perspective": "client",
        "kind": "meta_perception",
        "licence": "test fixture",
        "validated": False,
        "scoring": scoring,
        "scale": {"min": 1, "max": 5},
        "missing": {"max_missing_per_subscale": max_missing},
        "subscales": [{"id": "a", "label": "A"}, {"id": "b", "label": "B"}],
        "items": items,
    }


FULL = {"a1": 4, "a2": 2, "a3": 5, "a4": 2, "b1": 3, "b2": 5}


def _without(*gone: str) -> dict[str, int]:
    return {k: v for k, v in FULL.items() if k not in gone}


# Worked by hand. a4 is reversed: 1 + 5 - 2 = 4.
# FULL: a = 4 + 2 + 5 + 4 = 15, b = 3 + 5 = 8.
SUM_CASES = [
    # all answered: total = 15 + 8 = 23
    ("none missing", FULL, 23.0, {"a": 15.0, "b": 8.0}, ()),
    # a4 missing: a = mean(4, 2, 5) x 4 = 11/3 x 4 = 44/3 = 14.667;
    #             total = 44/3 + 8 = 68/3 = 22.667
    ("one missing in a", _without("a4"), 68 / 3, {"a": 44 / 3, "b": 8.0}, ("a",)),
    # b1 missing: b = 5 x 2 = 10; total = 15 + 10 = 25
    ("one missing in b", _without("b1"), 25.0, {"a": 15.0, "b": 10.0}, ("b",)),
    # one missing in each: a = (4 + 2 + 4)/3 x 4 = 40/3; b = 3 x 2 = 6; total = 58/3
    (
        "one missing in each",
        _without("a3", "b2"),
        58 / 3,
        {"a": 40 / 3, "b": 6.0},
        ("a", "b"),
    ),
    # two missing in a (> 1 allowed): a has no score, so neither has the total
    ("two missing in a", _without("a3", "a4"), None, {"a": None, "b": 8.0}, ()),
    # both of b missing: nothing to prorate from
    ("all of b missing", _without("b1", "b2"), None, {"a": 15.0, "b": None}, ()),
]

MEAN_CASES = [
    # a = 15/4 = 3.75; b = 8/2 = 4; total = (15 + 8)/6 = 23/6 = 3.833
    ("none missing", FULL, 23 / 6, {"a": 3.75, "b": 4.0}, ()),
    # a = 11/3 = 3.667; total = prorated mean = (44/3 + 8)/6 = 68/18 = 3.778
    # (a plain mean of the five answers would be 19/5 = 3.8: the rule differs)
    ("one missing in a", _without("a4"), 68 / 18, {"a": 11 / 3, "b": 4.0}, ("a",)),
    # b = 5; total = (15 + 10)/6 = 25/6 = 4.167
    ("one missing in b", _without("b1"), 25 / 6, {"a": 3.75, "b": 5.0}, ("b",)),
    ("two missing in a", _without("a1", "a2"), None, {"a": None, "b": 4.0}, ()),
]


@pytest.mark.parametrize(
    ("answers", "total", "subscales", "prorated"),
    [case[1:] for case in SUM_CASES],
    ids=[case[0] for case in SUM_CASES],
)
def test_sum_scoring_matches_hand_worked_table(
    parse: Parse,
    answers: dict[str, int],
    total: float | None,
    subscales: dict[str, float | None],
    prorated: tuple[str, ...],
) -> None:
    result = score(parse(_definition("sum")), answers)
    assert result.total == pytest.approx(total)
    assert result.subscales == pytest.approx(subscales)
    assert result.prorated == prorated


@pytest.mark.parametrize(
    ("answers", "total", "subscales", "prorated"),
    [case[1:] for case in MEAN_CASES],
    ids=[case[0] for case in MEAN_CASES],
)
def test_mean_scoring_matches_hand_worked_table(
    parse: Parse,
    answers: dict[str, int],
    total: float | None,
    subscales: dict[str, float | None],
    prorated: tuple[str, ...],
) -> None:
    result = score(parse(_definition("mean")), answers)
    assert result.total == pytest.approx(total)
    assert result.subscales == pytest.approx(subscales)
    assert result.prorated == prorated


@pytest.mark.parametrize(
    ("missing", "rule", "a_score"),
    [
        # a2 = 2 missing; answered 4, 5, reversed(2) = 4: mean 13/3
        ((), 0, 15.0),
        (("a2",), 0, None),  # no prorating allowed
        (("a2",), 1, 13 / 3 * 4),  # 52/3 = 17.333
        (("a2", "a3"), 1, None),
        (("a2", "a3"), 2, 8 / 2 * 4),  # answered 4 and 4: mean 4, x 4 = 16
        (("a1", "a2", "a3", "a4"), 4, None),  # nothing answered, whatever the rule
    ],
)
def test_prorating_limit_per_subscale(
    parse: Parse, missing: tuple[str, ...], rule: int, a_score: float | None
) -> None:
    result = score(parse(_definition("sum", max_missing=rule)), _without(*missing))
    assert result.subscales["a"] == pytest.approx(a_score)


def test_reversed_items_score_min_plus_max_minus_answer(parse: Parse) -> None:
    # Only a4 is reversed: answers 1..5 on a4 give 5..1; all else fixed at 1.
    instrument = parse(_definition("sum"))
    base = dict.fromkeys(FULL, 1)
    got = [score(instrument, {**base, "a4": x}).subscales["a"] for x in range(1, 6)]
    assert got == [3 + 5, 3 + 4, 3 + 3, 3 + 2, 3 + 1]


def test_reversal_uses_the_items_own_range(parse: Parse) -> None:
    definition = _definition("sum")
    definition["items"][3].update(min=0, max=10)  # a4 reversed on 0..10: 3 -> 7
    result = score(parse(definition), {**FULL, "a4": 3})
    assert result.subscales["a"] == 4 + 2 + 5 + 7


def test_none_counts_as_unanswered(parse: Parse) -> None:
    instrument = parse(_definition("sum"))
    with_none = score(instrument, {**FULL, "a4": None})
    assert with_none == score(instrument, _without("a4"))
    assert with_none.total == pytest.approx(68 / 3)


def test_complete_sums_are_exact_floats(parse: Parse) -> None:
    result = score(parse(_definition("sum")), FULL)
    assert result.total == 23.0
    assert isinstance(result.total, float)


@pytest.mark.parametrize(
    ("answers", "item", "message"),
    [
        ({**FULL, "a1": 6}, "a1", "must be an integer between 1 and 5 (got 6)"),
        ({**FULL, "b2": True}, "b2", "must be an integer between 1 and 5 (got true)"),
        ({**FULL, "b1": 2.0}, "b1", "must be an integer between 1 and 5 (got 2.0)"),
        ({**FULL, "zz": 3}, "zz", "is not an item of calc 1.0"),
    ],
)
def test_score_refuses_answers_it_cannot_score(
    parse: Parse, answers: dict[str, Any], item: str, message: str
) -> None:
    with pytest.raises(ScoringError) as caught:
        score(parse(_definition("sum")), answers)
    assert caught.value.errors == {item: message}
    assert message in str(caught.value)


def test_scores_serialise_to_the_contract_shape(parse: Parse) -> None:
    result = score(parse(_definition("sum")), _without("b1"))
    assert result.to_dict() == {
        "total": 25.0,
        "subscales": {"a": 15.0, "b": 10.0},
        "prorated": ["b"],
    }
    assert Scores(None, {"a": None}).to_dict()["total"] is None
