"""REDCap: a data dictionary and a records file that a REDCap project imports.

Two instruments: ``dyad`` (one per record; ``record_id`` is the dyad pseudonym, and
its therapist's pseudonym) and ``session``, a repeating instrument with one instance
per rated session (``redcap_repeat_instance`` = the session's number in the dyad's
course). The session fields are columns of the wide and dyadic exports, read from
their rows (export.py, dyadic.py) and described by the same column list
(columns.py), so the three cannot disagree. Every field of the records file is in
the dictionary.
"""

import re
from collections.abc import Iterable
from typing import Any

from . import columns as export_columns
from .columns import Column
from .dyadic import dyadic_columns, dyadic_rows
from .rows import PairRow, subscale_names

# REDCap's data dictionary columns, in REDCap's order and spelling.
DICTIONARY_HEADER = [
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
]
REPEAT_COLUMNS = ["redcap_repeat_instrument", "redcap_repeat_instance"]
DYAD_FORM, SESSION_FORM = "dyad", "session"
MODALITY_CHOICES = (
    "video, Video | audio, Audio only | chat, Text chat | in_person, In person"
)
_FIXED = ["session_id", "session_number", "week", "modality", "instrument"]
_SCORES = ["client_score", "therapist_score", "difference", "predicted_client_score"]
_AFTER = [f"{m}_before" for m in export_columns.OUTCOME_MEASURES] + [
    c.name for c in export_columns.QUALITY
]


def field_name(column: str) -> str:
    """A REDCap variable name: lower-case letters, digits and underscores, from a letter."""
    name = re.sub(r"[^a-z0-9_]", "_", column.lower())
    return name if name[:1].isalpha() else f"v_{name}"


def _session_columns(subscales: list[str]) -> list[Column]:
    known = {c.name: c for c in export_columns.wide(subscales)}
    known.update({c.name: c for c in export_columns.dyadic()})
    fixed = {c.name for c in [*export_columns.WIDE_FIXED, *export_columns.QUALITY]}
    sides = [c.name for c in export_columns.wide(subscales) if c.name not in fixed]
    return [known[name] for name in [*_FIXED, *_SCORES, *sides, *_AFTER]]


def _dyad_columns() -> list[Column]:
    ids = {c.name: c for c in export_columns.dyadic()}
    record = Column("record_id", "text", ids["dyad_id"].description)
    return [record, ids["therapist_id"]]


def _entry(column: Column, form: str) -> list[str]:
    field_type, choices, validation = "text", "", ""
    if column.name == "modality":
        field_type, choices = "dropdown", MODALITY_CHOICES
    elif column.type in ("integer", "number"):
        validation = column.type
    entry = dict.fromkeys(DICTIONARY_HEADER, "")
    entry.update(
        {
            "Variable / Field Name": field_name(column.name),
            "Form Name": form,
            "Field Type": field_type,
            "Field Label": column.description,
            "Choices, Calculations, OR Slider Labels": choices,
            "Text Validation Type OR Show Slider Number": validation,
        }
    )
    return list(entry.values())


def dictionary(rows: list[PairRow]) -> tuple[list[str], list[list[str]]]:
    """The data dictionary (header, rows): record_id first, as REDCap requires."""
    subscales = subscale_names(rows)
    body = [_entry(c, DYAD_FORM) for c in _dyad_columns()]
    body += [_entry(c, SESSION_FORM) for c in _session_columns(subscales)]
    return DICTIONARY_HEADER, body


def _by_name(rows: list[PairRow], subscales: list[str]) -> list[dict[str, Any]]:
    from .export import wide_columns, wide_rows

    wide = [
        dict(zip(wide_columns(subscales), r, strict=True))
        for r in wide_rows(rows, subscales)
    ]
    dyadic = [dict(zip(dyadic_columns(), r, strict=True)) for r in dyadic_rows(rows)]
    return [{**w, **d} for w, d in zip(wide, dyadic, strict=True)]


def records(rows: list[PairRow]) -> tuple[list[str], Iterable[list[Any]]]:
    """The records file (header, rows): per dyad its ``dyad`` row, then one
    ``session`` instance per rated session."""
    subscales = subscale_names(rows)
    session = [c.name for c in _session_columns(subscales)]
    header = [
        "record_id",
        *REPEAT_COLUMNS,
        "therapist_id",
        *(field_name(n) for n in session),
    ]
    out: list[list[Any]] = []
    seen: set[str] = set()
    for values in _by_name(rows, subscales):
        dyad = values["dyad_id"]
        if dyad not in seen:
            seen.add(dyad)
            out.append([dyad, "", "", values["therapist_id"], *([""] * len(session))])
        instance = [SESSION_FORM, values["session_number"]]
        out.append([dyad, *instance, "", *(values[n] for n in session)])
    return header, out
