"""Validation of what kind ``outcome`` adds to a definition: severity bands and
safety flags (docs/instruments.md, "Outcome measures").

Outcome measures (PHQ-9, GAD-7) are summed without prorating: a missing answer
leaves no total (Kroenke, Spitzer & Williams 2001 score only complete forms), so
the schema requires ``scoring = "sum"``, no optional items and no ``[missing]``
allowance, and bands that cover every possible total.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._fields import Invalid, Table, check_keys, get_ident, get_int, get_str, get_tables
from ._model import Band, FlagRule, Item

OUTCOME_ONLY = ("bands", "flags", "instructions")


def check_outcome_kind(data: Table, kind: str) -> None:
    """Keys that only kind "outcome" takes, and what it must not have."""
    if kind != "outcome":
        for key in OUTCOME_ONLY:
            if key in data:
                raise Invalid(
                    f"{key!r} belongs to kind 'outcome' only (got kind {kind!r})"
                )
        return
    if "pair" in data:
        raise Invalid("kind 'outcome' takes no 'pair' (it is not a rating form)")
    if data.get("scoring") != "sum":
        raise Invalid(
            f"kind 'outcome' must be scored by 'sum' (got {data.get('scoring')!r})"
        )
    if "bands" not in data:
        raise Invalid("missing required key 'bands' (required for kind 'outcome')")


def check_outcome_items(items: Sequence[Item], max_missing: int) -> None:
    """Every item answered: no optional items, no prorating."""
    if max_missing:
        raise Invalid(
            f"kind 'outcome' scores complete forms only (got {max_missing})",
            "[missing]",
        )
    for item in items:
        if item.optional:
            raise Invalid("kind 'outcome' has no optional items", f"item {item.id!r}")


def outcome_bands(data: Table, items: Sequence[Item]) -> tuple[Band, ...]:
    """``[[bands]]``, each ``{id, label, min}``: the first starts at the lowest total,
    each later one higher than the one before; a band runs to the next one's min − 1,
    the last to the highest total."""
    low = sum(item.min for item in items)
    high = sum(item.max for item in items)
    entries = get_tables(data, "bands")
    starts: list[tuple[str, str, int]] = []
    for number, entry in enumerate(entries, start=1):
        where = f"band #{number}"
        check_keys(entry, ("id", "label", "min"), (), where)
        band_id = get_ident(entry, "id", where)
        start = get_int(entry, "min", where)
        label = get_str(entry, "label", where)
        if any(band_id == other for other, _, _ in starts):
            raise Invalid(f"duplicate band id {band_id!r}", where)
        if not starts and start != low:
            raise Invalid(
                f"the first band must start at {low}, the lowest total (got {start})",
                where,
            )
        if starts and start <= starts[-1][2]:
            raise Invalid(
                f"'min' must be above the previous band's {starts[-1][2]} (got {start})",
                where,
            )
        if start > high:
            raise Invalid(
                f"'min' must be at most {high}, the highest total (got {start})", where
            )
        starts.append((band_id, label, start))
    ends = [start - 1 for _, _, start in starts[1:]] + [high]
    return tuple(
        Band(band_id, label, start, end)
        for (band_id, label, start), end in zip(starts, ends, strict=True)
    )


def outcome_flags(data: Table, items: Sequence[Item]) -> tuple[FlagRule, ...]:
    """``[[flags]]``, each ``{id, item, above, label}``: raised when that item's
    answer is above ``above``, which must leave at least one answer that raises it."""
    if "flags" not in data:
        return ()
    by_id = {item.id: item for item in items}
    flags: list[FlagRule] = []
    for number, entry in enumerate(get_tables(data, "flags"), start=1):
        where = f"flag #{number}"
        check_keys(entry, ("id", "item", "above", "label"), (), where)
        rule = FlagRule(
            get_ident(entry, "id", where),
            get_str(entry, "item", where),
            get_int(entry, "above", where),
            get_str(entry, "label", where),
        )
        item = by_id.get(rule.item)
        if item is None:
            raise Invalid(
                f"'item' must be one of {list(by_id)} (got {rule.item!r})", where
            )
        if not item.min <= rule.above < item.max:
            raise Invalid(
                f"'above' must be between {item.min} and {item.max - 1} (got {rule.above})",
                where,
            )
        if any(rule.id == other.id for other in flags):
            raise Invalid(f"duplicate flag id {rule.id!r}", where)
        flags.append(rule)
    return tuple(flags)
