"""format_report: the answer first (direction, size, CI, n), then the rest, never a crash."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ratings.analysis import summarize
from ratings.report import format_report


def frame(shift: float, n_dyads: int = 10, sessions: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    n = n_dyads * sessions
    client = rng.normal(5.5, 0.6, n)
    return pd.DataFrame(
        {
            "dyad_id": np.repeat([f"d{i}" for i in range(n_dyads)], sessions),
            "session_number": np.tile(range(1, sessions + 1), n_dyads),
            "client_score": client,
            "therapist_score": client - shift + rng.normal(0, 0.2, n),
        }
    )


def test_report_leads_with_direction_size_ci_and_n() -> None:
    summary = summarize(frame(0.5), include_multilevel=False)
    text = format_report(summary)
    lines = text.splitlines()
    assert lines[2].startswith("n = 40 session pairs from 10 dyads")
    assert lines[3].startswith(
        "Clients rated the alliance higher than therapists by 0."
    )
    ci = summary["paired_t"]["mean_difference_ci95"]
    assert f"95% CI {ci[0]:.2f} to {ci[1]:.2f}" in lines[4]
    assert "Bland–Altman limits" in text
    assert "ICC(A,1) absolute agreement" in text


def test_report_names_therapists_when_they_rate_higher() -> None:
    text = format_report(summarize(frame(-0.5), include_multilevel=False))
    assert "Therapists rated the alliance higher than clients" in text


def test_report_says_when_the_ci_includes_zero() -> None:
    text = format_report(summarize(frame(0.0), include_multilevel=False))
    assert "no clear direction" in text


def test_report_of_empty_data_explains_instead_of_crashing() -> None:
    text = format_report(summarize(frame(0.5).iloc[:0], include_multilevel=False))
    assert "n = 0 session pairs" in text
    assert "No difference can be given: no pairs" in text
    assert "- rm_corr:" in text
