"""Reading paired client/therapist ratings from CSV: report bad cells, never guess them.

Columns (header names are matched after trimming spaces, case-insensitively):

required   dyad_id, session_number, client_score, therapist_score
optional   modality, therapist_id, instrument               (text)
           outcome, rtt_ms, packet_loss_pct                 (numbers; blank = not measured)
           predicted_client_score                          (the therapist's prediction of the
                                                            client's total, client scale;
                                                            blank = no prediction given)
           client_<name> with therapist_<name>              (subscale scores, e.g. client_goal)

Any blank or non-numeric cell in a score column (the two scores, subscales) is a Problem; so is
a non-numeric cell in another numeric column (the prediction, outcome, quality), a session
number that is not a whole number from 1 to MAX_SESSION_NUMBER, a total outside the declared
``score_range`` (client_score, therapist_score, predicted_client_score), any other number beyond
+-SCORE_LIMIT, a blank dyad_id and a repeated (dyad_id, session_number). A bad required cell
excludes the row; a bad optional cell only blanks that cell. Rows are numbered as in a
spreadsheet: the header is row 1. The v1 columns therapist_meta and client_meta are reported
and ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from os import PathLike
from typing import IO

import numpy as np
import pandas as pd

from .pairs import REQUIRED as REQUIRED
from .pairs import RESERVED_SUFFIXES as RESERVED_SUFFIXES

TEXT_COLUMNS = ("modality", "therapist_id", "instrument")
MEASURE_COLUMNS = ("outcome", "rtt_ms", "packet_loss_pct")
PREDICTION_COLUMNS = ("predicted_client_score",)
#: on the totals' scale: a declared score_range applies to these
TOTAL_COLUMNS = ("client_score", "therapist_score", *PREDICTION_COLUMNS)
#: sessions are numbered 1, 2, ...; a larger number is a data error, not a long therapy
MAX_SESSION_NUMBER = 10_000
#: without a declared score_range, a score beyond +-SCORE_LIMIT is refused as absurd
SCORE_LIMIT = 1_000_000.0
RETIRED_COLUMNS = {
    "therapist_meta": "renamed predicted_client_score (the therapist's prediction of the "
    "client's total, on the client's scale); this column is ignored",
    "client_meta": "no longer read (the client's prediction of the therapist's score "
    "is not analysed); ignored",
}
SUBSCALE_PATTERN = re.compile(r"client_([a-z][a-z0-9_]*)")
PREFIXED = re.compile(r"(client|therapist)_([a-z][a-z0-9_]*)")
HEADER_ROW = 1
PERSPECTIVES = ("client", "therapist")


class PairsFormatError(ValueError):
    """The file cannot be read as paired ratings at all (e.g. a required column is missing)."""


@dataclass(frozen=True)
class Problem:
    """One bad cell: where it is, what it held and what was done about it."""

    row: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column} ({self.value!r}): {self.message}"


def subscale_names(columns: pd.Index | list[str]) -> list[str]:
    """Subscales with both a client_<name> and a therapist_<name> column."""
    names = [m.group(1) for c in columns if (m := SUBSCALE_PATTERN.fullmatch(str(c)))]
    return [
        n for n in names if n not in RESERVED_SUFFIXES and f"therapist_{n}" in columns
    ]


def check_score_range(score_range: tuple[float, float] | None) -> None:
    """Raise ValueError unless ``score_range`` is None or finite (lo, hi) with lo < hi."""
    if score_range is None:
        return
    low, high = score_range
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(
            f"score_range must be finite (low, high) with low < high: {score_range}"
        )


def out_of_bounds(
    column: str, values: pd.Series, score_range: tuple[float, float] | None
) -> pd.Series:
    """Why values of a parsed numeric column are out of bounds: a Series of messages indexed by
    the offending labels only (empty when all are fine; missing values are not judged).

    session_number: 1 to MAX_SESSION_NUMBER. client_score, therapist_score and
    predicted_client_score: inside ``score_range`` when declared, else within +-SCORE_LIMIT;
    any other numeric column (subscales, outcome, quality): within +-SCORE_LIMIT.
    """
    if column == "session_number":
        rules = [
            (values < 1, "below 1 (sessions are numbered from 1)"),
            (
                values > MAX_SESSION_NUMBER,
                f"above {MAX_SESSION_NUMBER}, the largest session number accepted",
            ),
        ]
    elif score_range is not None and column in TOTAL_COLUMNS:
        low, high = score_range
        rules = [
            (
                (values < low) | (values > high),
                f"outside the declared score range {low:g} to {high:g}",
            )
        ]
    else:
        rules = [
            (
                values.abs() > SCORE_LIMIT,
                f"beyond +-{SCORE_LIMIT:.0f}, the largest score accepted without a "
                "declared score range",
            )
        ]
    found = [pd.Series(message, index=values.index[hit]) for hit, message in rules]
    return (
        pd.concat(found) if any(len(f) for f in found) else pd.Series([], dtype=object)
    )


def read_pairs_csv(
    source: str | PathLike[str] | IO[str] | IO[bytes],
    *,
    score_range: tuple[float, float] | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Read paired ratings; return the clean rows and every problem found.

    Raises PairsFormatError naming the missing required column(s), or when the file is empty;
    ValueError for a malformed ``score_range``. The frame has one row per (dyad_id,
    session_number), scores as floats, session_number as int, text columns as strings
    (blank -> missing) and any other columns unchanged. ``score_range=(low, high)`` declares
    the instrument's range of totals: a total outside it is a Problem (module docstring).
    """
    check_score_range(score_range)
    try:
        raw = pd.read_csv(
            source,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            skipinitialspace=True,
            encoding="utf-8-sig",
        )
    except pd.errors.EmptyDataError as exc:
        raise PairsFormatError(
            f"the file is empty: expected a header with {REQUIRED}"
        ) from exc
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise PairsFormatError(
            f"missing required column(s): {', '.join(missing)} "
            f"(required: {', '.join(REQUIRED)}; found: {', '.join(raw.columns)})"
        )
    raw.index = raw.index + HEADER_ROW + 1
    first_blank = raw.iloc[:, 0] == ""  # blank lines are not data rows
    blank = (raw[first_blank] == "").all(axis=1)
    raw = raw.drop(index=blank.index[blank])
    return _Parser(raw, score_range).run()


class _Parser:
    def __init__(
        self, raw: pd.DataFrame, score_range: tuple[float, float] | None
    ) -> None:
        self.raw = raw
        self.score_range = score_range
        self.problems: list[Problem] = []
        self.bad = pd.Series(False, index=raw.index)

    def run(self) -> tuple[pd.DataFrame, list[Problem]]:
        out = self.raw.copy()
        out["dyad_id"] = self._text("dyad_id", required=True)
        out["session_number"] = self._session()
        for col in ("client_score", "therapist_score"):
            out[col] = self._number(col, required=True, blank_is_problem=True)
        for col in TEXT_COLUMNS:
            if col in out:
                out[col] = self._text(col, required=False)
        subscales = subscale_names(out.columns)
        scores = [
            *(f"{p}_{n}" for n in subscales for p in PERSPECTIVES),
        ]
        for col in (c for c in scores if c in out):
            out[col] = self._number(col, required=False, blank_is_problem=True)
        for col in (c for c in (*PREDICTION_COLUMNS, *MEASURE_COLUMNS) if c in out):
            out[col] = self._number(col, required=False, blank_is_problem=False)
        self._unpaired(out.columns, subscales)
        self._retired(out.columns)
        self._duplicates(out)
        clean = out[~self.bad].astype({"session_number": "int64"})
        self.problems.sort(key=lambda p: (p.row, p.column))
        return clean.reset_index(drop=True), self.problems

    def _report(self, rows: pd.Index, column: str, message: str) -> None:
        for row in rows:
            self.problems.append(
                Problem(int(row), column, self.raw.at[row, column], message)
            )

    def _text(self, column: str, required: bool) -> pd.Series:
        values = self.raw[column].str.strip()
        blank = values == ""
        if required:
            self._report(values.index[blank], column, "blank; row excluded")
            self.bad |= blank
        return values.mask(blank)

    def _number(self, column: str, required: bool, blank_is_problem: bool) -> pd.Series:
        text = self.raw[column]
        parsed = pd.to_numeric(text, errors="coerce").astype(float)
        blank = text == ""
        invalid = ~blank & ~np.isfinite(parsed)
        effect = "row excluded" if required else "cell ignored"
        if blank_is_problem:
            self._report(text.index[blank], column, f"blank; {effect}")
        self._report(text.index[invalid], column, f"not a number; {effect}")
        if required:
            self.bad |= blank | invalid
        parsed = parsed.mask(blank | invalid)
        why = out_of_bounds(column, parsed, self.score_range)
        for row, message in why.items():
            self.problems.append(
                Problem(
                    int(row), column, self.raw.at[row, column], f"{message}; {effect}"
                )
            )
        outside = parsed.index.isin(why.index)
        if required:
            self.bad |= outside
        return parsed.mask(outside)

    def _session(self) -> pd.Series:
        parsed = self._number("session_number", required=True, blank_is_problem=True)
        fractional = parsed.notna() & (parsed != np.round(parsed))
        self._report(
            parsed.index[fractional], "session_number", "not a whole number; excluded"
        )
        self.bad |= fractional
        return parsed.where(~self.bad, 0)

    def _retired(self, columns: pd.Index) -> None:
        for col in map(str, columns):
            if col in RETIRED_COLUMNS:
                self.problems.append(
                    Problem(HEADER_ROW, col, col, RETIRED_COLUMNS[col])
                )

    def _unpaired(self, columns: pd.Index, subscales: list[str]) -> None:
        for col in map(str, columns):
            match = PREFIXED.fullmatch(col)
            if match and match.group(2) not in (*RESERVED_SUFFIXES, *subscales):
                other = "therapist" if match.group(1) == "client" else "client"
                message = f"subscale column without {other}_{match.group(2)}; ignored"
                self.problems.append(Problem(HEADER_ROW, col, col, message))

    def _duplicates(self, out: pd.DataFrame) -> None:
        keys = out.loc[~self.bad, ["dyad_id", "session_number"]]
        repeated = keys.duplicated(keep=False)
        message = (
            "the same dyad_id and session_number appear in several rows; all excluded"
        )
        self._report(keys.index[repeated], "session_number", message)
        self.bad |= repeated.reindex(self.bad.index, fill_value=False)
