"""Research exports: CSV long and wide, and the codebook that describes every column.

``wide`` has one row per rated session and is ready for ``teletherapy analyze`` and
``ratings.pairs_io.read_pairs_csv`` (its column names are that input format);
``long`` has one row per rating (two per session) for multilevel software.
Cells are pseudonyms, numbers and fixed words only: nothing a person typed.
"""

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ..private_files import write_private
from ..services import audit
from ..services.errors import Invalid
from . import columns as export_columns
from .codebook import codebook, codebook_markdown
from .rows import Filters, PairRow, pair_rows, subscale_names
from .settings import ResearchSettings

SHAPES = ("long", "wide")


def parse_shape(value: str | None) -> str:
    shape = (value or "wide").strip()
    if shape not in SHAPES:
        raise Invalid(
            "invalid query", {"shape": f"must be long or wide (got {shape[:40]!r})"}
        )
    return shape


def _cell(value: Any) -> Any:
    return "" if value is None else value


def _ids(r: PairRow) -> list[Any]:
    return [
        r.session_pid,
        r.dyad_pid,
        r.therapist_pid,
        r.session_number,
        r.modality,
        r.instrument,
    ]


def _quality(r: PairRow) -> list[Any]:
    return [
        _cell(r.rtt_ms),
        _cell(r.packet_loss_pct),
        r.quality_samples,
        r.audio_only_switches,
    ]


def wide_columns(subscales: list[str]) -> list[str]:
    """The header of ``wide``; wide_rows writes its cells in this order."""
    return [c.name for c in export_columns.wide(subscales)]


def long_columns(subscales: list[str]) -> list[str]:
    """The header of ``long``; long_rows writes its cells in this order."""
    return [c.name for c in export_columns.long(subscales)]


def wide_rows(rows: list[PairRow], subscales: list[str]) -> Iterable[list[Any]]:
    for r in rows:
        c, t = r.client, r.therapist
        instruments = [
            c.instrument_id,
            c.instrument_version,
            t.instrument_id,
            t.instrument_version,
        ]
        scores = [
            _cell(c.total),
            _cell(t.total),
            _cell(r.difference),
            _cell(r.predicted_client_score),
        ]
        sides = [_cell(side.subscales.get(s)) for side in (c, t) for s in subscales]
        yield [*_ids(r), *instruments, *scores, *sides, *_quality(r)]


def long_rows(rows: list[PairRow], subscales: list[str]) -> Iterable[list[Any]]:
    for r in rows:
        for perspective, side in (("client", r.client), ("therapist", r.therapist)):
            predicted = r.predicted_client_score if perspective == "therapist" else None
            rating = [
                perspective,
                side.instrument_id,
                side.instrument_version,
                _cell(side.total),
                _cell(predicted),
            ]
            subs = [_cell(side.subscales.get(s)) for s in subscales]
            yield [*_ids(r), *rating, *subs, *_quality(r)]


def to_csv(rows: list[PairRow], shape: str) -> str:
    subs = subscale_names(rows)
    columns, body = (
        (wide_columns(subs), wide_rows(rows, subs))
        if shape == "wide"
        else (long_columns(subs), long_rows(rows, subs))
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(body)
    return buffer.getvalue()


def export_csv(
    db: Session,
    actor_id: str,
    filters: Filters,
    settings: ResearchSettings,
    shape: str,
    *,
    origin: str | None,
) -> str:
    """One CSV download (audited: who, which shape, which filters, how many rows)."""
    rows = pair_rows(db, filters, settings)
    details = {**filters.as_args(), "shape": shape, "n_pairs": len(rows)}
    audit.record(
        db, "research.export", actor_id, "research", None, **details, origin=origin
    )
    db.commit()
    return to_csv(rows, shape)


def codebook_for(
    db: Session, settings: ResearchSettings, filters: Filters | None = None
) -> dict[str, Any]:
    """The codebook of the data an export with these filters would hold."""
    rows = pair_rows(db, filters or Filters(), settings)
    return codebook(rows, settings)


def export_dir(
    db: Session, out_dir: str | Path, settings: ResearchSettings
) -> list[Path]:
    """`teletherapy export`: long.csv, wide.csv and codebook.md (audited, actor "cli")."""
    rows = pair_rows(db, Filters(), settings)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    book = codebook(rows, settings)
    files = {f"{shape}.csv": to_csv(rows, shape) for shape in SHAPES}
    files["codebook.md"] = codebook_markdown(book)
    for name, text in files.items():
        written.append(write_private(out / name, text))  # health data
    audit.record(
        db,
        "research.export",
        None,
        "research",
        None,
        shape="long+wide",
        via="cli",
        n_pairs=len(rows),
        origin=audit.CLI,
    )
    db.commit()
    return written
