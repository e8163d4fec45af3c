"""Validation of one parsed instrument definition (a TOML table) into an Instrument.

Every check raises ``Invalid(problem, where)``; ``build_instrument`` adds the file
name. The format is described in docs/instruments.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from types import MappingProxyType
from typing import Final, cast

from ._fields import (
    Invalid,
    Table,
    check_keys,
    get_bool,
    get_choice,
    get_ident,
    get_int,
    get_str,
    get_table,
    get_tables,
    show,
)
from ._model import (
    KINDS,
    PERSPECTIVES,
    SCORINGS,
    Instrument,
    InstrumentError,
    Item,
    Kind,
    Perspective,
    Scale,
    Scoring,
    Subscale,
)
from ._outcome import (
    OUTCOME_ONLY,
    check_outcome_items,
    check_outcome_kind,
    outcome_bands,
    outcome_flags,
)

TOP_REQUIRED: Final = (
    "id",
    "version",
    "title",
    "perspective",
    "kind",
    "licence",
    "validated",
    "scale",
    "scoring",
    "subscales",
    "items",
)
TOP_OPTIONAL: Final = ("pair", "missing", "notes", *OUTCOME_ONLY)
ITEM_REQUIRED: Final = ("id", "subscale")
ITEM_OPTIONAL: Final = ("text", "reversed", "optional", "min", "max", "anchors")

_VERSION = re.compile(r"[0-9]+(\.[0-9]+)*\Z")
_ANCHOR_KEY = re.compile(r"-?[0-9]+\Z")


def build_instrument(data: Table, source: str) -> Instrument:
    """Validate a parsed definition; raise InstrumentError naming ``source``."""
    try:
        return _instrument(data)
    except Invalid as exc:
        raise InstrumentError(source, exc.problem, exc.where) from None


def version_key(version: str) -> tuple[int, ...]:
    """Sort key of a validated version string: "1.10" comes after "1.9"."""
    return tuple(int(part) for part in version.split("."))


def _instrument(data: Table) -> Instrument:
    check_keys(data, TOP_REQUIRED, TOP_OPTIONAL, None)
    instrument_id = get_ident(data, "id", None)
    version = get_str(data, "version", None)
    if not _VERSION.match(version):
        raise Invalid(f"'version' must look like '1.0' (got {show(version)})")
    kind = cast(Kind, get_choice(data, "kind", KINDS, None))
    check_outcome_kind(data, kind)
    perspective = cast(Perspective, get_choice(data, "perspective", PERSPECTIVES, None))
    scoring = cast(Scoring, get_choice(data, "scoring", SCORINGS, None))
    title = get_str(data, "title", None)
    licence = get_str(data, "licence", None)
    notes = get_str(data, "notes", None, default="", allow_empty=True)
    validated = get_bool(data, "validated", None)
    pair = _pair(data, kind, instrument_id)
    missing = _missing_rule(data)
    scale = _scale(get_table(data, "scale", None))
    subscales = _subscales(data)
    items = _items(data, kind, scale, subscales)
    for sub in subscales:
        if not any(item.subscale == sub.id for item in items):
            raise Invalid("has no items", f"subscale {sub.id!r}")
    if kind == "outcome":
        check_outcome_items(items, missing)
    return Instrument(
        id=instrument_id,
        version=version,
        title=title,
        perspective=perspective,
        kind=kind,
        licence=licence,
        validated=validated,
        scale=scale,
        scoring=scoring,
        max_missing_per_subscale=missing,
        subscales=subscales,
        items=items,
        pair=pair,
        notes=notes,
        instructions=get_str(data, "instructions", None, default="", allow_empty=True),
        bands=outcome_bands(data, items) if kind == "outcome" else (),
        flags=outcome_flags(data, items) if kind == "outcome" else (),
    )


def _pair(data: Table, kind: str, instrument_id: str) -> str | None:
    if "pair" not in data:
        if kind in ("meta_perception", "outcome"):
            return None
        raise Invalid(f"missing required key 'pair' (required for kind {kind!r})")
    pair = get_ident(data, "pair", None)
    if pair == instrument_id:
        raise Invalid(f"'pair' must name another instrument (got its own id {pair!r})")
    return pair


def _missing_rule(data: Table) -> int:
    if "missing" not in data:
        return 0
    where = "[missing]"
    rule = get_table(data, "missing", None)
    check_keys(rule, ("max_missing_per_subscale",), (), where)
    value = get_int(rule, "max_missing_per_subscale", where)
    if value < 0:
        raise Invalid(
            f"'max_missing_per_subscale' must be 0 or more (got {value})", where
        )
    return value


def _scale(data: Table) -> Scale:
    where = "[scale]"
    check_keys(data, ("min", "max"), ("anchors",), where)
    low = get_int(data, "min", where)
    high = get_int(data, "max", where)
    _check_range(where, low, high)
    anchors = _anchors(data["anchors"], low, high, where) if "anchors" in data else {}
    return Scale(low, high, MappingProxyType(anchors))


def _check_range(where: str, low: int, high: int) -> None:
    if low >= high:
        raise Invalid(f"'min' ({low}) must be less than 'max' ({high})", where)


def _anchors(value: object, low: int, high: int, where: str) -> dict[int, str]:
    if not isinstance(value, dict):
        raise Invalid(f"'anchors' must be a table (got {show(value)})", where)
    anchors: dict[int, str] = {}
    for key, label in value.items():
        if not _is_anchor_key(key):
            raise Invalid(
                "'anchors' keys must be integers written as strings, e.g. \"1\" "
                f"(got {show(key)})",
                where,
            )
        if not low <= int(key) <= high:
            raise Invalid(f"'anchors' key {key!r} is outside {low}..{high}", where)
        if not isinstance(label, str) or not label.strip():
            raise Invalid(
                f"'anchors' label for {key!r} must be text (got {show(label)})", where
            )
        anchors[int(key)] = label.strip()
    return dict(sorted(anchors.items()))


def _is_anchor_key(key: object) -> bool:
    return (
        isinstance(key, str) and bool(_ANCHOR_KEY.match(key)) and str(int(key)) == key
    )


def _subscales(data: Table) -> tuple[Subscale, ...]:
    subscales: list[Subscale] = []
    for number, entry in enumerate(get_tables(data, "subscales"), start=1):
        where = _place("subscale", entry, number)
        check_keys(entry, ("id", "label"), ("in_total",), where)
        sub = Subscale(
            get_ident(entry, "id", where),
            get_str(entry, "label", where),
            get_bool(entry, "in_total", where, default=True),
        )
        if any(other.id == sub.id for other in subscales):
            raise Invalid(f"duplicate subscale id {sub.id!r}", where)
        subscales.append(sub)
    if not any(sub.in_total for sub in subscales):
        raise Invalid("at least one subscale must count in the total (in_total)")
    return tuple(subscales)


def _items(
    data: Table, kind: str, scale: Scale, subscales: Sequence[Subscale]
) -> tuple[Item, ...]:
    subscale_ids = [sub.id for sub in subscales]
    items: list[Item] = []
    for number, entry in enumerate(get_tables(data, "items"), start=1):
        where = _place("item", entry, number)
        item = _item(entry, where, kind, scale, subscale_ids)
        if any(other.id == item.id for other in items):
            raise Invalid(f"duplicate item id {item.id!r}", where)
        items.append(item)
    return tuple(items)


def _place(what: str, entry: Table, number: int) -> str:
    """``item 'q3'``, or ``item #3`` when the id itself is missing or not a string."""
    entry_id = entry.get("id")
    return f"{what} {entry_id!r}" if isinstance(entry_id, str) else f"{what} #{number}"


def _item(
    data: Table, where: str, kind: str, scale: Scale, subscale_ids: list[str]
) -> Item:
    check_keys(data, ITEM_REQUIRED, ITEM_OPTIONAL, where)
    item_id = get_ident(data, "id", where)
    subscale = get_str(data, "subscale", where)
    if subscale not in subscale_ids:
        raise Invalid(
            f"'subscale' must be one of {subscale_ids} (got {subscale!r})", where
        )
    text = get_str(data, "text", where, default="", allow_empty=True).strip()
    if kind == "template" and text:
        raise Invalid(
            "a template must not contain item text (import it instead)", where
        )
    if kind != "template" and not text:
        raise Invalid(
            f"missing 'text' (only templates leave it out; kind {kind!r})", where
        )
    low = get_int(data, "min", where) if "min" in data else scale.min
    high = get_int(data, "max", where) if "max" in data else scale.max
    _check_range(where, low, high)
    return Item(
        id=item_id,
        subscale=subscale,
        text=text,
        min=low,
        max=high,
        anchors=MappingProxyType(_item_anchors(data, where, scale, low, high)),
        reversed=get_bool(data, "reversed", where, default=False),
        optional=get_bool(data, "optional", where, default=False),
    )


def _item_anchors(
    data: Table, where: str, scale: Scale, low: int, high: int
) -> dict[int, str]:
    if "anchors" in data:
        return _anchors(data["anchors"], low, high, where)
    outside = [key for key in scale.anchors if not low <= key <= high]
    if outside:
        raise Invalid(
            f"anchors inherited from [scale] fall outside {low}..{high} "
            f"(keys {outside}); give the item its own 'anchors'",
            where,
        )
    return dict(scale.anchors)
