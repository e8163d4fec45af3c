"""Figures comparing client and therapist ratings, as SVG text or PNG bytes.

Built on matplotlib ``Figure`` objects, never pyplot: no global figure state, safe to call from
a web request. Each figure has a title with n and labelled axes; data too small for a figure
gives a figure that says so instead of raising. How to read them: docs/research.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from io import BytesIO
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
from matplotlib import rc_context, rcParams
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._stats_agreement import bland_altman
from ._stats_common import Unsupported

KINDS = ("scatter", "bland_altman", "trajectories", "modality")
#: drawn when the pairs have an outcome column (write_plots) or on request (figure)
OUTCOME_KIND = "outcome"
CLIENT, THERAPIST = (
    "#0072B2",
    "#D55E00",
)  # Okabe-Ito blue / vermillion, distinct in greyscale
RASTERIZE_ABOVE = 2000  # points; keeps SVGs of large exports small
PNG_DPI = 120
SVG_HASH_SALT = "ratings.plots"
Summary = Mapping[str, Any]


def scatter_figure(df: pd.DataFrame, summary: Summary | None = None) -> Figure:
    """Client (x) against therapist (y) score per session pair, with the identity line."""
    title = f"Client vs therapist ratings ({_n(df)})"
    if len(df) == 0:
        return _message(title, "No paired ratings to plot.")
    fig, ax = _figure(title)
    c, t = df["client_score"], df["therapist_score"]
    ax.scatter(c, t, s=_size(len(df)), alpha=0.5, color=CLIENT, rasterized=_raster(df))
    low, high = float(min(c.min(), t.min())), float(max(c.max(), t.max()))
    pad = 0.05 * (high - low or 1)
    ax.plot(
        [low - pad, high + pad], [low - pad, high + pad], color="grey", ls="--", lw=1
    )
    ax.text(
        0.02,
        0.97,
        "dashed: identical ratings",
        transform=ax.transAxes,
        va="top",
        fontsize=9,
    )
    ax.set(xlabel="Client score", ylabel="Therapist score", aspect="equal")
    return fig


def bland_altman_figure(df: pd.DataFrame, summary: Summary | None = None) -> Figure:
    """Difference (client - therapist) against the pair mean, with bias, limits and their CIs."""
    title = f"Bland–Altman plot ({_n(df)})"
    c = df["client_score"].to_numpy(dtype=float)
    t = df["therapist_score"].to_numpy(dtype=float)
    try:
        ba = dict(summary["bland_altman"]) if summary else bland_altman(c, t)
    except Unsupported as exc:
        return _message(title, f"No limits of agreement: {exc}.")
    if ba.get("bias") is None:
        return _message(title, "No limits of agreement for these data.")
    fig, ax = _figure(title)
    size, raster = _size(len(df)), _raster(df)
    ax.scatter((c + t) / 2, c - t, s=size, alpha=0.5, color="black", rasterized=raster)
    ax.axhline(0, color="grey", lw=0.8, ls=":")
    for key, label, style in (
        ("bias", "bias", "-"),
        ("loa_upper", "upper limit", "--"),
        ("loa_lower", "lower limit", "--"),
    ):
        ax.axhline(
            ba[key], color=THERAPIST, ls=style, lw=1.5, label=f"{label} {ba[key]:.2f}"
        )
        band = ba.get(f"{key}_ci95")
        if band and None not in band:
            ax.axhspan(band[0], band[1], color=THERAPIST, alpha=0.12, lw=0)
    ax.set(xlabel="Mean of client and therapist scores", ylabel="Client − therapist")
    ax.legend(loc="upper right", fontsize=9, title="bands: 95% CI", title_fontsize=8)
    return fig


def trajectories_figure(
    df: pd.DataFrame,
    summary: Summary | None = None,
    dyads: Sequence[str] | None = None,
    max_panels: int = 12,
) -> Figure:
    """Both perspectives over sessions, one small panel per dyad; ruptures marked when known."""
    ids = (
        list(dyads) if dyads is not None else sorted(df["dyad_id"].astype(str).unique())
    )
    shown = ids[:max_panels]
    total = df["dyad_id"].nunique()
    title = (
        f"Ratings over sessions ({len(shown)} of {total} dyads; n = {len(df)} pairs)"
    )
    if not shown:
        return _message(title, "No dyads to plot.")
    cols = min(4, len(shown))
    rows = -(-len(shown) // cols)
    fig = Figure(figsize=(3 * cols, 2.4 * rows + 0.8), layout="constrained")
    rupture = (summary or {}).get("ruptures") or {}
    fig.suptitle(title + _rupture_note(rupture))
    axes = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False).ravel()
    events = _rupture_events(rupture)
    for ax, dyad in zip(axes, shown, strict=False):
        series = df[df["dyad_id"].astype(str) == dyad].sort_values("session_number")
        _trajectory(ax, series, dyad, events[events["dyad_id"] == dyad])
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8, loc="lower left")
    fig.supxlabel("Session")
    fig.supylabel("Alliance score")
    return fig


def _rupture_note(rupture: Summary) -> str:
    """The title's second line: what the markers mean, with the rule's threshold."""
    if not rupture:
        return ""
    threshold = rupture.get("threshold") or {}
    note = (
        f"\n▽ rupture (drop ≥ {threshold.get('sd_multiple', 0):g} SD within dyads from the "
        "preceding level), ▲ its repair"
    )
    listed, total = rupture.get("events_listed"), rupture.get("n_events")
    if listed is not None and total is not None and listed < total:
        note += f"; {listed} of {total} ruptures listed"
    return note


def _trajectory(
    ax: Axes, series: pd.DataFrame, dyad: str, events: pd.DataFrame
) -> None:
    x = series["session_number"]
    ax.plot(x, series["client_score"], "o-", color=CLIENT, ms=3, label="client")
    ax.plot(
        x, series["therapist_score"], "s--", color=THERAPIST, ms=3, label="therapist"
    )
    scores = series.set_index("session_number")
    for perspective, color in (("client", CLIENT), ("therapist", THERAPIST)):
        column = scores[f"{perspective}_score"]
        hits = events[events["perspective"] == perspective]
        drops = hits["session_number"][hits["session_number"].isin(column.index)]
        if len(drops):
            ax.plot(drops, column[drops], "v", color=color, ms=8, mfc="none")
        repaired = hits["repaired_session"].dropna().astype(int)
        repaired = repaired[repaired.isin(column.index)]
        if len(repaired):
            ax.plot(repaired, column[repaired], "^", color=color, ms=6)
    ax.set_title(f"{dyad} (n = {len(series)})", fontsize=9)


def _rupture_events(rupture: Summary) -> pd.DataFrame:
    columns = ["dyad_id", "perspective", "session_number", "repaired_session"]
    events = pd.DataFrame(rupture.get("events") or [], columns=columns)
    return events.astype({"dyad_id": str})


def modality_figure(df: pd.DataFrame, summary: Summary | None = None) -> Figure:
    """Distribution of client - therapist per modality: box plot with the points over it."""
    has = "modality" in df and df["modality"].notna().any()
    data = df.dropna(subset=["modality"]) if has else df.iloc[0:0]
    title = f"Discrepancy by modality ({_n(data)})"
    if len(data) == 0:
        return _message(title, "No modality recorded for these pairs.")
    fig, ax = _figure(title)
    groups = [(str(m), g) for m, g in data.groupby("modality", sort=True)]
    diffs = [(g["client_score"] - g["therapist_score"]).to_numpy() for _, g in groups]
    ax.boxplot(diffs, showfliers=False, widths=0.5)
    # fixed seed: identical figures for identical data
    jitter = np.random.default_rng(0)
    for i, values in enumerate(diffs, start=1):
        x = i + jitter.uniform(-0.15, 0.15, len(values))
        ax.scatter(
            x,
            values,
            s=_size(len(data)),
            alpha=0.4,
            color=CLIENT,
            rasterized=_raster(data),
        )
    ax.set_xticks(
        range(1, len(groups) + 1), [f"{m}\n(n = {len(g)})" for m, g in groups]
    )
    ax.axhline(0, color="grey", lw=0.8, ls=":")
    ax.set(xlabel="Modality", ylabel="Client − therapist")
    return fig


def outcome_figure(df: pd.DataFrame, summary: Summary | None = None) -> Figure:
    """The within-dyad relation of the discrepancy to the next session's outcome.

    x: the session's gap (client - therapist) minus the dyad's own average gap; y: the next
    outcome with the model's other terms (dyad level, current outcome, session number)
    removed (partial residual = b_w x + residual). The line is the within-dyad slope b_w of
    ratings._stats_outcome's model, the band its 95% CI. ``summary`` is not needed: the
    figure fits the same model on ``df``.
    """
    from ._stats_outcome import within_relation

    title = "Alliance gap and the next outcome, within dyads"
    try:
        data, fit = within_relation(df)
    except Unsupported as exc:
        return _message(f"{title} ({_n(df)})", f"No outcome analysis: {exc}.")
    n = f"n = {len(data)} lagged pairs, {data['dyad_id'].nunique()} dyads"
    fig, ax = _figure(f"{title} ({n})")
    ax.scatter(
        fit.within,
        fit.partial,
        s=_size(len(data)),
        alpha=0.5,
        color=CLIENT,
        rasterized=len(data) > RASTERIZE_ABOVE,
    )
    effect = fit.effects["within"]
    slope, (low, high) = effect["estimate"], effect["ci95"]
    x = np.linspace(float(fit.within.min()), float(fit.within.max()), 50)
    ax.fill_between(x, x * low, x * high, color=THERAPIST, alpha=0.15, lw=0)
    ax.plot(
        x,
        x * slope,
        color=THERAPIST,
        lw=2,
        label=f"slope {slope:.2f} (95% CI {low:.2f} to {high:.2f})",
    )
    ax.axhline(0, color="grey", lw=0.8, ls=":")
    ax.axvline(0, color="grey", lw=0.8, ls=":")
    ax.set(
        xlabel="Gap (client − therapist) minus the dyad's own average gap (within-dyad)",
        ylabel="Next outcome, other terms removed (partial residual)",
    )
    ax.legend(loc="upper right", fontsize=9, title="band: 95% CI", title_fontsize=8)
    ax.text(
        0.02,
        0.02,
        "right of 0: the client rated the alliance higher, relative to the therapist,\n"
        "than usual in this dyad; a falling line: lower outcome scores followed",
        transform=ax.transAxes,
        fontsize=8,
    )
    return fig


BUILDERS: dict[str, Callable[..., Figure]] = {
    "scatter": scatter_figure,
    "bland_altman": bland_altman_figure,
    "trajectories": trajectories_figure,
    "modality": modality_figure,
    OUTCOME_KIND: outcome_figure,
}


def figure(kind: str, df: pd.DataFrame, summary: Summary | None = None) -> Figure:
    """The figure of one kind (see KINDS, and OUTCOME_KIND)."""
    if kind not in BUILDERS:
        raise ValueError(f"'kind' must be in {list(BUILDERS)} (got {kind!r})")
    return BUILDERS[kind](df, summary)


def to_svg(fig: Figure) -> str:
    """SVG text with the figure title as the document's <title> (for screen readers)."""
    title = fig.get_suptitle()
    buffer = BytesIO()
    # matplotlib salts its SVG ids randomly unless svg.hashsalt is set: fix it (a caller's
    # own setting wins), so the same figure gives the same bytes
    salt = rcParams["svg.hashsalt"] or SVG_HASH_SALT
    with rc_context({"svg.hashsalt": salt}):
        fig.savefig(buffer, format="svg", metadata={"Title": title, "Date": None})
    svg = buffer.getvalue().decode("utf-8")
    head = re.search(r"<svg\b[^>]*>", svg)
    if head is None:  # pragma: no cover - matplotlib always writes an <svg> root
        return svg
    return f"{svg[: head.end()]}<title>{escape(title)}</title>{svg[head.end() :]}"


def to_png(fig: Figure, dpi: int = PNG_DPI) -> bytes:
    """PNG bytes of the figure."""
    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def render_svg(kind: str, df: pd.DataFrame, summary: Summary | None = None) -> str:
    """SVG text of one kind of figure."""
    return to_svg(figure(kind, df, summary))


def render_png(kind: str, df: pd.DataFrame, summary: Summary | None = None) -> bytes:
    """PNG bytes of one kind of figure."""
    return to_png(figure(kind, df, summary))


def write_plots(
    df: pd.DataFrame, summary: Summary | None, out_dir: str | Path
) -> list[Path]:
    """Write every figure as <kind>.svg and <kind>.png into out_dir; return the paths.

    The outcome figure is written when ``df`` has an outcome column."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    kinds = [*KINDS, OUTCOME_KIND] if "outcome" in df else list(KINDS)
    for kind in kinds:
        fig = figure(kind, df, summary)
        (svg := out / f"{kind}.svg").write_text(to_svg(fig), encoding="utf-8")
        (png := out / f"{kind}.png").write_bytes(to_png(fig))
        written += [svg, png]
    return written


def _figure(title: str) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(7, 5), layout="constrained")
    fig.suptitle(title)
    return fig, fig.add_subplot()


def _message(title: str, message: str) -> Figure:
    fig, ax = _figure(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, fontsize=12)
    ax.set_axis_off()
    return fig


def _n(df: pd.DataFrame) -> str:
    dyads = df["dyad_id"].nunique() if "dyad_id" in df else 0
    return f"n = {len(df)} pairs, {dyads} dyads"


def _size(n: int) -> float:
    return float(np.clip(400 / np.sqrt(max(n, 1)), 2, 30))


def _raster(df: pd.DataFrame) -> bool:
    return len(df) > RASTERIZE_ABOVE
