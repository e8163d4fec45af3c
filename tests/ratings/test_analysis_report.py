"""format_report: the answer first (direction, size, CI, n), then the rest, never a crash.

The answer is the headline (sessions nested in dyads respected); the session-level tests come
after it, labelled descriptive.
"""

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
    head = summary["headline"]
    assert lines[3] == (
        "Clients rated the alliance higher than therapists by"
        f" {head['estimate']:.2f} points on average"
    )
    ci = head["ci95"]
    assert lines[4].startswith(f"  (95% CI {ci[0]:.2f} to {ci[1]:.2f}, ")
    assert "10 dyads, t(9)" in lines[4]
    assert lines[5] == f"Method: {head['method']}."
    descriptive = text.index(
        "Session-level statistics (descriptive: treats sessions as independent)"
    )
    assert descriptive > text.index(lines[4])
    t_ci = summary["paired_t"]["mean_difference_ci95"]
    assert f"95% CI {t_ci[0]:.2f} to {t_ci[1]:.2f}" in text[descriptive:]
    assert "Paired t(39)" in text[descriptive:]
    assert "Bland–Altman limits" in text
    assert "ICC(A,1) absolute agreement" in text


def test_report_of_the_six_dyad_example_leads_with_no_clear_direction() -> None:
    # Big dyad offsets, no true gap: the session-level t says p < .001, the headline does not.
    offsets = np.array([3.0, 2.5, 2.0, -1.0, -0.5, 1.0])
    rng = np.random.default_rng(11)
    dyad = np.repeat(np.arange(6), 10)
    client = 30 + rng.normal(0, 0.5, 60)
    data = pd.DataFrame(
        {
            "dyad_id": [f"d{i}" for i in dyad],
            "session_number": np.tile(range(1, 11), 6),
            "client_score": client + offsets[dyad],
            "therapist_score": client + rng.normal(0, 0.5, 60),
        }
    )
    summary = summarize(data, include_multilevel=False)
    text = format_report(summary)
    headline = text.splitlines()[3]
    assert "the 95% CI includes 0: no clear direction" in headline
    assert summary["paired_t"]["p"] < 0.001
    assert "Paired t(59) =" in text and "p < .001" in text


def test_report_names_therapists_when_they_rate_higher() -> None:
    text = format_report(summarize(frame(-0.5), include_multilevel=False))
    assert "Therapists rated the alliance higher than clients" in text


def test_report_says_when_the_ci_includes_zero() -> None:
    text = format_report(summarize(frame(0.0), include_multilevel=False))
    assert "no clear direction" in text


def test_report_of_empty_data_explains_instead_of_crashing() -> None:
    text = format_report(summarize(frame(0.5).iloc[:0], include_multilevel=False))
    assert "n = 0 session pairs" in text
    assert (
        "No estimate respecting the nesting of sessions in dyads: needs at least 5 dyads"
        in text
    )
    assert "No difference can be given: no pairs" in text
    assert "- rm_corr:" in text


def test_report_of_several_instruments_gives_one_report_each() -> None:
    data = pd.concat(
        [
            frame(0.5).assign(instrument="wai-sr"),
            frame(-3.0).assign(instrument="srs", dyad_id=lambda f: "s" + f["dyad_id"]),
        ]
    )
    summary = summarize(data, include_multilevel=False)
    text = format_report(summary)
    assert "on 2 instruments (srs, wai-sr)" in text
    assert "never pooled" in text
    srs, wai = text.index("Instrument srs\n"), text.index("Instrument wai-sr\n")
    assert "Therapists rated the alliance higher" in text[srs:wai]
    assert "Clients rated the alliance higher" in text[wai:]
