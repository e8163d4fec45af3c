"""Research exports: CSV long, wide and dyadic, REDCap, FHIR, and the codebook.

``wide`` has one row per rated session and is ready for ``teletherapy analyze`` and
``ratings.pairs_io.read_pairs_csv`` (its column names are that input format);
``long`` has one row per rating (two per session) for multilevel software;
``dyadic`` one row per session with centred, lagged and outcome columns
(dyadic.py); REDCap (redcap.py) and FHIR (fhir.py) are the formats studies and
clinics import. Cells are pseudonyms, numbers and fixed words only: nothing a person
typed. Every export reads ``rows.pair_rows``, so consent, pseudonyms and the
small-cell rule (cells.py) hold for each.
"""

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ..private_files import write_private
from ..services import audit
from ..services.errors import Invalid
from . import columns as export_columns
from .codebook import codebook, codebook_markdown
from .dyadic import dyadic_columns, dyadic_rows
from .rows import Filters, PairRow, pair_rows, pair_rows_unchecked, subscale_names
from .settings import ResearchSettings

SHAPES = ("long", "wide", "dyadic")


def parse_shape(value: str | None) -> str:
    shape = (value or "wide").strip()
    if shape not in SHAPES:
        raise Invalid(
            "invalid query",
            {"shape": f"must be long, wide or dyadic (got {shape[:40]!r})"},
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
    if shape == "wide":
        return write_csv(wide_columns(subs), wide_rows(rows, subs))
    if shape == "long":
        return write_csv(long_columns(subs), long_rows(rows, subs))
    return write_csv(dyadic_columns(), dyadic_rows(rows))


def write_csv(header: list[str], body: Iterable[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
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
    rows = export_rows(db, actor_id, filters, settings, shape, origin=origin)
    return to_csv(rows, shape)


def codebook_for(
    db: Session, settings: ResearchSettings, filters: Filters | None = None
) -> dict[str, Any]:
    """The codebook of the data an export with these filters would hold (columns and
    instruments only, no data: not subject to the small-cell rule)."""
    rows = pair_rows_unchecked(db, filters or Filters(), settings)
    return codebook(rows, settings)


def redcap_csv(rows: list[PairRow], part: str) -> str:
    """The REDCap data dictionary (``part`` "dictionary") or records file."""
    from . import redcap

    if part == "dictionary":
        return write_csv(*redcap.dictionary(rows))
    header, body = redcap.records(rows)
    return write_csv(header, body)


def fhir_json(rows: list[PairRow]) -> str:
    from . import fhir

    return json.dumps(fhir.bundle(rows), indent=2, ensure_ascii=False)


def format_files(rows: list[PairRow], fmt: str) -> dict[str, str]:
    """File name -> text of one ``--format`` of `teletherapy export`."""
    if fmt in SHAPES:
        return {f"{fmt}.csv": to_csv(rows, fmt)}
    if fmt == "redcap":
        return {
            "redcap_dictionary.csv": redcap_csv(rows, "dictionary"),
            "redcap_records.csv": redcap_csv(rows, "records"),
        }
    return {"fhir.json": fhir_json(rows)}


def export_rows(
    db: Session,
    actor_id: str | None,
    filters: Filters,
    settings: ResearchSettings,
    shape: str,
    *,
    origin: str | None,
    **more: Any,
) -> list[PairRow]:
    """The rows of one export (small cells refused), audited: who, which format,
    which filters, how many rows."""
    rows = pair_rows(db, filters, settings)
    details = {**filters.as_args(), "shape": shape, "n_pairs": len(rows), **more}
    audit.record(
        db, "research.export", actor_id, "research", None, **details, origin=origin
    )
    db.commit()
    return rows


def export_dir(
    db: Session,
    out_dir: str | Path,
    settings: ResearchSettings,
    formats: Iterable[str] = ("long", "wide"),
) -> list[Path]:
    """`teletherapy export`: the files of each format and codebook.md (audited,
    actor "cli"); refused like any research read below the minimum cell."""
    formats = list(dict.fromkeys(formats))
    rows = export_rows(
        db, None, Filters(), settings, "+".join(formats), via="cli", origin=audit.CLI
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    for fmt in formats:
        files.update(format_files(rows, fmt))
    files["codebook.md"] = codebook_markdown(codebook(rows, settings))
    return [write_private(out / name, text) for name, text in files.items()]
