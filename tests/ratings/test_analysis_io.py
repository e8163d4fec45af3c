"""read_pairs_csv: bad cells are reported (row, column, value) and excluded, never guessed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ratings.pairs_io import PairsFormatError, Problem, read_pairs_csv

GOOD = """dyad_id,session_number,client_score,therapist_score,modality
d1,1,5.5,5.0,video
d1,2,6.0,5.5,video
d2,1,4.0,4.5,chat
"""


def read(text: str) -> tuple:
    return read_pairs_csv(io.StringIO(text))


def test_clean_file_reads_typed_columns_without_problems() -> None:
    frame, problems = read(GOOD)
    assert problems == []
    assert list(frame["client_score"]) == [5.5, 6.0, 4.0]
    assert frame["session_number"].dtype == "int64"
    assert list(frame["modality"]) == ["video", "video", "chat"]


def test_blank_and_non_numeric_scores_are_reported_and_excluded() -> None:
    text = GOOD + "d2,2,,5.0,chat\nd3,1,six,5.0,video\nd3,2,5.0,n/a,video\n"
    frame, problems = read(text)
    assert [(p.row, p.column, p.value) for p in problems] == [
        (5, "client_score", ""),
        (6, "client_score", "six"),
        (7, "therapist_score", "n/a"),
    ]
    assert "blank" in problems[0].message
    assert "not a number" in problems[1].message
    assert len(frame) == 3
    assert "d3" not in set(frame["dyad_id"])


def test_problem_reads_as_a_sentence() -> None:
    problem = Problem(6, "client_score", "six", "not a number; row excluded")
    assert (
        str(problem) == "row 6, column client_score ('six'): not a number; row excluded"
    )


def test_missing_required_column_is_an_error_naming_it() -> None:
    with pytest.raises(
        PairsFormatError, match=r"missing required column.*therapist_score"
    ):
        read("dyad_id,session_number,client_score\nd1,1,5\n")


def test_empty_file_is_an_error() -> None:
    with pytest.raises(PairsFormatError, match="empty"):
        read("")


def test_headers_are_trimmed_and_case_insensitive_and_bom_is_ignored(
    tmp_path: Path,
) -> None:
    path = tmp_path / "pairs.csv"
    header = b" Dyad_ID ,Session_Number,CLIENT_SCORE,therapist_score\n"
    path.write_bytes(b"\xef\xbb\xbf" + header + b"d1,1,5,4\n")
    frame, problems = read_pairs_csv(path)
    assert problems == []
    assert frame.loc[0, "dyad_id"] == "d1"


def test_bytes_buffer_is_accepted() -> None:
    frame, _ = read_pairs_csv(io.BytesIO(GOOD.encode("utf-8")))
    assert len(frame) == 3


def test_blank_lines_do_not_shift_row_numbers() -> None:
    text = "dyad_id,session_number,client_score,therapist_score\nd1,1,5,4\n\nd1,2,x,4\n"
    _, problems = read(text)
    assert [(p.row, p.value) for p in problems] == [(4, "x")]


def test_bad_session_numbers_and_blank_dyads_are_reported() -> None:
    text = "dyad_id,session_number,client_score,therapist_score\n,1,5,4\nd1,1.5,5,4\nd1,,5,4\n"
    frame, problems = read(text)
    assert [(p.row, p.column) for p in problems] == [
        (2, "dyad_id"),
        (3, "session_number"),
        (4, "session_number"),
    ]
    assert frame.empty


def test_repeated_dyad_session_rows_are_all_excluded() -> None:
    frame, problems = read(GOOD + "d1,2,3.0,3.0,video\n")
    assert [p.row for p in problems] == [3, 5]
    assert "several rows" in problems[0].message
    assert len(frame) == 2


def test_bad_optional_cells_are_reported_but_keep_the_row() -> None:
    text = (
        "dyad_id,session_number,client_score,therapist_score,rtt_ms,outcome,"
        "predicted_client_score,client_goal,therapist_goal\n"
        "d1,1,5,4,fast,,4.5,3,3\n"
        "d1,2,5,4,80,3,,2,\n"
        "d1,3,5,4,80,3,high,2,2\n"
    )
    frame, problems = read(text)
    assert [(p.row, p.column, p.value) for p in problems] == [
        (2, "rtt_ms", "fast"),
        (3, "therapist_goal", ""),
        (4, "predicted_client_score", "high"),
    ]
    assert all("cell ignored" in p.message for p in problems)
    assert len(frame) == 3
    assert frame["rtt_ms"].isna().tolist() == [True, False, False]
    # a blank outcome means "not measured", a blank prediction "not given": no problem
    assert frame["outcome"].isna().tolist() == [True, False, False]
    assert frame["predicted_client_score"].isna().tolist() == [False, True, True]


def test_subscale_columns_are_read_in_pairs_and_lone_ones_reported() -> None:
    text = (
        "dyad_id,session_number,client_score,therapist_score,"
        "client_goal,therapist_goal,client_bond,therapist_id\n"
        "d1,1,5,4,5,x,4,t1\n"
    )
    frame, problems = read(text)
    assert [(p.row, p.column) for p in problems] == [
        (1, "client_bond"),
        (2, "therapist_goal"),
    ]
    assert "without therapist_bond" in problems[0].message
    assert frame.loc[0, "client_goal"] == 5
    assert frame.loc[0, "therapist_id"] == "t1"
