"""The ``dyadic`` export: one row per session, both perspectives, ready for lme4,
statsmodels MixedLM and actor–partner models.

Person-mean centring (dyad mean and within-dyad deviation) separates between-dyad
from within-dyad effects; the lagged columns hold the dyad's previous session; the
outcome columns the client's questionnaire totals before this session and before the
next (outcome_rows.py). Columns and their meanings: columns.dyadic().
"""

import statistics
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from . import columns as export_columns
from .rows import PairRow


def dyadic_columns() -> list[str]:
    return [c.name for c in export_columns.dyadic()]


def _values(r: PairRow) -> dict[str, float | None]:
    return {
        "client_score": r.client.total,
        "therapist_score": r.therapist.total,
        "difference": r.difference,
    }


def _means(rows: list[PairRow]) -> dict[str, dict[str, float | None]]:
    """Dyad pseudonym -> score name -> mean of the dyad's non-blank values."""
    found: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        for name, value in _values(r).items():
            if value is not None:
                found[r.dyad_pid][name].append(value)
    return {
        dyad: {
            name: statistics.fmean(by_name[name]) if by_name.get(name) else None
            for name in export_columns.CENTRED
        }
        for dyad, by_name in found.items()
    }


def _cell(value: Any) -> Any:
    return "" if value is None else value


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def dyadic_rows(rows: list[PairRow]) -> Iterable[list[Any]]:
    """The cells of each row, in the order of dyadic_columns()."""
    means = _means(rows)
    by_number = {(r.dyad_pid, r.session_number): r for r in rows}
    for r in rows:
        values = _values(r)
        mean = means.get(r.dyad_pid, {})
        centred = []
        for name in export_columns.CENTRED:
            centred += [
                _cell(mean.get(name)),
                _cell(_minus(values[name], mean.get(name))),
            ]
        before = by_number.get((r.dyad_pid, r.session_number - 1))
        lags = [
            _cell(_values(before)[name]) if before else ""
            for name in export_columns.CENTRED
        ]
        outcomes = []
        for measure in export_columns.OUTCOME_MEASURES:
            outcomes += [
                _cell(r.outcomes.get(measure)),
                _cell(r.next_outcomes.get(measure)),
            ]
        ids = [r.session_pid, r.dyad_pid, r.therapist_pid, r.session_number]
        ids.append(_cell(r.week))
        yield [
            *ids,
            r.modality,
            r.instrument,
            *(_cell(v) for v in values.values()),
            *centred,
            *lags,
            *outcomes,
        ]
