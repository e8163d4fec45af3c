"""Researchers' reads: the summary, plots, paired rows and the dashboard, all audited.

Each read of (pseudonymous) health data leaves one audit row with the filters and
the number of pairs, never a score. ``ratings.analysis`` and ``ratings.plots``
(pingouin, statsmodels, matplotlib) are imported here only when a read runs. The
configuration comes in as ``ResearchSettings`` from the views and the API.
"""

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ratings.pairs import PairRecord, records_frame

from ..models import Rating, TherapySession
from ..services import audit
from ..services.errors import NotFound
from ..services.pseudonyms import Pseudonymizer
from .cells import small_modalities, suppress_small_groups
from .rows import (
    Filters,
    PairRow,
    eligible,
    instruments_in,
    numbered_sessions,
    pair_rows,
)
from .settings import ResearchSettings

PLOT_FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
DASHBOARD_EVENTS = 20  # ruptures listed on the page; the API summary lists all


# The outcome the analyses relate the alliance to: the client's PHQ-9 total answered
# before each session (docs/outcomes.md); a skipped or unasked questionnaire is None.
OUTCOME_MEASURE = "phq9"


def records(rows: list[PairRow]) -> list[PairRecord]:
    """The rows as ``ratings``' typed pair records (docs/research.md, Input)."""
    return [
        PairRecord(
            dyad_id=r.dyad_pid,
            session_number=r.session_number,
            client_score=r.client.total,
            therapist_score=r.therapist.total,
            modality=r.modality,
            therapist_id=r.therapist_pid,
            instrument=r.instrument or None,
            predicted_client_score=r.predicted_client_score,
            outcome=_number(r.outcomes.get(OUTCOME_MEASURE)),
            rtt_ms=r.rtt_ms,
            packet_loss_pct=r.packet_loss_pct,
            client_subscales=r.client.subscales,
            therapist_subscales=r.therapist.subscales,
        )
        for r in rows
    ]


def _number(value: int | None) -> float | None:
    return None if value is None else float(value)


def analyse(
    rows: list[PairRow],
    filters: Filters,
    settings: ResearchSettings,
    *,
    full: bool,
    max_events: int | None = None,
) -> dict[str, Any]:
    """The analysis JSON of these rows, with the filters and instruments it covers.

    ``full``: fit the multilevel models unless there are more pairs than
    settings.multilevel_max_pairs (they take minutes on large data);
    ``max_events``: list at most this many ruptures (their number is always given).
    A group block (by_instrument, by_modality) of fewer than settings.min_cell dyads is
    replaced by a marker without its count (cells.suppress_small_groups)."""
    from ratings.analysis import summarize_records

    limit = settings.multilevel_max_pairs
    multilevel = full and len(rows) <= limit
    reason = (
        f"not fitted here: more than {limit} pairs; run `teletherapy analyze` on the "
        "export"
        if full
        else "not fitted on the dashboard (it is slow); see the API summary or "
        "`teletherapy analyze`"
    )
    summary = summarize_records(
        records(rows),
        include_multilevel=multilevel,
        multilevel_reason=reason,
        max_events=max_events,
    )
    summary["filters"] = filters.as_args()
    summary["instruments"] = instruments_in(rows)
    return suppress_small_groups(summary, settings.min_cell)


def _record(
    db: Session,
    action: str,
    actor_id: str | None,
    filters: Filters,
    *,
    origin: str | None,
    **more: Any,
) -> None:
    audit.record(
        db,
        action,
        actor_id,
        "research",
        None,
        origin=origin,
        **filters.as_args(),
        **more,
    )
    db.commit()


def summary(
    db: Session,
    actor_id: str,
    filters: Filters,
    settings: ResearchSettings,
    *,
    origin: str | None,
) -> dict[str, Any]:
    """GET /api/v1/research/summary: the complete analysis JSON (audited)."""
    rows = pair_rows(db, filters, settings)
    _record(db, "research.summary", actor_id, filters, n_pairs=len(rows), origin=origin)
    return analyse(rows, filters, settings, full=True)


def pairs(
    db: Session,
    actor_id: str,
    filters: Filters,
    settings: ResearchSettings,
    *,
    origin: str | None,
) -> list[PairRow]:
    """GET /api/v1/research/pairs: every row (audited; the caller pages them)."""
    rows = pair_rows(db, filters, settings)
    _record(db, "research.pairs", actor_id, filters, n_pairs=len(rows), origin=origin)
    return rows


def plot_mimetype(kind: str, fmt: str) -> str:
    """The media type of a plot; 404 for an unknown kind or format."""
    from ratings.plots import KINDS

    if kind not in KINDS or fmt not in PLOT_FORMATS:
        raise NotFound("no such plot")
    return PLOT_FORMATS[fmt]


def plot(
    db: Session,
    actor_id: str,
    filters: Filters,
    settings: ResearchSettings,
    kind: str,
    fmt: str,
    *,
    origin: str | None,
) -> bytes:
    """One figure as SVG or PNG bytes; 404 for an unknown kind or format."""
    from ratings import plots

    plot_mimetype(kind, fmt)
    rows = pair_rows(db, filters, settings)
    _record(
        db,
        "research.plot",
        actor_id,
        filters,
        kind=kind,
        n_pairs=len(rows),
        origin=origin,
    )
    pairs = records(rows)
    if kind == "modality":  # a modality of too few dyads gets no box, no n: left out
        small = small_modalities(rows, settings.min_cell)
        pairs = [replace(p, modality=None) if p.modality in small else p for p in pairs]
    df = records_frame(pairs)
    # Only the trajectories mark ruptures from the summary; the others need none.
    result = (
        analyse(rows, filters, settings, full=False)
        if kind == "trajectories" and rows
        else None
    )
    if fmt == "svg":
        return plots.render_svg(kind, df, result).encode("utf-8")
    return plots.render_png(kind, df, result)


@dataclass(frozen=True)
class Dashboard:
    summary: dict[str, Any]
    n_pairs: int
    options: dict[str, list[str]]


def dashboard(
    db: Session,
    actor_id: str,
    filters: Filters,
    settings: ResearchSettings,
    *,
    origin: str | None,
) -> Dashboard:
    """The researcher's page: summary without the multilevel models, filter choices."""
    rows = pair_rows(db, filters, settings)
    _record(
        db, "research.dashboard", actor_id, filters, n_pairs=len(rows), origin=origin
    )
    return Dashboard(
        analyse(rows, filters, settings, full=False, max_events=DASHBOARD_EVENTS),
        len(rows),
        filter_options(db, settings),
    )


def filter_options(db: Session, settings: ResearchSettings) -> dict[str, list[str]]:
    """Therapist pseudonyms and instrument ids that occur in the consented data."""
    pid = Pseudonymizer(settings.pseudonym_key)
    therapists = {
        pid("therapist", s.therapist_id) for s in numbered_sessions(db).values()
    }
    stmt = (
        select(Rating.instrument_id)
        .join(TherapySession, TherapySession.id == Rating.session_id)
        .where(*eligible())
        .distinct()
    )
    instruments = set(db.scalars(stmt))
    for pair_id, forms in settings.instrument_pairs.items():
        if isinstance(forms, dict) and set(forms.values()) & instruments:
            instruments.add(pair_id)
    return {"therapists": sorted(therapists), "instruments": sorted(instruments)}
