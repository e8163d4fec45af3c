"""Typed paired ratings: one record per rated session, for callers that hold typed data.

An application that already has typed rows (the teletherapy app's research package)
passes ``PairRecord``s to ``ratings.analysis.summarize_records`` and draws figures from
``records_frame``; it never writes a frame in the CSV file's layout itself. Files go
through ``ratings.pairs_io.read_pairs_csv``, which reports every bad cell. Both paths
end in the same frame (docs/research.md, "Input"): ``dyad_id``, ``session_number``,
``client_score``, ``therapist_score``, the optional ``modality``, ``therapist_id``,
``rtt_ms``, ``packet_loss_pct``, and ``client_<s>``/``therapist_<s>`` per subscale;
``instrument`` and ``predicted_client_score`` only when some record has one.
Importing this module is cheap: pandas loads only when a frame is made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

REQUIRED = ("dyad_id", "session_number", "client_score", "therapist_score")
# client_<x> names the file format keeps for itself; a subscale called so gets _subscale
RESERVED_SUFFIXES = ("score", "meta", "id")
FLOAT_COLUMNS = (
    "client_score",
    "therapist_score",
    "rtt_ms",
    "packet_loss_pct",
    "predicted_client_score",
    "outcome",
)
# columns made only when some record has a value (older frames did not have them)
WHEN_GIVEN = ("instrument", "predicted_client_score", "outcome")


@dataclass(frozen=True)
class PairRecord:
    """One session rated by both sides; None where a value is missing."""

    dyad_id: str
    session_number: int
    client_score: float | None
    therapist_score: float | None
    modality: str | None = None
    therapist_id: str | None = None
    rtt_ms: float | None = None
    packet_loss_pct: float | None = None
    client_subscales: Mapping[str, float | None] = field(default_factory=dict)
    therapist_subscales: Mapping[str, float | None] = field(default_factory=dict)
    #: the instrument (pair) both totals are on; several in one summary are never pooled
    instrument: str | None = None
    #: the therapist's prediction of the client's total, on the client instrument's scale
    predicted_client_score: float | None = None
    #: the client's outcome measured before this session (e.g. the PHQ-9 total)
    outcome: float | None = None


def subscale_column(name: str) -> str:
    """The column suffix of a subscale: a reserved suffix (score, meta, id) gets _subscale."""
    return f"{name}_subscale" if name in RESERVED_SUFFIXES else name


def subscales_of(records: Iterable[PairRecord]) -> list[str]:
    """Subscale names in first-seen order (client's before therapist's per record)."""
    names: dict[str, None] = {}
    for r in records:
        names.update(dict.fromkeys(r.client_subscales))
        names.update(dict.fromkeys(r.therapist_subscales))
    return list(names)


def records_frame(records: Sequence[PairRecord]) -> pd.DataFrame:
    """The analysis frame of typed records: one row each, scores and quality as floats."""
    import pandas as pd  # here, not at import: the app imports this module at start

    subs = subscales_of(records)
    given = [c for c in WHEN_GIVEN if any(getattr(r, c) is not None for r in records)]
    rows = []
    for r in records:
        row: dict[str, Any] = {
            "dyad_id": r.dyad_id,
            "session_number": r.session_number,
            "client_score": r.client_score,
            "therapist_score": r.therapist_score,
            "modality": r.modality,
            "therapist_id": r.therapist_id,
            "rtt_ms": r.rtt_ms,
            "packet_loss_pct": r.packet_loss_pct,
        }
        for col in given:
            row[col] = getattr(r, col)
        for name in subs:
            column = subscale_column(name)
            row[f"client_{column}"] = r.client_subscales.get(name)
            row[f"therapist_{column}"] = r.therapist_subscales.get(name)
        rows.append(row)
    df = pd.DataFrame.from_records(rows, columns=list(REQUIRED) if not rows else None)
    for col in FLOAT_COLUMNS:
        if col in df:
            df[col] = df[col].astype(float)
    return df
