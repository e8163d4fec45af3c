"""Subscales with ``in_total = false``: scored on their own, left out of the total."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ratings import (
    Instrument,
    InstrumentError,
    dump_instrument,
    parse_instrument,
    score,
)

Parse = Callable[..., Instrument]


def _definition(scoring: str) -> dict[str, Any]:
    """a: a1 a2; b: b1 b2; extra (out of the total): x1 x2 (x2 reversed). 1-5."""
    return {
        "id": "calc",
        "version": "1.0",
        "title": "In-total fixture",
        "perspective": "client",
        "kind": "meta_perception",
        "licence": "test fixture",
        "validated": False,
        "scoring": scoring,
        "scale": {"min": 1, "max": 5},
        "missing": {"max_missing_per_subscale": 0},
        "subscales": [
            {"id": "a", "label": "A"},
            {"id": "b", "label": "B"},
            {"id": "x", "label": "X", "in_total": False},
        ],
        "items": [
            {"id": "a1", "subscale": "a", "text": "Item a1"},
            {"id": "a2", "subscale": "a", "text": "Item a2"},
            {"id": "b1", "subscale": "b", "text": "Item b1"},
            {"id": "b2", "subscale": "b", "text": "Item b2"},
            {"id": "x1", "subscale": "x", "text": "Item x1"},
            {"id": "x2", "subscale": "x", "text": "Item x2", "reversed": True},
        ],
    }


ANSWERS = {"a1": 4, "a2": 2, "b1": 3, "b2": 5, "x1": 1, "x2": 4}


def test_sum_total_leaves_the_subscale_out(parse: Parse) -> None:
    result = score(parse(_definition("sum")), ANSWERS)
    # a = 6, b = 8, x = 1 + (1 + 5 - 4) = 3; total = a + b = 14 (not 17)
    assert result.subscales == {"a": 6.0, "b": 8.0, "x": 3.0}
    assert result.total == 14.0


def test_mean_total_averages_only_the_counted_items(parse: Parse) -> None:
    result = score(parse(_definition("mean")), ANSWERS)
    # total = (4 + 2 + 3 + 5) / 4 = 3.5; x = (1 + 2) / 2 = 1.5
    assert result.total == 3.5
    assert result.subscales["x"] == 1.5


def test_an_unscorable_excluded_subscale_does_not_void_the_total(
    parse: Parse,
) -> None:
    answers = {k: v for k, v in ANSWERS.items() if not k.startswith("x")}
    result = score(parse(_definition("sum")), answers)
    assert result.subscales["x"] is None
    assert result.total == 14.0


def test_an_unscorable_counted_subscale_still_voids_the_total(parse: Parse) -> None:
    answers = {k: v for k, v in ANSWERS.items() if k != "a1"}
    assert score(parse(_definition("sum")), answers).total is None


def test_in_total_defaults_to_true(parse: Parse) -> None:
    definition = _definition("sum")
    del definition["subscales"][2]["in_total"]
    instrument = parse(definition)
    assert all(s.in_total for s in instrument.subscales)
    assert score(instrument, ANSWERS).total == 17.0


def test_every_subscale_left_out_is_rejected(parse: Parse) -> None:
    definition = _definition("sum")
    for sub in definition["subscales"]:
        sub["in_total"] = False
    with pytest.raises(InstrumentError, match="at least one subscale must count"):
        parse(definition)


def test_in_total_must_be_a_boolean(parse: Parse) -> None:
    definition = _definition("sum")
    definition["subscales"][2]["in_total"] = "no"
    with pytest.raises(
        InstrumentError, match=r"subscale 'x': 'in_total' must be true or false"
    ):
        parse(definition)


def test_dump_keeps_the_flag(parse: Parse) -> None:
    original = parse(_definition("sum"))
    text = dump_instrument(original)
    assert "in_total = false" in text
    assert parse_instrument(text) == original


def test_form_dict_tells_which_subscales_count(parse: Parse) -> None:
    subscales = parse(_definition("sum")).form_dict()["subscales"]
    assert [s["in_total"] for s in subscales] == [True, True, False]
