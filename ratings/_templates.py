"""Completing a text-less template with item text from a licensed file."""

from __future__ import annotations

import csv
import io
import tomllib
from dataclasses import replace
from pathlib import Path

from ._model import Instrument, InstrumentError
from ._schema import build_instrument
from ._toml import dump_instrument

COMPLETED_NOTE = (
    "Completed from a licensed items file: this file holds licensed item text. "
    "Keep it out of the repository and do not share it."
)


def complete_template(template: Instrument, items_file: Path | str) -> str:
    """Return the TOML text of ``template`` completed with the item text in
    ``items_file``: same id, version and structure, kind "instrument", showable.

    ``items_file`` is a licensed file kept outside the repository, either CSV with
    the header ``id,text`` or TOML with ``[[items]]`` tables holding ``id`` and
    ``text``. Its ids must match the template's exactly; InstrumentError names the
    missing and unknown ids otherwise. The result is checked by parsing it again.
    """
    if template.kind != "template":
        raise InstrumentError(
            template.origin,
            f"{template.id!r} {template.version} is not a template "
            f"(kind {template.kind!r})",
        )
    path = str(items_file)
    texts = read_items_file(items_file)
    expected = [item.id for item in template.items]
    missing = [item_id for item_id in expected if item_id not in texts]
    unknown = [item_id for item_id in texts if item_id not in expected]
    if missing or unknown:
        raise InstrumentError(
            path,
            f"item ids do not match template {template.id!r} {template.version}: "
            f"missing {missing}, unknown {unknown}",
        )
    notes = f"{COMPLETED_NOTE}\n{template.notes}" if template.notes else COMPLETED_NOTE
    completed = replace(
        template,
        kind="instrument",
        notes=notes,
        items=tuple(replace(item, text=texts[item.id]) for item in template.items),
    )
    text = dump_instrument(completed)
    build_instrument(tomllib.loads(text), f"{path} (completing {template.id!r})")
    return text


def read_items_file(items_file: Path | str) -> dict[str, str]:
    """Read a licensed items file (``.csv`` or ``.toml``) into {item id: text}."""
    path = Path(items_file)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InstrumentError(
            str(path), f"cannot read the items file ({exc})"
        ) from None
    if path.suffix.lower() == ".csv":
        return _from_csv(str(path), raw)
    if path.suffix.lower() == ".toml":
        return _from_toml(str(path), raw)
    raise InstrumentError(
        str(path), f"items file must end in .csv or .toml (got {path.suffix!r})"
    )


def _from_csv(path: str, raw: str) -> dict[str, str]:
    rows = [row for row in csv.reader(io.StringIO(raw)) if any(c.strip() for c in row)]
    if not rows or [cell.strip() for cell in rows[0]] != ["id", "text"]:
        # Echo only the first cell: a missing header means row 1 is licensed text.
        got = repr(rows[0][0][:20]) if rows else "an empty file"
        raise InstrumentError(path, f"the first row must be 'id,text' (got {got})")
    pairs: list[tuple[str, object, str]] = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != 2:
            raise InstrumentError(
                path, f"expected 2 columns (id,text), got {len(row)}", f"row {number}"
            )
        pairs.append((row[0].strip(), row[1], f"row {number}"))
    return _collect(path, pairs)


def _from_toml(path: str, raw: str) -> dict[str, str]:
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise InstrumentError(path, f"not valid TOML ({exc})") from None
    if set(data) != {"items"} or not isinstance(data["items"], list):
        raise InstrumentError(
            path, f"expected only [[items]] tables (got keys {sorted(data)})"
        )
    pairs: list[tuple[str, object, str]] = []
    for number, entry in enumerate(data["items"], start=1):
        where = f"entry #{number}"
        if not isinstance(entry, dict) or set(entry) != {"id", "text"}:
            got = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
            raise InstrumentError(
                path, f"expected keys ['id', 'text'] (got {got})", where
            )
        if not isinstance(entry["id"], str):
            raise InstrumentError(
                path, f"'id' must be a string (got {type(entry['id']).__name__})", where
            )
        pairs.append((entry["id"].strip(), entry["text"], where))
    return _collect(path, pairs)


def _collect(path: str, pairs: list[tuple[str, object, str]]) -> dict[str, str]:
    texts: dict[str, str] = {}
    for item_id, text, where in pairs:
        place = f"item {item_id!r}" if item_id else where
        if not item_id:
            raise InstrumentError(path, "'id' must not be empty", place)
        if item_id in texts:
            raise InstrumentError(path, f"duplicate item id {item_id!r}", place)
        if not isinstance(text, str) or not text.strip():
            raise InstrumentError(path, "'text' must be non-empty text", place)
        texts[item_id] = text.strip()
    return texts
