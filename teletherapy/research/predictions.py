"""The therapist's meta-perception answers as a predicted client total.

A therapist may answer the meta-perception set of the client's form (a form of kind
``meta_perception`` whose ``pair`` is the client form): how they think the client
rated the session. Research compares that prediction with the client's actual total,
so it is scored here, at read time, on the **client form's total scale**
(docs/research.md, "The therapist's prediction"):

- A set made of the client form's own items (same item ids) is scored with the
  client form itself (``ratings.score``): its reversal, sum or mean, and its
  missing-item rule.
- A set with one item per subscale (``dta-meta``: "how do you think your client
  rated the goals?") is scored by its own rules (its missing-item rule decides
  whether a subscale has a score), and each subscale's item mean stands for every
  item of the client's subscale of the same id, moved linearly from the set's item
  range to each client item's range; the client form's scoring (sum or mean over
  the subscales it counts in its total) then gives the total.

Anything else is no prediction (``None``): answers that fit neither, a subscale of
the client's total with no score, or a form the registry does not hold.
"""

from collections.abc import Mapping
from typing import Any

from ratings import Instrument, InstrumentNotFound, Registry, ScoringError, score

__all__ = ["meta_form", "predicted_client_total"]


def meta_form(
    registry: Registry, client: Instrument, answered: set[str]
) -> Instrument | None:
    """The latest meta-perception set of this client form holding every answered item."""
    sets = [
        form
        for form in registry.meta_sets(client.id)
        if answered <= {item.id for item in form.items}
    ]
    return sets[-1] if sets else None  # oldest first: the latest is last


def predicted_client_total(
    registry: Registry | None,
    client_form: tuple[str, str],
    answers: Mapping[str, Any] | None,
) -> float | None:
    """The prediction on the client form ``(id, version)``'s total scale, or None."""
    if not answers or registry is None:
        return None
    clean = {str(k): v for k, v in answers.items()}
    try:
        client = registry.get(*client_form)
    except InstrumentNotFound:
        return None
    if set(clean) <= {item.id for item in client.items}:
        return _scored(client, clean)
    meta = meta_form(registry, client, set(clean))
    return None if meta is None else _restated(client, meta, clean)


def _scored(form: Instrument, answers: Mapping[str, Any]) -> float | None:
    try:
        return score(form, answers).total
    except ScoringError:
        return None


def _restated(
    client: Instrument, meta: Instrument, answers: Mapping[str, Any]
) -> float | None:
    """Per subscale item means of the meta set, restated as the client's total."""
    try:
        scores = score(meta, answers)
    except ScoringError:
        return None
    keyed: list[float] = []  # one predicted keyed value per counted client item
    for sub in client.subscales:
        if not sub.in_total:
            continue
        position = _position(meta, sub.id, scores.subscales.get(sub.id))
        if position is None:
            return None
        keyed += [i.min + position * (i.max - i.min) for i in client.items_in(sub.id)]
    if not keyed:
        return None
    total = sum(keyed) if client.scoring == "sum" else sum(keyed) / len(keyed)
    return round(total, 6)


def _position(meta: Instrument, subscale: str, value: float | None) -> float | None:
    """Where the meta subscale's item mean lies on its item range, 0 to 1."""
    items = meta.items_in(subscale)
    if value is None or not items:
        return None
    low, high = {i.min for i in items}, {i.max for i in items}
    if len(low) != 1 or len(high) != 1 or min(high) <= min(low):
        return None  # items on different ranges: no single item mean to restate
    mean = value if meta.scoring == "mean" else value / len(items)
    return (mean - min(low)) / (min(high) - min(low))
