"""REDCap: the data dictionary has REDCap's 18 columns in order, and every field of
the records file is in it (one repeating ``session`` instance per rated session)."""

import csv
import io
import re

import pytest

from .research_export_helpers import dyads

# REDCap's data dictionary header, written out independently of the code
REDCAP_HEADER = [
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


@pytest.fixture
def files(app, client, make_user, token_for):  # type: ignore[no-untyped-def]
    dyads(app, make_user, 5, sessions=3)
    headers = token_for(make_user("researcher"))
    out = {}
    for part in ("dictionary", "records"):
        r = client.get(f"/api/v1/research/redcap/{part}.csv", headers=headers)
        assert r.status_code == 200 and r.mimetype == "text/csv"
        out[part] = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    return out


def test_redcap_dictionary_has_the_18_headers_in_order(files):
    assert files["dictionary"][0] == REDCAP_HEADER
    assert all(len(row) == 18 for row in files["dictionary"])


def test_every_field_of_the_records_file_is_in_the_dictionary(files):
    fields = [row[0] for row in files["dictionary"][1:]]
    header = files["records"][0]
    assert header[:3] == [
        "record_id",
        "redcap_repeat_instrument",
        "redcap_repeat_instance",
    ]
    assert set(header) - {"redcap_repeat_instrument", "redcap_repeat_instance"} <= set(
        fields
    )
    assert fields[0] == "record_id"  # REDCap requires the record id first
    assert len(fields) == len(set(fields))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", f) for f in fields)


def test_records_have_one_session_instance_per_rated_session(files):
    header, *rows = files["records"]
    records = [dict(zip(header, row, strict=True)) for row in rows]
    forms = {row[0]: row[1] for row in files["dictionary"][1:]}
    assert set(forms.values()) == {"dyad", "session"}
    dyad_rows = [r for r in records if r["redcap_repeat_instrument"] == ""]
    sessions = [r for r in records if r["redcap_repeat_instrument"] == "session"]
    assert len(dyad_rows) == 5 and len(sessions) == 15
    assert all(r["record_id"].startswith("D-") for r in records)
    assert all(r["therapist_id"].startswith("T-") for r in dyad_rows)
    for r in sessions:  # fields of the dyad form stay blank on session rows
        assert (
            r["therapist_id"] == ""
            and r["redcap_repeat_instance"] == r["session_number"]
        )
        assert re.fullmatch(r"\d{4}-W\d{2}", r["week"])
    for r in dyad_rows:  # and the session form's fields on dyad rows
        session_fields = [f for f, form in forms.items() if form == "session"]
        assert all(r[f] == "" for f in session_fields if f in r)


def test_dictionary_types_match_the_values(files):
    entries = {row[0]: row for row in files["dictionary"][1:]}
    assert entries["modality"][3] == "dropdown"
    assert "video, Video" in entries["modality"][5]
    assert entries["session_number"][7] == "integer"
    assert entries["client_score"][7] == "number"
    assert entries["phq9_before"][7] == "integer"
