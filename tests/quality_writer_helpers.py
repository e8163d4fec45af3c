"""Driving the quality writer's group commit from tests: hold its first transaction
until a backlog waits, and call the policy from several threads at once."""

import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from teletherapy.services.quality import QualityWriter


def hold_first_batch(
    monkeypatch: pytest.MonkeyPatch, until: int
) -> list[list[dict[str, Any]]]:
    """Hold the writer's first transaction until ``until`` samples wait behind it;
    returns the rows of each batch written (filled as the writer runs)."""
    batches: list[list[dict[str, Any]]] = []
    insert = QualityWriter._insert

    def held(self, conn, batch):  # type: ignore[no-untyped-def]
        if not batches:
            for _ in range(500):
                with self._cond:
                    if len(self._queue) >= until:
                        break
                threading.Event().wait(0.01)
        batches.append([sample.row for sample in batch])
        return insert(self, conn, batch)

    monkeypatch.setattr(QualityWriter, "_insert", held)
    return batches


def concurrently(calls: Sequence[Callable[[], object]]) -> list[object]:
    """Run each call in its own thread; their results (or exceptions) in order."""
    results: list[object] = [None] * len(calls)

    def run(i: int, call: Callable[[], object]) -> None:
        try:
            results[i] = call()
        except Exception as exc:  # collected for the assertion
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results
