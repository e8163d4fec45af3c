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
