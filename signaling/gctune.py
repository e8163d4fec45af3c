"""Garbage-collector settings for a process that holds thousands of sockets.

CPython's full collection walks every tracked object, so its pause grows with the
number of open sockets (about 200 objects each): measured at 2,000 sockets it
stalled the whole gevent process for 0.5–1 s every few seconds, which is the
relay p99 (docs/performance.md). Two settings shrink it, applied once, when the
first socket connects (imports and the app are built by then):

- ``gc.freeze()`` moves everything that exists then (modules, the app, SQLAlchemy
  metadata) to the permanent generation, which collections never walk again;
- a larger first-generation threshold lets short-lived objects of in-flight
  events die by reference count before a collection promotes them, so full
  collections come far less often.

Config: ``SIGNALING_GC_TUNING`` (default: on when ``ASYNC_MODE`` is ``gevent``,
the serving mode; the test suite's threading apps leave the collector alone) and
``SIGNALING_GC_THRESHOLD`` (three integers, default ``50000,20,100``).
"""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DEFAULT_THRESHOLD = (50_000, 20, 100)


@dataclass(frozen=True)
class GcTuning:
    """What to do to the collector when the first socket connects."""

    enabled: bool
    threshold: tuple[int, int, int] = DEFAULT_THRESHOLD

    def apply(self) -> None:
        """Freeze what exists and raise the thresholds (once per process)."""
        if not self.enabled:
            return
        gc.collect()  # free startup garbage rather than freeze it
        gc.freeze()
        gc.set_threshold(*self.threshold)


def from_config(config: Mapping[str, object]) -> GcTuning:
    """Read the two settings (environment strings or TOML values)."""
    enabled = config.get("SIGNALING_GC_TUNING")
    if enabled is None:
        enabled = config.get("ASYNC_MODE") == "gevent"
    elif isinstance(enabled, str):
        enabled = enabled.strip().lower() in ("1", "true", "yes", "on")
    return GcTuning(bool(enabled), _threshold(config.get("SIGNALING_GC_THRESHOLD")))


def _threshold(value: object) -> tuple[int, int, int]:
    if value is None or value == "":
        return DEFAULT_THRESHOLD
    parts: Sequence[object] = (
        value.replace(",", " ").split() if isinstance(value, str) else value  # type: ignore[assignment]  # a list from config, checked below
    )
    try:
        numbers = tuple(int(str(p)) for p in parts)
    except ValueError:
        numbers = ()
    if len(numbers) != 3 or min(numbers) < 1:
        raise ValueError(
            f"SIGNALING_GC_THRESHOLD must be three positive integers (got {value!r})"
        )
    return (numbers[0], numbers[1], numbers[2])
