"""Input bounds: absurd session numbers and scores are refused row by row, never analysed."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from ratings.analysis import prepare, summarize, summarize_records
from ratings.pairs import PairRecord
from ratings.pairs_io import MAX_SESSION_NUMBER, SCORE_LIMIT, read_pairs_csv

HEADER = "dyad_id,session_number,client_score,therapist_score\n"
GOOD_ROWS = "".join(
    f"d{d},{s},{30 + (d * s) % 5},{28 + (d + s) % 4}\n"
    for d in range(6)
    for s in range(1, 4)
)


def read(
    text: str, **options: object
) -> tuple[pd.DataFrame, list[tuple[int, str, str]]]:
    frame, problems = read_pairs_csv(io.StringIO(text), **options)  # type: ignore[arg-type]
    return frame, [(p.row, p.column, p.message) for p in problems]


def test_absurd_values_are_refused_with_a_reason_per_row() -> None:
    bad = "x,1,1e308,30\nx,-3,30,30\ny,1000000000,30,30\ny,2,30,1e309\n"
    frame, problems = read(HEADER + GOOD_ROWS + bad)
    first = 2 + GOOD_ROWS.count("\n")
    assert problems == [
        (
            first,
            "client_score",
            f"beyond +-{SCORE_LIMIT:.0f}, the largest score accepted without a declared "
            "score range; row excluded",
        ),
        (
            first + 1,
            "session_number",
            "below 1 (sessions are numbered from 1); row excluded",
        ),
        (
            first + 2,
            "session_number",
            f"above {MAX_SESSION_NUMBER}, the largest session number accepted; row excluded",
        ),
        (first + 3, "therapist_score", "not a number; row excluded"),
    ]
    assert len(frame) == 18
    assert frame["session_number"].between(1, MAX_SESSION_NUMBER).all()


def test_a_declared_score_range_refuses_scores_outside_it() -> None:
    text = HEADER + GOOD_ROWS + "x,1,41,30\nx,2,30,-0.5\nx,3,40,0\n"
    frame, problems = read(text, score_range=(0, 40))
    first = 2 + GOOD_ROWS.count("\n")
    assert problems == [
        (
            first,
            "client_score",
            "outside the declared score range 0 to 40; row excluded",
        ),
        (
            first + 1,
            "therapist_score",
            "outside the declared score range 0 to 40; row excluded",
        ),
    ]
    assert len(frame) == 19  # the limits themselves are inside the range
    # without the range the same file is accepted
    assert read(text)[1] == []


def test_the_range_applies_to_the_prediction_and_the_limit_to_subscales() -> None:
    text = (
        "dyad_id,session_number,client_score,therapist_score,predicted_client_score,"
        "client_bond,therapist_bond\n"
        "a,1,30,30,50,4,4\n"
        "a,2,30,30,30,4,5e6\n"
    )
    frame, problems = read(text, score_range=(0, 40))
    assert [(row, column) for row, column, _ in problems] == [
        (2, "predicted_client_score"),
        (3, "therapist_bond"),
    ]
    assert all(message.endswith("cell ignored") for _, _, message in problems)
    assert len(frame) == 2
    assert frame["predicted_client_score"].isna().tolist() == [True, False]


def test_summarize_applies_the_same_bounds_to_frames_and_lists_the_rows() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "dyad_id": np.repeat([f"d{i}" for i in range(6)], 4),
            "session_number": np.tile([1.0, 2, 3, 4], 6),
            "client_score": rng.uniform(20, 40, 24).round(1),
            "therapist_score": rng.uniform(20, 40, 24).round(1),
        }
    )
    frame.loc[0, "client_score"] = 1e308
    frame.loc[1, "session_number"] = -3
    frame.loc[2, "session_number"] = 10**9
    frame.loc[3, "therapist_score"] = 45.0
    frame.loc[4, "session_number"] = 2.5
    summary = summarize(frame, include_multilevel=False, score_range=(0, 40))
    problems = [
        (p["row"], p["column"], p["message"]) for p in summary["input_problems"]
    ]
    assert problems == [
        (0, "client_score", "outside the declared score range 0 to 40; row excluded"),
        (1, "session_number", "below 1 (sessions are numbered from 1); row excluded"),
        (
            2,
            "session_number",
            f"above {MAX_SESSION_NUMBER}, the largest session number accepted; row excluded",
        ),
        (
            3,
            "therapist_score",
            "outside the declared score range 0 to 40; row excluded",
        ),
        (4, "session_number", "not a whole number; row excluded"),
    ]
    assert summary["input_problems"][0]["value"] == "1e+308"
    assert summary["n_rows_excluded"] == 5 and summary["n_pairs"] == 19
    assert summary["score_range"] == [0.0, 40.0]
    assert prepare(frame, (0, 40))[1] == 5
    json.dumps(summary, allow_nan=False)


def test_without_a_range_an_absurd_score_is_still_refused_in_a_frame() -> None:
    frame = pd.DataFrame(
        {
            "dyad_id": ["a", "a", "b"],
            "session_number": [1, 2, 1],
            "client_score": [30.0, -2e6, 31.0],
            "therapist_score": [30.0, 30.0, np.inf],
        }
    )
    summary = summarize(frame, include_multilevel=False)
    assert [(p["row"], p["column"]) for p in summary["input_problems"]] == [
        (1, "client_score"),
        (2, "therapist_score"),
    ]
    assert (
        summary["input_problems"][1]["message"] == "not a finite number; row excluded"
    )
    assert summary["score_range"] is None
    assert "none declared" in summary["reasons"]["score_range"]


def test_records_are_checked_too() -> None:
    records = [
        PairRecord(f"d{d}", s, 30.0 + d, 29.0 + s % 3) for d in range(5) for s in (1, 2)
    ]
    records.append(PairRecord("d9", 0, 30.0, 30.0))
    summary = summarize_records(records, include_multilevel=False, score_range=(0, 40))
    assert [(p["row"], p["column"]) for p in summary["input_problems"]] == [
        (10, "session_number")
    ]
    assert summary["n_pairs"] == 10


@pytest.mark.parametrize("score_range", [(40, 0), (0, float("inf")), (1, 1)])
def test_a_malformed_range_is_an_error(score_range: tuple[float, float]) -> None:
    with pytest.raises(ValueError, match="score_range"):
        read_pairs_csv(io.StringIO(HEADER + GOOD_ROWS), score_range=score_range)


def test_the_retired_prediction_columns_are_named_and_ignored() -> None:
    text = HEADER.strip() + ",therapist_meta,client_meta\n" + "a,1,30,30,29,31\n"
    frame, problems = read(text)
    assert [(row, column) for row, column, _ in problems] == [
        (1, "client_meta"),
        (1, "therapist_meta"),
    ]
    assert "renamed predicted_client_score" in problems[1][2]
    assert len(frame) == 1


def test_text_columns_of_a_frame_are_parsed_and_bad_cells_named() -> None:
    frame = pd.DataFrame(
        {
            "dyad_id": list("aabbccddee"),
            "session_number": ["1", "2"] * 5,
            "client_score": ["30", "31", "x", "30", "29", "28", "30", "31", " ", "30"],
            "therapist_score": ["29"] * 10,
        }
    ).astype("str")
    summary = summarize(frame, include_multilevel=False)
    problems = [(p["row"], p["message"]) for p in summary["input_problems"]]
    assert problems == [(2, "not a number; row excluded"), (8, "missing; row excluded")]
    assert summary["n_pairs"] == 8
