"""`teletherapy analyze` (external paired data) and `teletherapy export` (the app's data).

`analyze` needs no database: it reads a CSV in the format of docs/research.md, reports
every bad cell (row and column) on stderr and leaves it out, never guessing. `export`
writes the pseudonymous research export of the configured database.
"""

import json
import re
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext


@click.command("analyze")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the JSON summary.")
@click.option(
    "--plots",
    "plots_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write every figure as <kind>.svg and <kind>.png into this directory.",
)
@click.option(
    "--no-multilevel",
    is_flag=True,
    help="Skip the multilevel models (the slow part on large files); the headline stays.",
)
@click.option(
    "--score-range",
    type=(float, float),
    metavar="LO HI",
    help="The instrument's range of totals: a score outside it is reported and left out.",
)
@click.option(
    "--events",
    type=click.IntRange(min=0),
    metavar="N",
    help="List at most N rupture events (their number is always reported; "
    "the text report lists 20 by default).",
)
def analyze(
    file: Path,
    as_json: bool,
    plots_dir: Path | None,
    no_multilevel: bool,
    score_range: tuple[float, float] | None,
    events: int | None,
) -> None:
    """Summarize paired client/therapist ratings from FILE.csv (readable report by default)."""
    from ratings.analysis import summarize
    from ratings.pairs_io import PairsFormatError, check_score_range, read_pairs_csv
    from ratings.report import format_report

    try:
        check_score_range(score_range)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--score-range") from None
    try:
        df, problems = read_pairs_csv(file, score_range=score_range)
    except PairsFormatError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    if problems:
        click.echo(f"{len(problems)} problem(s) in {file}, left out:", err=True)
        for problem in problems:
            click.echo(f"  {problem}", err=True)
    summary = summarize(
        df,
        include_multilevel=not no_multilevel,
        multilevel_reason="not requested (teletherapy analyze --no-multilevel)",
        max_events=events,
        score_range=score_range,
    )
    if as_json:
        # the reader found every bad cell; summarize's own list is then empty
        summary["input_problems"] = [p.__dict__ for p in problems] + list(
            summary["input_problems"]
        )
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        click.echo(
            format_report(summary, events=20 if events is None else events), nl=False
        )
    if plots_dir is not None:
        _plots(df, summary, plots_dir)


def _plots(df: Any, summary: dict[str, Any], plots_dir: Path) -> None:
    """The figures; with several instruments one directory of them per instrument (never
    pooled), named after the instrument with anything but letters, digits, '.', '-' as '_'."""
    from ratings.plots import write_plots

    groups = summary.get("by_instrument") or {}
    if not groups:
        written = write_plots(df, summary, plots_dir)
        click.echo(f"wrote {len(written)} figures to {plots_dir}", err=True)
        return
    labels = df["instrument"].astype(object).where(df["instrument"].notna())
    for name, block in groups.items():
        target = plots_dir / re.sub(r"[^A-Za-z0-9.-]", "_", name)
        written = write_plots(df[labels == name], block, target)
        click.echo(f"wrote {len(written)} figures to {target}", err=True)


EXPORT_FORMATS = ("long", "wide", "dyadic", "redcap", "fhir")


@click.command("export")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the files and codebook.md (created if needed).",
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(EXPORT_FORMATS),
    help="long.csv, wide.csv, dyadic.csv, redcap (redcap_dictionary.csv and "
    "redcap_records.csv) or fhir (fhir.json); repeat for several. "
    "Default: long and wide.",
)
@with_appcontext
def export(out_dir: Path, formats: tuple[str, ...]) -> None:
    """The pseudonymous research export: consented, rated sessions only (audited);
    refused when the data hold fewer than RESEARCH_MIN_CELL dyads."""
    from ..extensions import db
    from ..services.errors import ServiceError
    from . import export as research_export
    from .settings import current

    try:
        written = research_export.export_dir(
            db.session(), out_dir, current(), formats or ("long", "wide")
        )
    except ServiceError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    for path in written:
        click.echo(str(path))


def register(cli_group: click.Group) -> None:
    """Add `analyze` and `export` to the app's command group."""
    cli_group.add_command(analyze)
    cli_group.add_command(export)
