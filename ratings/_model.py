"""The data model of instrument definitions: frozen values, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

Perspective = Literal["client", "therapist"]
Kind = Literal["instrument", "template", "meta_perception", "outcome"]
Scoring = Literal["sum", "mean"]

PERSPECTIVES: Final[tuple[Perspective, ...]] = ("client", "therapist")
KINDS: Final[tuple[Kind, ...]] = (
    "instrument",
    "template",
    "meta_perception",
    "outcome",
)
SCORINGS: Final[tuple[Scoring, ...]] = ("sum", "mean")


class InstrumentError(Exception):
    """An instrument definition, a directory of them or a licensed items file is bad.

    The message names the file, then the place in it when there is one (``item
    'q3'``, ``subscale 'bond'``, ``[scale]``), then what is wrong, e.g.
    ``config/instruments/x.toml: item 'q3': 'subscale' must be one of ['goal',
    'task'] (got 'bnd')``. The parts are also kept as ``path``, ``where`` and
    ``problem``.
    """

    def __init__(self, path: str, problem: str, where: str | None = None) -> None:
        self.path = path
        self.problem = problem
        self.where = where
        place = f"{where}: " if where else ""
        super().__init__(f"{path}: {place}{problem}")


class InstrumentNotFound(LookupError):
    """No instrument with the requested id (and version) is registered."""


@dataclass(frozen=True)
class Scale:
    """The default response scale: integers ``min``..``max`` with optional labels."""

    min: int
    max: int
    anchors: Mapping[int, str]


@dataclass(frozen=True)
class Subscale:
    """A scored group of items, e.g. Bordin's goal, task and bond.

    ``in_total`` false: the subscale is scored on its own but left out of the
    total (e.g. the DTA's digital-medium subscale, so totals compare across
    modalities, in-person included)."""

    id: str
    label: str
    in_total: bool = True


@dataclass(frozen=True)
class Item:
    """One question. ``min``, ``max`` and ``anchors`` are resolved: the item's own
    values where the definition overrides the scale, else the scale's."""

    id: str
    subscale: str
    text: str
    min: int
    max: int
    anchors: Mapping[int, str]
    reversed: bool = False
    optional: bool = False


@dataclass(frozen=True)
class Band:
    """A severity band of an outcome measure's total: ``min``..``max`` inclusive."""

    id: str
    label: str
    min: int
    max: int


@dataclass(frozen=True)
class FlagRule:
    """A safety rule of an outcome measure: raised when ``item``'s answer is above
    ``above`` (PHQ-9: item 9, thoughts of self-harm, above 0)."""

    id: str
    item: str
    above: int
    label: str


@dataclass(frozen=True)
class Instrument:
    """One validated form: a showable instrument, a text-less template or a
    meta-perception set. ``source`` is where it was read from (for messages)."""

    id: str
    version: str
    title: str
    perspective: Perspective
    kind: Kind
    licence: str
    validated: bool
    scale: Scale
    scoring: Scoring
    max_missing_per_subscale: int
    subscales: tuple[Subscale, ...]
    items: tuple[Item, ...]
    pair: str | None = None
    notes: str = ""
    # Kind "outcome" only: the question stem, the severity bands, the safety rules
    instructions: str = ""
    bands: tuple[Band, ...] = ()
    flags: tuple[FlagRule, ...] = ()
    source: str = field(default="", compare=False)

    @property
    def is_showable(self) -> bool:
        """True when the form may be shown to a rater: never for a template, and
        never while any item lacks its text."""
        return self.kind != "template" and all(item.text for item in self.items)

    @property
    def origin(self) -> str:
        """The file it came from, or ``<id version>`` when built in memory."""
        return self.source or f"<{self.id} {self.version}>"

    def item(self, item_id: str) -> Item:
        """The item with this id; raises ``KeyError`` when there is none."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def items_in(self, subscale_id: str) -> tuple[Item, ...]:
        """The items of one subscale, in form order."""
        return tuple(item for item in self.items if item.subscale == subscale_id)

    def form_dict(self) -> dict[str, object]:
        """The JSON shape the rating form is served in (see docs/ratings.md, ``GET
        /api/v1/sessions/{id}/rating``): anchors keyed by the value written as a string."""
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "perspective": self.perspective,
            "subscales": [
                {"id": s.id, "label": s.label, "in_total": s.in_total}
                for s in self.subscales
            ],
            "items": [
                {
                    "id": item.id,
                    "text": item.text,
                    "subscale": item.subscale,
                    "min": item.min,
                    "max": item.max,
                    "anchors": {str(k): v for k, v in item.anchors.items()},
                    "optional": item.optional,
                }
                for item in self.items
            ],
        }
