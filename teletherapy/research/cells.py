"""Small cells: no research slice of fewer than RESEARCH_MIN_CELL dyads, no day dates.

A summary, plot, list of pairs or export of a handful of dyads can point at a
person (the only client of one therapist in one month). So every research read
counts the dyads of its slice and refuses one with fewer than the minimum (an
empty slice shows nothing and passes), and date filters select whole ISO weeks
(``from`` a Monday, ``to`` a Sunday): a one-day range, or two overlapping ranges
set a day apart, would otherwise date sessions more finely than the ISO week the
exports give (docs/research.md, "Small cells"). Inside a summary of an accepted
slice, a group block (``by_instrument``, ``by_modality``, also an instrument's own
``by_modality``) of fewer dyads is replaced by a marker (``suppress_small_groups``).
"""

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from ..services.errors import Invalid

WEEKDAYS = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
#: the summary's blocks keyed by a group of the slice; per_subscale is not one (every
#: subscale block covers the block's dyads)
GROUP_BLOCKS = ("by_instrument", "by_modality")


class SmallCell(Invalid):
    """A slice too small to show (422, code ``small_cell``)."""

    code = "small_cell"


class DatedFilters(Protocol):
    @property
    def start(self) -> date | None: ...

    @property
    def end(self) -> date | None: ...


class HasDyad(Protocol):
    @property
    def dyad_pid(self) -> str: ...


class HasGroup(HasDyad, Protocol):
    @property
    def modality(self) -> str: ...


def iso_week(moment: date | datetime | None) -> str | None:
    """``2026-W48``: the ISO week of a date (a datetime's own date, UTC in this app)."""
    if moment is None:
        return None
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def check_dates(filters: DatedFilters) -> None:
    """Refuse a ``from`` that is not a Monday or a ``to`` that is not a Sunday."""
    problems = {}
    if filters.start is not None and filters.start.isoweekday() != 1:
        monday = filters.start - timedelta(days=filters.start.weekday())
        problems["from"] = (
            "must be a Monday: research selects whole ISO weeks, never single days "
            f"(got {filters.start}, a {WEEKDAYS[filters.start.weekday()]}; "
            f"its week begins {monday})"
        )
    if filters.end is not None and filters.end.isoweekday() != 7:
        sunday = filters.end + timedelta(days=6 - filters.end.weekday())
        problems["to"] = (
            "must be a Sunday: research selects whole ISO weeks, never single days "
            f"(got {filters.end}, a {WEEKDAYS[filters.end.weekday()]}; "
            f"its week ends {sunday})"
        )
    if problems:
        raise SmallCell(
            "date filters select whole ISO weeks (Monday to Sunday)", problems
        )


def require_min_cell(rows: Iterable[HasDyad], minimum: int) -> None:
    """Refuse a slice with at least one but fewer than ``minimum`` dyads."""
    dyads = len({r.dyad_pid for r in rows})
    if 0 < dyads < minimum:
        raise SmallCell(
            f"these filters leave {dyads} dyad{'s' if dyads != 1 else ''}; nothing is "
            f"shown for fewer than {minimum} (RESEARCH_MIN_CELL): small groups can "
            "identify people. Widen the filters.",
            {"n_dyads": dyads, "min_cell": minimum},
        )


def suppressed(minimum: int) -> dict[str, Any]:
    """What stands for a group block of too few dyads: never its count or a statistic."""
    return {"suppressed": "small_cell", "n_dyads_below": minimum}


def suppress_small_groups(summary: dict[str, Any], minimum: int) -> dict[str, Any]:
    """Replace, in place, each group block of at least one but fewer than ``minimum``
    dyads by ``suppressed(minimum)``, at every depth (an instrument's ``by_modality``
    too); returns the summary. The slice as a whole passed ``require_min_cell``."""
    by_modality = summary.get("by_modality")
    if isinstance(by_modality, dict):
        small = {
            name
            for name, block in by_modality.items()
            if isinstance(block, dict)
            and isinstance(block.get("n_dyads"), int)
            and 0 < block["n_dyads"] < minimum
        }
        _suppress_model_terms(summary.get("multilevel"), small, minimum)
    for key in GROUP_BLOCKS:
        blocks = summary.get(key)
        if not isinstance(blocks, dict):
            continue
        for name, block in blocks.items():
            if not isinstance(block, dict):
                continue
            dyads = block.get("n_dyads")
            if isinstance(dyads, int) and 0 < dyads < minimum:
                blocks[name] = suppressed(minimum)
            else:
                suppress_small_groups(block, minimum)
    return summary


def _suppress_model_terms(multilevel: object, small: set[str], minimum: int) -> None:
    """In the multilevel models' fixed effects, a small modality's coefficient (with
    the intercept, close to that group's mean difference) is a small cell too: its
    ``modality[...]`` term goes. When the small modality is the reference level (the
    one without a term of its own), the intercept is its estimate and every other
    modality term a contrast with it, so they all go."""
    if not small or not isinstance(multilevel, dict):
        return
    for model in multilevel.values():
        effects = model.get("fixed_effects") if isinstance(model, dict) else None
        if not isinstance(effects, dict):
            continue
        named = {k[len("modality[") : -1] for k in effects if k.startswith("modality[")}
        if not named:
            continue  # no modality term in this model
        reference_is_small = bool(small - named)
        for modality in named:
            if reference_is_small or modality in small:
                effects[f"modality[{modality}]"] = suppressed(minimum)
        if reference_is_small and "Intercept" in effects:
            effects["Intercept"] = suppressed(minimum)


def small_modalities(rows: Iterable[HasGroup], minimum: int) -> set[str]:
    """The modalities of these rows with at least one but fewer than ``minimum`` dyads."""
    dyads: dict[str, set[str]] = {}
    for r in rows:
        dyads.setdefault(r.modality, set()).add(r.dyad_pid)
    return {m for m, found in dyads.items() if 0 < len(found) < minimum}
