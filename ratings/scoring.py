"""Answer validation and scoring of instrument ratings. Pure: standard library only.

Scoring rules and their sources:

- Reverse keying: a reversed item scores ``min + max - x`` on its own range, the
  usual Likert convention (e.g. the negatively worded ARM items, Agnew-Davies et
  al. 1998).
- ``"sum"``: a subscale is the sum of its items and the total the sum of the
  subscales, as in the WAI-SR (Hatcher & Gillaspy 2006, *Psychotherapy Research*
  16:12-25: totals 12-60, subscales 4-20).
- ``"mean"``: subscale and total are item means, as in the ARM and ARM-5/12
  (Agnew-Davies et al. 1998; Cahill et al. 2012).
- A subscale marked ``in_total = false`` is scored but left out of the total (sum
  or mean), and its missing score does not void the total.
- Missing answers are prorated within a subscale (person-mean imputation): when at
  most ``max_missing_per_subscale`` items of a subscale are unanswered, each missing
  item counts as the mean of the answered ones, so a sum becomes mean x n. This is
  the SF-36 "half-scale rule" generalised to a set limit (Ware et al. 1993), and is
  defensible for a few items of a unidimensional subscale (Fox-Wasylyshyn &
  El-Masri 2005, *Research in Nursing & Health* 28:488-495). With more missing, the
  subscale has no score, and neither has the total.

Arithmetic is exact (fractions) and rounded once, to a float, at the end.

Outcome measures (kind ``"outcome"``: PHQ-9, Kroenke, Spitzer & Williams 2001;
GAD-7, Spitzer et al. 2006) are scored by ``score_outcome``: the integer sum of
complete answers, the severity band it falls in, and the safety flags raised.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import cast

from ._model import Band, Instrument, Item

__all__ = [
    "WHOLE_ANSWERS",
    "OutcomeScore",
    "Scores",
    "ScoringError",
    "band_of",
    "score",
    "score_outcome",
    "validate_answers",
]

WHOLE_ANSWERS = ""
"""The key ``validate_answers`` uses for a problem with the answers object itself."""


class ScoringError(ValueError):
    """``score`` got answers it cannot score; ``errors`` maps item id to message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        detail = "; ".join(
            f"{key or 'answers'}: {msg}" for key, msg in self.errors.items()
        )
        super().__init__(f"cannot score these answers: {detail}")


@dataclass(frozen=True)
class Scores:
    """Scores of one rating. ``None`` means "not scorable": too many answers missing.

    ``prorated`` names the subscales whose score includes prorated answers.
    """

    total: float | None
    subscales: dict[str, float | None]
    prorated: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        """JSON shape, as stored and served: ``{"total", "subscales", "prorated"}``."""
        return {
            "total": self.total,
            "subscales": dict(self.subscales),
            "prorated": list(self.prorated),
        }


def validate_answers(instrument: Instrument, answers: object) -> dict[str, str]:
    """Check submitted answers; return {item id: message}, empty when all is well.

    ``answers`` must be a dict of item id to a JSON integer within the item's range
    (``bool``, ``float``, ``str`` and ``None`` are rejected), with an answer for
    every item not marked optional and no unknown ids. A problem with the object
    itself is reported under the key ``WHOLE_ANSWERS`` (``""``). Messages read
    ``must be an integer between 1 and 5 (got 7)``.
    """
    if not isinstance(answers, dict):
        got = _show(answers)
        return {WHOLE_ANSWERS: f"must be an object of item ids to integers (got {got})"}
    return _problems(instrument, answers, require_all=True, allow_none=False)


def score(instrument: Instrument, answers: Mapping[str, int | None]) -> Scores:
    """Score answers by the instrument's rules (module docstring: reversal, sum or
    mean, prorating). Missing items and ``None`` values count as unanswered; an
    unknown id or an out-of-range or non-integer value raises ScoringError.
    """
    problems = _problems(instrument, answers, require_all=False, allow_none=True)
    if problems:
        raise ScoringError(problems)
    parts: dict[str, tuple[Fraction, int] | None] = {}
    prorated: list[str] = []
    for sub in instrument.subscales:
        items = instrument.items_in(sub.id)
        given = [(item, answers.get(item.id)) for item in items]
        values = [_keyed(item, value) for item, value in given if value is not None]
        missing = len(items) - len(values)
        if not values or missing > instrument.max_missing_per_subscale:
            parts[sub.id] = None
            continue
        if missing:
            prorated.append(sub.id)
        # (prorated sum, item count): the sum stands for all n items.
        parts[sub.id] = (Fraction(sum(values) * len(items), len(values)), len(items))
    return Scores(
        total=_total(instrument, parts),
        subscales={key: _subscale(instrument, part) for key, part in parts.items()},
        prorated=tuple(prorated),
    )


@dataclass(frozen=True)
class OutcomeScore:
    """An outcome measure's score: the total, its severity band and the ids of the
    safety flags raised (PHQ-9: ``("self_harm",)`` when item 9 is above 0)."""

    total: int
    band: Band
    flags: tuple[str, ...]


def score_outcome(instrument: Instrument, answers: object) -> OutcomeScore:
    """Score a complete outcome questionnaire (kind ``"outcome"``).

    The total is the plain sum of the item answers (PHQ-9 0-27, Kroenke, Spitzer &
    Williams 2001; GAD-7 0-21, Spitzer et al. 2006), with no prorating: any missing,
    unknown or out-of-range answer raises ScoringError, as ``validate_answers``
    words it. The band is the one whose ``min..max`` holds the total.
    """
    if instrument.kind != "outcome":
        raise ValueError(f"{instrument.id} is not an outcome measure")
    problems = validate_answers(instrument, answers)
    if problems:
        raise ScoringError(problems)
    given = cast(Mapping[str, int], answers)
    total = sum(given[item.id] for item in instrument.items)
    flags = tuple(rule.id for rule in instrument.flags if given[rule.item] > rule.above)
    return OutcomeScore(total, band_of(instrument, total), flags)


def band_of(instrument: Instrument, total: int) -> Band:
    """The severity band of an outcome measure holding ``total``; raises ValueError
    when none does (a total out of range)."""
    for band in instrument.bands:
        if band.min <= total <= band.max:
            return band
    raise ValueError(f"{instrument.id}: no band holds the total {total}")


def _subscale(
    instrument: Instrument, part: tuple[Fraction, int] | None
) -> float | None:
    if part is None:
        return None
    total, count = part
    return float(total if instrument.scoring == "sum" else total / count)


def _total(
    instrument: Instrument, parts: Mapping[str, tuple[Fraction, int] | None]
) -> float | None:
    counted = [parts[sub.id] for sub in instrument.subscales if sub.in_total]
    present = [part for part in counted if part is not None]
    if len(present) != len(counted):
        return None
    grand = sum((total for total, _ in present), Fraction(0))
    if instrument.scoring == "sum":
        return float(grand)
    return float(grand / sum(count for _, count in present))


def _keyed(item: Item, value: int) -> int:
    return item.min + item.max - value if item.reversed else value


def _problems(
    instrument: Instrument,
    answers: Mapping[str, object] | Mapping[object, object],
    *,
    require_all: bool,
    allow_none: bool,
) -> dict[str, str]:
    problems: dict[str, str] = {}
    for item in instrument.items:
        expected = f"an integer between {item.min} and {item.max}"
        if item.id not in answers:
            if require_all and not item.optional:
                problems[item.id] = f"is required: give {expected}"
            continue
        value = answers[item.id]
        if value is None and allow_none:
            continue
        if not _is_int_in(value, item.min, item.max):
            problems[item.id] = f"must be {expected} (got {_show(value)})"
    known = {item.id for item in instrument.items}
    for key in answers:
        if key not in known:
            name = f"{instrument.id} {instrument.version}"
            problems[str(key)] = f"is not an item of {name}"
    return problems


def _is_int_in(value: object, low: int, high: int) -> bool:
    return (
        isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    )


def _show(value: object) -> str:
    """The value as JSON (``true``, ``"3"``, ``null``), cut short for messages."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
