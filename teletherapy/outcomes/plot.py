"""The client page's figure: each outcome measure over sessions on its severity
bands, and the alliance totals the therapist may see. Imported only when drawn."""

from matplotlib.figure import Figure

from ratings.plots import to_svg

from ..services.outcome_history import ClientHistory

# Light to dark: the bands read as rising severity without relying on colour alone
# (each is also labelled on the right).
BAND_SHADES = ("#eef5ee", "#fbf6e3", "#fbeedd", "#f8e1d8", "#f3d3d3")


def history_svg(history: ClientHistory) -> str:
    panels = len(history.measures) + 1
    fig = Figure(figsize=(7.5, 2.4 * panels), layout="constrained")
    fig.suptitle(f"Outcomes and alliance over sessions: {history.client.display_name}")
    axes = fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]
    numbers = [row.number for row in history.rows]
    for ax, form in zip(axes, history.measures, strict=False):
        for shade, band in zip(BAND_SHADES, form.bands, strict=False):
            ax.axhspan(band.min - 0.5, band.max + 0.5, color=shade, lw=0)
            ax.text(
                1.01,
                (band.min + band.max) / 2,
                band.label,
                va="center",
                fontsize=7,
                transform=ax.get_yaxis_transform(),
            )
        points = [
            (r.number, r.outcomes[form.id].total)
            for r in history.rows
            if form.id in r.outcomes and r.outcomes[form.id].total is not None
        ]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", color="#1f4e79")
        flagged = [
            (r.number, r.outcomes[form.id].total)
            for r in history.rows
            if form.id in r.outcomes and r.outcomes[form.id].flagged
        ]
        if flagged:
            ax.plot(
                *zip(*flagged, strict=True),
                ls="none",
                marker="s",
                ms=10,
                mfc="none",
                mec="#a00",
                label="safety flag",
            )
            ax.legend(loc="upper left", fontsize=7)
        ax.set_ylim(form.bands[0].min - 0.5, form.bands[-1].max + 0.5)
        ax.set_ylabel(f"{form.title} total")
    ax = axes[-1]
    for attr, label, style in (
        ("client_alliance", "client's alliance rating", "-o"),
        ("therapist_alliance", "your alliance rating", "--s"),
    ):
        points = [
            (r.number, getattr(r, attr))
            for r in history.rows
            if getattr(r, attr) is not None
        ]
        if points:
            ax.plot(*zip(*points, strict=True), style, label=label)
    if ax.lines:
        ax.legend(loc="lower left", fontsize=7)
    ax.set_ylabel("alliance total")
    ax.set_xlabel("session")
    if numbers:
        ax.set_xticks(numbers)
    return to_svg(fig)
