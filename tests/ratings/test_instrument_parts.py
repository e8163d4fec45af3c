"""The definition validator, mistakes inside items, [scale], [missing] and
subscales: the message names the file, the place and what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ratings import InstrumentError, load_instrument

Mutation = Callable[[dict[str, Any]], object]


def _item(d: dict[str, Any], item_id: str) -> dict[str, Any]:
    return next(i for i in d["items"] if i["id"] == item_id)


def _set_item(item_id: str, **changes: object) -> Mutation:
    return lambda d: _item(d, item_id).update(changes)


def _drop_item_key(item_id: str, key: str) -> Mutation:
    return lambda d: _item(d, item_id).pop(key)


# (case id, mutation, where (None = file level), expected problem text)
CASES: list[tuple[str, Mutation, str | None, str]] = [
    (
        "missing item key",
        _drop_item_key("q2", "subscale"),
        "item 'q2'",
        "missing required key 'subscale'",
    ),
    (
        "missing scale key",
        lambda d: d["scale"].pop("max"),
        "[scale]",
        "missing required key 'max'",
    ),
    (
        "missing item id",
        _drop_item_key("q3", "id"),
        "item #3",
        "missing required key 'id'",
    ),
    (
        "unknown item key",
        lambda d: _item(d, "q1").update(txt="x"),
        "item 'q1'",
        "unknown key 'txt'",
    ),
    (
        "unknown missing key",
        lambda d: d["missing"].update(max=1),
        "[missing]",
        "unknown key 'max'",
    ),
    (
        "unknown subscale key",
        lambda d: d["subscales"][0].update(weight=2),
        "subscale 'goal'",
        "unknown key 'weight'",
    ),
    (
        "int as string",
        lambda d: d["scale"].update(min="1"),
        "[scale]",
        "'min' must be an integer (got '1')",
    ),
    (
        "bool is no int",
        lambda d: d["scale"].update(max=True),
        "[scale]",
        "'max' must be an integer (got True)",
    ),
    (
        "float is no int",
        _set_item("q4", max=4.5),
        "item 'q4'",
        "'max' must be an integer (got 4.5)",
    ),
    (
        "int is no bool",
        _set_item("q1", reversed=1),
        "item 'q1'",
        "'reversed' must be true or false (got 1)",
    ),
    (
        "text as number",
        _set_item("q2", text=7),
        "item 'q2'",
        "'text' must be a string (got 7)",
    ),
    (
        "bad item id",
        _set_item("q1", id="q 1"),
        "item 'q 1'",
        "'id' must be 1-64 letters",
    ),
    (
        "duplicate item id",
        _set_item("q2", id="q1"),
        "item 'q1'",
        "duplicate item id 'q1'",
    ),
    (
        "duplicate subscale id",
        lambda d: d["subscales"].append({"id": "goal", "label": "G2"}),
        "subscale 'goal'",
        "duplicate subscale id 'goal'",
    ),
    (
        "unknown subscale",
        _set_item("q3", subscale="bnd"),
        "item 'q3'",
        "'subscale' must be one of ['goal', 'task'] (got 'bnd')",
    ),
    (
        "scale min == max",
        lambda d: d["scale"].update(min=5, anchors={}),
        "[scale]",
        "'min' (5) must be less than 'max' (5)",
    ),
    (
        "scale min > max",
        lambda d: d["scale"].update(min=6, anchors={}),
        "[scale]",
        "'min' (6) must be less than 'max' (5)",
    ),
    (
        "item min > max",
        _set_item("q4", min=4, max=2, anchors={}),
        "item 'q4'",
        "'min' (4) must be less than 'max' (2)",
    ),
    (
        "anchor above range",
        lambda d: d["scale"]["anchors"].update({"6": "Beyond"}),
        "[scale]",
        "'anchors' key '6' is outside 1..5",
    ),
    (
        "anchor below range",
        _set_item("q1", anchors={"0": "Zero"}),
        "item 'q1'",
        "'anchors' key '0' is outside 1..5",
    ),
    (
        "inherited anchors outside",
        _set_item("q2", max=3),
        "item 'q2'",
        "anchors inherited from [scale] fall outside 1..3 (keys [5])",
    ),
    (
        "anchor key a word",
        lambda d: d["scale"]["anchors"].update({"one": "x"}),
        "[scale]",
        "keys must be integers written as strings, e.g. \"1\" (got 'one')",
    ),
    (
        "anchor key a decimal",
        _set_item("q3", anchors={"1.5": "x"}),
        "item 'q3'",
        "(got '1.5')",
    ),
    (
        "anchor key zero-padded",
        lambda d: d["scale"]["anchors"].update({"03": "x"}),
        "[scale]",
        "(got '03')",
    ),
    (
        "anchor label empty",
        lambda d: d["scale"]["anchors"].update({"3": ""}),
        "[scale]",
        "'anchors' label for '3' must be text",
    ),
    (
        "anchors not table",
        lambda d: d["scale"].update(anchors=["Never"]),
        "[scale]",
        "'anchors' must be a table",
    ),
    (
        "subscale without items",
        lambda d: d["subscales"].append({"id": "bond", "label": "Bond"}),
        "subscale 'bond'",
        "has no items",
    ),
    (
        "instrument item without text",
        _drop_item_key("q3", "text"),
        "item 'q3'",
        "missing 'text' (only templates leave it out; kind 'instrument')",
    ),
    (
        "instrument item blank text",
        _set_item("q4", text="   "),
        "item 'q4'",
        "missing 'text'",
    ),
    (
        "template with text",
        lambda d: d.update(kind="template"),
        "item 'q1'",
        "a template must not contain item text",
    ),
    (
        "negative missing rule",
        lambda d: d["missing"].update(max_missing_per_subscale=-1),
        "[missing]",
        "must be 0 or more (got -1)",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "where", "problem"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_part_is_rejected_naming_file_place_and_problem(
    definition: dict[str, Any],
    write: Callable[..., Path],
    mutate: Mutation,
    where: str | None,
    problem: str,
) -> None:
    mutate(definition)
    path = write(definition, "broken.toml")
    with pytest.raises(InstrumentError) as caught:
        load_instrument(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert problem in message
    assert caught.value.where == where
    if where is not None:
        assert message.startswith(f"{path}: {where}: ")


def test_item_overrides_scale_range_and_anchors(
    definition: dict[str, Any], write: Callable[..., Path]
) -> None:
    definition["items"][0].update(min=0, max=10, anchors={"0": "None", "10": "All"})
    definition["items"][1].update(max=4, anchors={})
    instrument = load_instrument(write(definition, "ok.toml"))
    q1, q2, q3 = instrument.items[:3]
    assert (q1.min, q1.max, dict(q1.anchors)) == (0, 10, {0: "None", 10: "All"})
    assert (q2.min, q2.max, dict(q2.anchors)) == (1, 4, {})
    assert (q3.min, q3.max, dict(q3.anchors)) == (1, 5, {1: "Never", 5: "Always"})


def test_optional_keys_take_their_defaults(
    definition: dict[str, Any], write: Callable[..., Path]
) -> None:
    del definition["missing"]
    instrument = load_instrument(write(definition, "ok.toml"))
    assert instrument.max_missing_per_subscale == 0
    assert instrument.notes == ""
    assert not any(item.reversed or item.optional for item in instrument.items)


def test_meta_perception_set_needs_no_pair(
    definition: dict[str, Any], write: Callable[..., Path]
) -> None:
    definition.update(kind="meta_perception", perspective="therapist")
    del definition["pair"]
    instrument = load_instrument(write(definition, "meta.toml"))
    assert instrument.pair is None
    assert instrument.is_showable


def test_template_without_text_loads_but_is_not_showable(
    definition: dict[str, Any], write: Callable[..., Path]
) -> None:
    definition["kind"] = "template"
    for item in definition["items"]:
        item.pop("text")
    definition["items"][0]["text"] = ""  # empty text is the same as none
    template = load_instrument(write(definition, "tpl.toml"))
    assert template.kind == "template"
    assert not template.is_showable
    assert all(item.text == "" for item in template.items)


def test_anchor_labels_are_sorted_by_value(
    definition: dict[str, Any], write: Callable[..., Path]
) -> None:
    definition["scale"]["anchors"] = {"5": "Always", "1": "Never", "3": "Half"}
    instrument = load_instrument(write(definition, "ok.toml"))
    assert list(instrument.scale.anchors) == [1, 3, 5]
