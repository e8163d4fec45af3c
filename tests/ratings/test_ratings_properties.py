"""Properties of scoring and of the definition writer, over generated instruments."""

from __future__ import annotations

from types import MappingProxyType

from hypothesis import given, settings
from hypothesis import strategies as st

from ratings import (
    Instrument,
    Item,
    Scale,
    Subscale,
    dump_instrument,
    parse_instrument,
    score,
    validate_answers,
)

# No example database: it would leave a .hypothesis/ directory in the repository.
SETTINGS = settings(database=None, max_examples=150, deadline=None)

texts = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40)
clean_texts = texts.map(str.strip).filter(bool)
PLAIN_TEXT = st.just("Template item text")


@st.composite
def instruments(
    draw: st.DrawFn, item_text: st.SearchStrategy[str] = PLAIN_TEXT
) -> Instrument:
    n_subscales = draw(st.integers(1, 4))
    items: list[Item] = []
    for s in range(n_subscales):
        for i in range(draw(st.integers(1, 5))):
            low = draw(st.integers(-3, 3))
            high = low + draw(st.integers(1, 9))
            items.append(
                Item(
                    id=f"s{s}-i{i}",
                    subscale=f"s{s}",
                    text=draw(item_text),
                    min=low,
                    max=high,
                    anchors=MappingProxyType({low: draw(clean_texts)}),
                    reversed=draw(st.booleans()),
                    optional=draw(st.booleans()),
                )
            )
    return Instrument(
        id="prop",
        version="1.0",
        title=draw(clean_texts),
        perspective=draw(st.sampled_from(["client", "therapist"])),
        kind="meta_perception",
        licence=draw(clean_texts),
        validated=draw(st.booleans()),
        scale=Scale(1, 5, MappingProxyType({1: "Low", 5: "High"})),
        scoring=draw(st.sampled_from(["sum", "mean"])),
        max_missing_per_subscale=draw(st.integers(0, 3)),
        subscales=tuple(Subscale(f"s{s}", f"S{s}") for s in range(n_subscales)),
        items=tuple(items),
        notes=draw(st.one_of(st.just(""), clean_texts)),
    )


@st.composite
def answered(draw: st.DrawFn, missing: bool) -> tuple[Instrument, dict[str, int]]:
    instrument = draw(instruments())
    answers = {
        item.id: draw(st.integers(item.min, item.max))
        for item in instrument.items
        if not (missing and draw(st.booleans()))
    }
    return instrument, answers


def _bounds(instrument: Instrument, subscale: str) -> tuple[float, float]:
    items = instrument.items_in(subscale)
    low, high = min(i.min for i in items), max(i.max for i in items)
    if instrument.scoring == "sum":
        return len(items) * low, len(items) * high
    return low, high


@SETTINGS
@given(answered(missing=False))
def test_complete_answers_score_within_the_possible_range(
    case: tuple[Instrument, dict[str, int]],
) -> None:
    instrument, answers = case
    assert validate_answers(instrument, answers) == {}
    result = score(instrument, answers)
    assert result.total is not None
    assert result.prorated == ()
    if instrument.scoring == "sum":
        low = sum(i.min for i in instrument.items)
        high = sum(i.max for i in instrument.items)
    else:
        low = min(i.min for i in instrument.items)
        high = max(i.max for i in instrument.items)
    assert low <= result.total <= high


@SETTINGS
@given(answered(missing=True))
def test_prorated_scores_stay_in_range_and_none_spreads_to_the_total(
    case: tuple[Instrument, dict[str, int]],
) -> None:
    instrument, answers = case
    result = score(instrument, answers)
    for sub in instrument.subscales:
        items = instrument.items_in(sub.id)
        unanswered = sum(1 for item in items if item.id not in answers)
        value = result.subscales[sub.id]
        if unanswered == len(items) or unanswered > instrument.max_missing_per_subscale:
            assert value is None
        else:
            low, high = _bounds(instrument, sub.id)
            assert value is not None and low <= value <= high
            assert (sub.id in result.prorated) == (unanswered > 0)
    assert (result.total is None) == (None in result.subscales.values())


@SETTINGS
@given(answered(missing=True))
def test_flipping_answers_and_reversal_flags_changes_nothing(
    case: tuple[Instrument, dict[str, int]],
) -> None:
    instrument, answers = case
    flipped_items = tuple(
        Item(**{**vars(item), "reversed": not item.reversed})
        for item in instrument.items
    )
    flipped = Instrument(**{**vars(instrument), "items": flipped_items})
    mirrored = {
        key: instrument.item(key).min + instrument.item(key).max - value
        for key, value in answers.items()
    }
    assert score(flipped, mirrored) == score(instrument, answers)


@SETTINGS
@given(instruments(item_text=clean_texts))
def test_dump_then_parse_gives_back_the_same_instrument(instrument: Instrument) -> None:
    assert parse_instrument(dump_instrument(instrument)) == instrument
