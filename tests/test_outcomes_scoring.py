"""PHQ-9 and GAD-7 as shipped: text, scoring, severity bands and the item-9 flag,
against cases worked by hand from Kroenke, Spitzer & Williams 2001 (PHQ-9) and
Spitzer et al. 2006 (GAD-7). Pure: no app."""

from pathlib import Path

import pytest

from ratings import (
    InstrumentError,
    Registry,
    ScoringError,
    load_directory,
    parse_instrument,
    score_outcome,
)

SHIPPED = Path(__file__).resolve().parent.parent / "config" / "instruments"
RESPONSES = {
    0: "Not at all",
    1: "Several days",
    2: "More than half the days",
    3: "Nearly every day",
}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_directory(SHIPPED)


def _answers(*values: int) -> dict[str, int]:
    return {f"q{n}": v for n, v in enumerate(values, start=1)}


def test_both_measures_ship_as_outcomes_with_their_text(registry: Registry) -> None:
    phq9, gad7 = registry.latest("phq9"), registry.latest("gad7")
    assert [m.id for m in registry.outcomes()] == ["gad7", "phq9"]
    assert (len(phq9.items), len(gad7.items)) == (9, 7)
    for form in (phq9, gad7):
        assert form.kind == "outcome" and form.perspective == "client"
        assert form.pair is None and form.is_showable
        assert "over the last 2 weeks" in form.instructions.lower()
        assert all(dict(item.anchors) == RESPONSES for item in form.items)
        assert "No permission required" in form.licence
    assert phq9.item("q9").text.startswith("Thoughts that you would be better off dead")
    assert gad7.item("q1").text == "Feeling nervous, anxious, or on edge"


@pytest.mark.parametrize(
    ("values", "total", "band"),
    [
        # hand-worked sums; each band's two edges (0-4, 5-9, 10-14, 15-19, 20-27)
        ((0, 0, 0, 0, 0, 0, 0, 0, 0), 0, "none_minimal"),
        ((1, 1, 1, 1, 0, 0, 0, 0, 0), 4, "none_minimal"),
        ((1, 1, 1, 1, 1, 0, 0, 0, 0), 5, "mild"),
        ((3, 3, 3, 0, 0, 0, 0, 0, 0), 9, "mild"),
        ((2, 2, 2, 2, 2, 0, 0, 0, 0), 10, "moderate"),
        ((2, 2, 2, 2, 2, 2, 2, 0, 0), 14, "moderate"),
        ((3, 3, 3, 3, 3, 0, 0, 0, 0), 15, "moderately_severe"),
        ((3, 3, 3, 3, 3, 2, 2, 0, 0), 19, "moderately_severe"),
        ((3, 3, 3, 3, 3, 3, 2, 0, 0), 20, "severe"),
        ((3, 3, 3, 3, 3, 3, 3, 3, 3), 27, "severe"),
        ((0, 1, 2, 3, 0, 1, 2, 3, 0), 12, "moderate"),
    ],
)
def test_phq9_totals_and_bands(registry: Registry, values, total, band) -> None:  # type: ignore[no-untyped-def]
    scored = score_outcome(registry.latest("phq9"), _answers(*values))
    assert (scored.total, scored.band.id) == (total, band)


@pytest.mark.parametrize(
    ("values", "total", "band"),
    [
        ((0, 0, 0, 0, 0, 0, 0), 0, "minimal"),
        ((1, 1, 1, 1, 0, 0, 0), 4, "minimal"),
        ((1, 1, 1, 1, 1, 0, 0), 5, "mild"),
        ((3, 3, 3, 0, 0, 0, 0), 9, "mild"),
        ((2, 2, 2, 2, 2, 0, 0), 10, "moderate"),
        ((2, 2, 2, 2, 2, 2, 2), 14, "moderate"),
        ((3, 3, 3, 3, 3, 0, 0), 15, "severe"),
        ((3, 3, 3, 3, 3, 3, 3), 21, "severe"),
    ],
)
def test_gad7_totals_and_bands(registry: Registry, values, total, band) -> None:  # type: ignore[no-untyped-def]
    scored = score_outcome(registry.latest("gad7"), _answers(*values))
    assert (scored.total, scored.band.id) == (total, band)


@pytest.mark.parametrize(
    ("item9", "flags"), [(0, ()), (1, ("self_harm",)), (3, ("self_harm",))]
)
def test_phq9_item9_above_zero_raises_the_flag(
    registry: Registry, item9, flags
) -> None:  # type: ignore[no-untyped-def]
    scored = score_outcome(
        registry.latest("phq9"), _answers(0, 0, 0, 0, 0, 0, 0, 0, item9)
    )
    assert scored.flags == flags
    assert scored.total == item9  # the flag is beside the total, never instead of it


def test_gad7_raises_no_flag(registry: Registry) -> None:
    assert (
        score_outcome(registry.latest("gad7"), _answers(3, 3, 3, 3, 3, 3, 3)).flags
        == ()
    )


@pytest.mark.parametrize(
    ("answers", "key", "message"),
    [
        (
            _answers(1, 1, 1, 1, 1, 1, 1, 1),
            "q9",
            "is required: give an integer between 0 and 3",
        ),
        ({**_answers(1, 1, 1, 1, 1, 1, 1, 1), "q9": None}, "q9", "got null"),
        (
            {**_answers(1, 1, 1, 1, 1, 1, 1, 1, 1), "q3": 4},
            "q3",
            "between 0 and 3 (got 4)",
        ),
        ({**_answers(1, 1, 1, 1, 1, 1, 1, 1, 1), "q3": "2"}, "q3", '(got "2")'),
        (
            {**_answers(1, 1, 1, 1, 1, 1, 1, 1, 1), "q10": 1},
            "q10",
            "is not an item of phq9",
        ),
        ("not answers", "", "must be an object"),
    ],
)
def test_missing_or_bad_answers_are_refused(
    registry: Registry, answers, key, message
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ScoringError) as caught:
        score_outcome(registry.latest("phq9"), answers)
    assert message in caught.value.errors[key]


def test_a_rating_form_is_not_scored_as_an_outcome(registry: Registry) -> None:
    with pytest.raises(ValueError, match="not an outcome measure"):
        score_outcome(registry.latest("dta-c"), {})


OUTCOME = """
id = "x"
version = "1.0"
title = "X"
perspective = "client"
kind = "outcome"
licence = "test"
validated = false
scoring = "sum"
{extra}
[scale]
min = 0
max = 3
[[subscales]]
id = "total"
label = "Total"
[[items]]
id = "a"
subscale = "total"
text = "A"
[[items]]
id = "b"
subscale = "total"
text = "B"
{bands}
"""
BANDS = (
    '[[bands]]\nid = "low"\nlabel = "Low"\nmin = 0\n'
    '[[bands]]\nid = "high"\nlabel = "High"\nmin = 3\n'
)


def test_bands_cover_every_total() -> None:
    form = parse_instrument(OUTCOME.format(extra="", bands=BANDS))
    assert [(b.id, b.min, b.max) for b in form.bands] == [("low", 0, 2), ("high", 3, 6)]


@pytest.mark.parametrize(
    ("extra", "bands", "message"),
    [
        ('pair = "y"', BANDS, "kind 'outcome' takes no 'pair'"),
        ("", "", "missing required key 'bands'"),
        (
            "",
            BANDS.replace("min = 0", "min = 1"),
            "band #1: the first band must start at 0",
        ),
        (
            "",
            BANDS.replace("min = 3", "min = 0"),
            "band #2: 'min' must be above the previous band's 0",
        ),
        ("", BANDS.replace("min = 3", "min = 7"), "'min' must be at most 6"),
        ("", BANDS.replace('"high"', '"low"'), "duplicate band id 'low'"),
        ("[missing]\nmax_missing_per_subscale = 1", BANDS, "complete forms only"),
        (
            "",
            BANDS + '[[flags]]\nid = "f"\nitem = "c"\nabove = 0\nlabel = "F"\n',
            "'item' must be one of ['a', 'b']",
        ),
        (
            "",
            BANDS + '[[flags]]\nid = "f"\nitem = "a"\nabove = 3\nlabel = "F"\n',
            "'above' must be between 0 and 2",
        ),
    ],
)
def test_validator_rejects_bad_outcome_definitions(extra, bands, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InstrumentError) as caught:
        parse_instrument(OUTCOME.format(extra=extra, bands=bands))
    assert message in str(caught.value)


def test_bands_belong_to_outcomes_only() -> None:
    text = OUTCOME.format(extra='pair = "y"', bands=BANDS).replace(
        '"outcome"', '"instrument"'
    )
    with pytest.raises(InstrumentError, match="'bands' belongs to kind 'outcome' only"):
        parse_instrument(text)
