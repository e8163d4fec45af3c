"""Small cells: no research slice of fewer than RESEARCH_MIN_CELL dyads, no day dates.

A summary, plot, list of pairs or export of a handful of dyads can point at a
person (the only client of one therapist in one month). So every research read
counts the dyads of its slice and refuses one with fewer than the minimum (an
empty slice shows nothing and passes), and date filters select whole ISO weeks
(``from`` a Monday, ``to`` a Sunday): a one-day range, or two overlapping ranges
set a day apart, would otherwise date sessions more finely than the ISO week the
exports give (docs/research.md, "Small cells").
"""

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Protocol

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
