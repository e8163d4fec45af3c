"""Figures: valid SVG with the title, PNG bytes, a message instead of an error for tiny data."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pytest

from ratings.analysis import summarize
from ratings.plots import KINDS, figure, render_png, render_svg, write_plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"
TITLES = {
    "scatter": "Client vs therapist ratings",
    "bland_altman": "Bland–Altman plot",
    "trajectories": "Ratings over sessions",
    "modality": "Discrepancy by modality",
}


@pytest.fixture(scope="module")
def pairs() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    dyad = np.repeat(np.arange(6), 5)
    client = rng.normal(5.5, 0.7, len(dyad))
    return pd.DataFrame(
        {
            "dyad_id": [f"d{i}" for i in dyad],
            "session_number": np.tile(range(1, 6), 6),
            "client_score": client,
            "therapist_score": client - 0.4 + rng.normal(0, 0.4, len(dyad)),
            "modality": np.where(dyad < 3, "video", "chat"),
        }
    )


def svg_title(svg: str) -> str:
    root = ElementTree.fromstring(svg)  # noqa: S314 - our own output, not untrusted input
    title = root.find(f"{SVG}title")
    assert title is not None and title.text
    return title.text


@pytest.mark.parametrize("kind", KINDS)
def test_svg_is_xml_with_the_title_and_n(kind: str, pairs: pd.DataFrame) -> None:
    title = svg_title(render_svg(kind, pairs))
    assert title.startswith(TITLES[kind])
    assert "6" in title  # dyads (or panels) are counted in every title


@pytest.mark.parametrize("kind", KINDS)
def test_png_has_the_png_signature(kind: str, pairs: pd.DataFrame) -> None:
    assert render_png(kind, pairs).startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rows", [0, 1, 2])
def test_tiny_data_gives_a_figure_with_a_message(
    kind: str, rows: int, pairs: pd.DataFrame
) -> None:
    svg = render_svg(kind, pairs.iloc[:rows])
    assert svg_title(svg).startswith(TITLES[kind])
    assert render_png(kind, pairs.iloc[:rows]).startswith(PNG_SIGNATURE)


def test_empty_data_figure_says_why(pairs: pd.DataFrame) -> None:
    fig = figure("bland_altman", pairs.iloc[:2])
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert texts == ["No limits of agreement: needs at least 3 pairs (got 2)."]
    fig = figure("modality", pairs.drop(columns="modality"))
    assert [t.get_text() for t in fig.axes[0].texts] == [
        "No modality recorded for these pairs."
    ]


def test_bland_altman_figure_draws_bias_limits_and_ci_bands(
    pairs: pd.DataFrame,
) -> None:
    summary = summarize(pairs, include_multilevel=False)
    ax = figure("bland_altman", pairs, summary).axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    ba = summary["bland_altman"]
    assert f"bias {ba['bias']:.2f}" in labels
    assert f"lower limit {ba['loa_lower']:.2f}" in labels
    assert len(ax.patches) == 3  # CI bands of the bias and of both limits
    assert ax.get_xlabel() and ax.get_ylabel()


def test_unknown_kind_is_rejected_with_the_choices(pairs: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="'kind' must be in"):
        figure("pie", pairs)


def test_write_plots_writes_svg_and_png_of_every_kind(
    pairs: pd.DataFrame, tmp_path: Path
) -> None:
    summary = summarize(pairs, include_multilevel=False)
    written = write_plots(pairs, summary, tmp_path / "plots")
    assert sorted(p.name for p in written) == sorted(
        f"{k}.{ext}" for k in KINDS for ext in ("svg", "png")
    )
    assert all(p.stat().st_size > 0 for p in written)


def test_plotting_leaves_no_pyplot_figures_behind(pairs: pd.DataFrame) -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    for kind in KINDS:
        render_png(kind, pairs)
    assert plt.get_fignums() == before


def rupture_pairs() -> pd.DataFrame:
    """Six dyads of six sessions; dyad a drops by 10 at session 4 and is back at 5, dyad b
    drops at 4 and stays down."""
    rng = np.random.default_rng(5)
    rows = []
    for i, dyad in enumerate(["a", "b", "c", "d", "e", "f"]):
        client = 30 + rng.normal(0, 1, 6)
        if dyad == "a":
            client[3] -= 10
        if dyad == "b":
            client[3:] -= 10
        for session in range(6):
            rows.append(
                {
                    "dyad_id": dyad,
                    "session_number": session + 1,
                    "client_score": client[session],
                    "therapist_score": 28 + rng.normal(0, 1) + i * 0.1,
                }
            )
    return pd.DataFrame(rows)


def test_trajectories_mark_ruptures_and_repairs_from_the_summary() -> None:
    data = rupture_pairs()
    summary = summarize(data, include_multilevel=False)
    events = {e["dyad_id"]: e for e in summary["ruptures"]["events"]}
    assert events["a"]["session_number"] == 4 and events["a"]["repaired_session"] == 5
    assert events["b"]["repaired_session"] is None
    fig = figure("trajectories", data, summary)
    assert "▽ rupture" in fig.get_suptitle() and "▲ its repair" in fig.get_suptitle()

    def markers(ax: object, marker: str) -> list[tuple[float, float]]:
        return [
            (float(x), float(y))
            for line in ax.get_lines()  # type: ignore[attr-defined]
            if line.get_marker() == marker
            for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True)
        ]

    panel = {ax.get_title().split(" ")[0]: ax for ax in fig.axes if ax.get_title()}
    a = data[data["dyad_id"] == "a"].set_index("session_number")["client_score"]
    assert markers(panel["a"], "v") == [(4.0, a[4])]
    assert markers(panel["a"], "^") == [(5.0, a[5])]
    assert len(markers(panel["b"], "v")) == 1 and markers(panel["b"], "^") == []
    assert markers(panel["c"], "v") == []


def test_trajectories_say_when_the_event_list_is_cut() -> None:
    data = rupture_pairs()
    summary = summarize(data, include_multilevel=False)
    cut = {**summary, "ruptures": {**summary["ruptures"], "events_listed": 1}}
    assert "1 of 2 ruptures listed" in figure("trajectories", data, cut).get_suptitle()


@pytest.mark.parametrize("kind", KINDS)
def test_svg_output_is_deterministic(kind: str, pairs: pd.DataFrame) -> None:
    summary = summarize(pairs, include_multilevel=False)
    assert render_svg(kind, pairs, summary) == render_svg(kind, pairs, summary)
