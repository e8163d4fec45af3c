"""validate_answers: one message per kind of bad answer, in the contract's style."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ratings import WHOLE_ANSWERS, Instrument, validate_answers

Parse = Callable[..., Instrument]

GOOD = {"q1": 1, "q2": 5, "q3": 3, "q4": 4}


@pytest.fixture
def instrument(parse: Parse, definition: dict[str, Any]) -> Instrument:
    definition["items"][3].update(min=0, max=10, anchors={}, optional=True)  # q4
    return parse(definition)


def test_complete_valid_answers_have_no_errors(instrument: Instrument) -> None:
    assert validate_answers(instrument, GOOD) == {}


def test_optional_item_may_be_left_out(instrument: Instrument) -> None:
    answers = {k: v for k, v in GOOD.items() if k != "q4"}
    assert validate_answers(instrument, answers) == {}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (7, "must be an integer between 1 and 5 (got 7)"),
        (0, "must be an integer between 1 and 5 (got 0)"),
        (-1, "must be an integer between 1 and 5 (got -1)"),
        (True, "must be an integer between 1 and 5 (got true)"),
        (False, "must be an integer between 1 and 5 (got false)"),
        (3.0, "must be an integer between 1 and 5 (got 3.0)"),
        (3.5, "must be an integer between 1 and 5 (got 3.5)"),
        ("3", 'must be an integer between 1 and 5 (got "3")'),
        (None, "must be an integer between 1 and 5 (got null)"),
        ([3], "must be an integer between 1 and 5 (got [3])"),
        ({"v": 3}, 'must be an integer between 1 and 5 (got {"v": 3})'),
    ],
)
def test_bad_value_gets_a_message_naming_range_and_value(
    instrument: Instrument, value: object, message: str
) -> None:
    assert validate_answers(instrument, {**GOOD, "q2": value}) == {"q2": message}


def test_range_in_the_message_is_the_items_own(instrument: Instrument) -> None:
    errors = validate_answers(instrument, {**GOOD, "q4": 11})
    assert errors == {"q4": "must be an integer between 0 and 10 (got 11)"}


def test_missing_required_item_is_reported(instrument: Instrument) -> None:
    answers = {k: v for k, v in GOOD.items() if k != "q1"}
    assert validate_answers(instrument, answers) == {
        "q1": "is required: give an integer between 1 and 5"
    }


def test_unknown_item_is_reported(instrument: Instrument) -> None:
    errors = validate_answers(instrument, {**GOOD, "q9": 3})
    assert errors == {"q9": "is not an item of demo-c 1.0"}


def test_every_problem_is_reported_at_once(instrument: Instrument) -> None:
    errors = validate_answers(instrument, {"q1": "1", "q2": 9, "zz": 1})
    assert sorted(errors) == ["q1", "q2", "q3", "zz"]


@pytest.mark.parametrize(
    ("answers", "shown"),
    [([1, 2, 3], "[1, 2, 3]"), (None, "null"), ("q1=3", '"q1=3"'), (5, "5")],
)
def test_answers_must_be_an_object(
    instrument: Instrument, answers: object, shown: str
) -> None:
    assert validate_answers(instrument, answers) == {
        WHOLE_ANSWERS: f"must be an object of item ids to integers (got {shown})"
    }


def test_long_values_are_cut_short_in_messages(instrument: Instrument) -> None:
    message = validate_answers(instrument, {**GOOD, "q3": "x" * 10_000})["q3"]
    assert message == 'must be an integer between 1 and 5 (got "' + "x" * 36 + "...)"
