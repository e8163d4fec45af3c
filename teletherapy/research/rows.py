"""Pseudonymous research data: consented, rated sessions as paired rows.

Only ended sessions where **both** the client and the therapist have an active
research consent at query time take part, so a withdrawal removes a person from
every later summary, plot and export. Rows hold pseudonyms (services/pseudonyms.py),
scores, the therapist's predicted client total (predictions.py), the instrument pair,
modality, the session's number in its dyad's course, connection quality and how
often the call was switched to audio only; never names, e-mail addresses, chat or
free text; the session's date only as its ISO week, and the client's outcome
questionnaire totals (PHQ-9, GAD-7) before this session and before the next one.
Every read refuses a slice of fewer than ``settings.min_cell`` dyads and date filters
that are not whole ISO weeks (cells.py). Statistics and plots come from
``ratings`` (imported lazily: pandas, pingouin and statsmodels are slow to import).
The configuration (instrument pairs, registry) comes in as ``ResearchSettings``.
"""

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import (
    QualitySample,
    Rating,
    ResearchConsent,
    SessionStatus,
    TherapySession,
)
from ..services.pseudonyms import Pseudonymizer
from .cells import check_dates, iso_week, require_min_cell
from .filters import FILTER_KEYS, Filters, parse_filters
from .outcome_rows import attach_outcomes
from .predictions import predicted_client_total
from .settings import ResearchSettings

__all__ = ["FILTER_KEYS", "Filters", "PairRow", "Side", "pair_rows", "parse_filters"]


@dataclass(frozen=True)
class Side:
    """One perspective's rating of a session."""

    instrument_id: str
    instrument_version: str
    total: float | None
    subscales: dict[str, float | None]
    meta_answers: dict[str, Any] | None = None


@dataclass
class PairRow:
    """One rated session: both ratings, under pseudonyms."""

    session_pid: str
    dyad_pid: str
    therapist_pid: str
    session_number: int
    modality: str
    client: Side
    therapist: Side
    instrument: str = ""
    predicted_client_score: float | None = None
    rtt_ms: float | None = None
    packet_loss_pct: float | None = None
    quality_samples: int = 0
    audio_only_switches: int = 0
    week: str | None = None
    # outcome instrument id (phq9, gad7) -> total before this session / the next one
    # (None: skipped); absent when not asked
    outcomes: dict[str, int | None] = field(default_factory=dict)
    next_outcomes: dict[str, int | None] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def difference(self) -> float | None:
        return _minus(self.client.total, self.therapist.total)


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def subscale_names(rows: Iterable[PairRow]) -> list[str]:
    """Subscales in the order the instruments list them (first seen first)."""
    names: dict[str, None] = {}
    for row in rows:
        for side in (row.client, row.therapist):
            names.update(dict.fromkeys(side.subscales))
    return list(names)


def _consenting() -> Any:
    return select(ResearchConsent.user_id).where(ResearchConsent.withdrawn_at.is_(None))


def eligible() -> list[Any]:
    """Ended sessions whose client and therapist both consent now."""
    return [
        TherapySession.status == SessionStatus.ENDED,
        TherapySession.therapist_id.in_(_consenting()),
        TherapySession.client_id.in_(_consenting()),
    ]


@dataclass(frozen=True)
class EligibleSession:
    id: str
    therapist_id: str
    client_id: str
    modality: str
    started_at: datetime | None
    number: int


def numbered_sessions(db: Session) -> dict[str, EligibleSession]:
    """Every eligible session, numbered within its dyad in chronological order."""
    stmt = select(
        TherapySession.id,
        TherapySession.therapist_id,
        TherapySession.client_id,
        TherapySession.modality,
        TherapySession.started_at,
        TherapySession.scheduled_start,
    ).where(*eligible())
    by_dyad: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for r in db.execute(stmt):
        by_dyad[(r.therapist_id, r.client_id)].append(r)
    out: dict[str, EligibleSession] = {}
    for rows in by_dyad.values():
        rows.sort(key=lambda r: (r.started_at or r.scheduled_start, r.id))
        for n, r in enumerate(rows, start=1):
            out[r.id] = EligibleSession(
                r.id, r.therapist_id, r.client_id, r.modality, r.started_at, n
            )
    return out


def _in_range(s: EligibleSession, f: Filters) -> bool:
    if f.modality and s.modality != f.modality:
        return False
    if not (f.start or f.end):
        return True
    if s.started_at is None:
        return False
    low = datetime.combine(f.start or date.min, time(), UTC)
    high = datetime.combine(f.end, time(), UTC) + timedelta(days=1) if f.end else None
    return s.started_at >= low and (high is None or s.started_at < high)


def _ratings(db: Session, keep: set[str]) -> dict[str, dict[str, Side]]:
    stmt = (
        select(
            Rating.session_id,
            Rating.perspective,
            Rating.instrument_id,
            Rating.instrument_version,
            Rating.total,
            Rating.subscales,
            Rating.meta_answers,
        )
        .join(TherapySession, TherapySession.id == Rating.session_id)
        .where(*eligible())
    )
    out: dict[str, dict[str, Side]] = defaultdict(dict)
    for r in db.execute(stmt):
        if r.session_id in keep:
            subs = {str(k): _number(v) for k, v in (r.subscales or {}).items()}
            meta = dict(r.meta_answers) if r.meta_answers else None
            side = Side(
                r.instrument_id, r.instrument_version, _number(r.total), subs, meta
            )
            out[r.session_id][r.perspective] = side
    return out


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True)
class _Quality:
    rtt_ms: float | None = None
    packet_loss_pct: float | None = None
    samples: int = 0
    audio_only_switches: int = 0


def _quality(db: Session, keep: set[str]) -> dict[str, _Quality]:
    """Per session: median round-trip time, mean packet loss and number of the
    periodic samples, and the switches to audio only. A switch's row repeats the
    page's latest numbers, so it stays out of the sample statistics."""
    stmt = (
        select(
            QualitySample.session_id,
            QualitySample.rtt_ms,
            QualitySample.packet_loss_pct,
            QualitySample.audio_only,
        )
        .join(TherapySession, TherapySession.id == QualitySample.session_id)
        .where(*eligible())
    )
    samples: dict[str, list[tuple[float, float]]] = defaultdict(list)
    switches: dict[str, int] = defaultdict(int)
    for r in db.execute(stmt):
        if r.session_id not in keep:
            continue
        if r.audio_only is None:
            samples[r.session_id].append((r.rtt_ms, r.packet_loss_pct))
        elif r.audio_only:
            switches[r.session_id] += 1
    return {
        sid: _summary(samples.get(sid, []), switches.get(sid, 0))
        for sid in samples.keys() | switches.keys()
    }


def _summary(values: list[tuple[float, float]], switches: int) -> _Quality:
    if not values:
        return _Quality(audio_only_switches=switches)
    return _Quality(
        statistics.median(v[0] for v in values),
        statistics.fmean(v[1] for v in values),
        len(values),
        switches,
    )


def pair_rows(
    db: Session, filters: Filters, settings: ResearchSettings
) -> list[PairRow]:
    """The rows of ``pair_rows_unchecked``, for every research read: refused (422
    ``small_cell``) when the date filters are not whole ISO weeks or the rows come from
    fewer than ``settings.min_cell`` dyads (cells.py)."""
    check_dates(filters)
    rows = pair_rows_unchecked(db, filters, settings)
    require_min_cell(rows, settings.min_cell)
    return rows


def pair_rows_unchecked(
    db: Session, filters: Filters, settings: ResearchSettings
) -> list[PairRow]:
    """Rows of every eligible session rated from both sides, sorted by pseudonym
    (no small-cell check: for the codebook's list of columns and instruments only).

    ``instrument`` is the pair the two forms belong to (settings.pair_id);
    ``predicted_client_score`` the therapist's meta-perception answers scored on the
    client form's total scale (predictions.py), None when there are none."""
    pid = Pseudonymizer(settings.pseudonym_key)
    numbered = numbered_sessions(db)
    sessions = {k: s for k, s in numbered.items() if _in_range(s, filters)}
    rated = _ratings(db, set(sessions))
    both = {k: v for k, v in rated.items() if {"client", "therapist"} <= set(v)}
    if filters.instrument:
        wanted = settings.instrument_ids(filters.instrument)
        both = {
            k: v
            for k, v in both.items()
            if {v["client"].instrument_id, v["therapist"].instrument_id} & wanted
        }
    quality = _quality(db, set(both))
    rows: list[tuple[EligibleSession, PairRow]] = []
    for sid, sides in both.items():
        s = sessions[sid]
        c, t = sides["client"], sides["therapist"]
        row = PairRow(
            session_pid=pid("session", s.id),
            dyad_pid=pid("dyad", s.therapist_id, s.client_id),
            therapist_pid=pid("therapist", s.therapist_id),
            session_number=s.number,
            modality=s.modality,
            week=iso_week(s.started_at),
            client=c,
            therapist=t,
            instrument=settings.pair_id(c.instrument_id, t.instrument_id),
            predicted_client_score=predicted_client_total(
                settings.registry,
                (c.instrument_id, c.instrument_version),
                t.meta_answers,
            ),
        )
        q = quality.get(sid, _Quality())
        row.rtt_ms, row.packet_loss_pct = q.rtt_ms, q.packet_loss_pct
        row.quality_samples, row.audio_only_switches = q.samples, q.audio_only_switches
        if filters.therapist is None or row.therapist_pid == filters.therapist:
            rows.append((s, row))
    attach_outcomes(db, rows, numbered.values())
    out = [row for _, row in rows]
    out.sort(key=lambda r: (r.dyad_pid, r.session_number))
    return out


def instruments_in(rows: Iterable[PairRow]) -> list[dict[str, str]]:
    """The (client form, therapist form) combinations present, with versions."""
    seen = {
        (
            r.client.instrument_id,
            r.client.instrument_version,
            r.therapist.instrument_id,
            r.therapist.instrument_version,
        )
        for r in rows
    }
    keys = ("client_id", "client_version", "therapist_id", "therapist_version")
    return [dict(zip(keys, combo, strict=True)) for combo in sorted(seen)]
