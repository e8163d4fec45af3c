"""Plumbing shared by the statistics helpers: the null-with-reason scheme and JSON cleaning.

Scheme (documented in docs/research.md): every JSON object that carries a ``reasons`` key is a
*block*. A value that the data cannot support is ``null``, and the nearest enclosing block's
``reasons`` maps the value's dotted path (relative to that block) -- or a prefix of it -- to a
sentence saying why. Keys never disappear.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

Json = dict[str, Any]
Reasons = dict[str, str]

#: Inferential statistics need at least this many pairs; fewer give a reason, not a number.
MIN_PAIRS = 3
CI_LEVEL = 0.95
NOT_FINITE = "undefined for these data (the computation gave no finite number)"


class Plain(list[Any]):
    """A list of records already holding only JSON-safe plain values (finite floats, ints,
    strings); finalize() passes it through without walking it (large event lists)."""


def records(frame: pd.DataFrame) -> Plain:
    """Rows of ``frame`` as dicts of plain Python values; the caller guarantees finiteness."""
    columns = [frame[c].to_numpy().tolist() for c in frame.columns]
    return Plain(
        dict(zip(frame.columns, row, strict=True)) for row in zip(*columns, strict=True)
    )


class Unsupported(Exception):
    """The data cannot support a statistic; the message is the reason shown to researchers."""


def attempt(
    block: Json, key: str, empty: Any, compute: Callable[[Reasons], Any]
) -> None:
    """Store ``compute(reasons)`` under ``key``; on Unsupported store ``empty`` and the reason.

    ``compute`` may record reasons for parts of its result in the dict it receives; they are
    added to the block's reasons under ``key.<path>``.
    """
    inner: Reasons = {}
    try:
        block[key] = compute(inner)
    except Unsupported as exc:
        block[key] = empty
        inner = {"": str(exc)}
    reasons = block.setdefault("reasons", {})
    for path, reason in inner.items():
        reasons[f"{key}.{path}" if path else key] = reason


def require(condition: object, reason: str) -> None:
    """Raise Unsupported(reason) unless ``condition`` holds."""
    if not condition:
        raise Unsupported(reason)


def require_pairs(n: int, minimum: int = MIN_PAIRS) -> None:
    """Raise Unsupported unless there are at least ``minimum`` pairs."""
    require(n >= minimum, f"needs at least {minimum} pairs (got {n})")


def num(value: Any) -> float | None:
    """A plain float, or None for NaN/inf (finalize() then adds a reason)."""
    result = float(value)
    return result if math.isfinite(result) else None


def pair(values: Any) -> list[float | None]:
    """A confidence interval as a two-element list of plain floats."""
    low, high = values
    return [num(low), num(high)]


def nulls(*keys: str) -> Json:
    """An object with every key set to None (the shape of a statistic that cannot be given)."""
    return dict.fromkeys(keys)


def finalize(block: Mapping[str, Any]) -> Json:
    """A JSON-safe copy: plain Python types, NaN/inf as null with a reason, sorted reasons."""
    reasons: Reasons = dict(block.get("reasons", {}))
    out: Json = {}
    for key, value in block.items():
        if key != "reasons":
            out[str(key)] = _clean(value, str(key), reasons)
    out["reasons"] = dict(sorted(reasons.items()))
    return out


def _clean(value: Any, path: str, reasons: Reasons) -> Any:
    if isinstance(value, Plain):
        return list(value)
    if isinstance(value, Mapping):
        if "reasons" in value:
            return finalize(value)
        return {str(k): _clean(v, f"{path}.{k}", reasons) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_clean(v, f"{path}.{i}", reasons) for i, v in enumerate(value)]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        result = float(value)
        if math.isfinite(result):
            return result
        value = None
    if value is None or value is pd.NA:
        if not covered(path, reasons):
            reasons[path] = NOT_FINITE
        return None
    if isinstance(value, str):
        return value
    return str(value)


def covered(path: str, reasons: Mapping[str, str]) -> bool:
    """True when ``reasons`` explains ``path`` itself or one of its parents."""
    return any(path == key or path.startswith(key + ".") for key in reasons)
