"""A client's outcomes over their sessions, for their therapist (docs/outcomes.md).

Totals and bands are the therapist's to see (outcomes are not alliance ratings);
the client's alliance ratings appear only where RATING_REVEAL_POLICY reveals them
(``blinding.revealed_scores``); the therapist's own ratings are their own.
"""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ratings import Instrument, InstrumentNotFound, Registry

from ..models import OutcomeResponse, Rating, SessionStatus, TherapySession, User
from . import accounts, audit, blinding
from .errors import NotFound


@dataclass(frozen=True)
class Measured:
    """One questionnaire before one session: a total and its band, or a skip."""

    total: int | None
    band: str | None  # the band's label
    skipped: bool
    flagged: bool


@dataclass(frozen=True)
class HistoryRow:
    number: int
    session: TherapySession
    outcomes: dict[str, Measured] = field(default_factory=dict)
    client_alliance: float | None = None  # only where the policy reveals it
    therapist_alliance: float | None = None  # the therapist's own rating


@dataclass(frozen=True)
class ClientHistory:
    client: User
    measures: list[Instrument]
    rows: list[HistoryRow]
    client_alliance_shown: bool


def client_history(
    tx: Session,
    therapist: User,
    client_id: str,
    registry: Registry,
    reveal_policy: str,
    *,
    origin: str | None,
) -> ClientHistory:
    """Every session of this therapist with this client (not cancelled), oldest
    first, with outcomes and alliance totals; 404 unless the client is theirs.
    The read is audited (docs/security.md, row 15)."""
    client = tx.get(User, client_id) if 0 < len(client_id) <= 64 else None
    sessions = _sessions(tx, therapist.id, client_id)
    if client is None or not (
        sessions or accounts.in_caseload(tx, therapist.id, client_id)
    ):
        raise NotFound("no such client")
    ids = [s.id for s in sessions]
    outcomes = _outcomes(tx, ids, registry)
    own = _own_totals(tx, therapist.id, ids)
    rows = []
    shown = False
    for number, session in enumerate(sessions, start=1):
        revealed = blinding.revealed_scores(tx, therapist, session, reveal_policy)
        shown = shown or revealed is not None
        rows.append(
            HistoryRow(
                number=number,
                session=session,
                outcomes=outcomes.get(session.id, {}),
                client_alliance=None if revealed is None else revealed["total"],
                therapist_alliance=own.get(session.id),
            )
        )
    audit.write(tx, "outcome.read", therapist.id, "user", client_id, origin=origin)
    measures = _measures(registry, outcomes)
    return ClientHistory(
        client, measures, rows, blinding.policy(reveal_policy) != "blind"
    )


def _sessions(tx: Session, therapist_id: str, client_id: str) -> list[TherapySession]:
    return list(
        tx.scalars(
            select(TherapySession)
            .where(
                TherapySession.therapist_id == therapist_id,
                TherapySession.client_id == client_id,
                TherapySession.status != SessionStatus.CANCELLED.value,
            )
            .order_by(TherapySession.scheduled_start)
        )
    )


def _outcomes(
    tx: Session, ids: list[str], registry: Registry
) -> dict[str, dict[str, Measured]]:
    result: dict[str, dict[str, Measured]] = {}
    if not ids:
        return result
    rows = tx.scalars(
        select(OutcomeResponse).where(OutcomeResponse.session_id.in_(ids))
    )
    for row in rows:
        result.setdefault(row.session_id, {})[row.instrument_id] = Measured(
            row.total, _band_label(row, registry), row.skipped, row.flagged
        )
    return result


def _band_label(row: OutcomeResponse, registry: Registry) -> str | None:
    if row.band is None:
        return None
    try:
        form = registry.get(row.instrument_id, row.instrument_version)
    except InstrumentNotFound:
        return row.band
    return next((b.label for b in form.bands if b.id == row.band), row.band)


def _own_totals(tx: Session, therapist_id: str, ids: list[str]) -> dict[str, float]:
    if not ids:
        return {}
    rows = tx.execute(
        select(Rating.session_id, Rating.total).where(
            Rating.session_id.in_(ids), Rating.rater_id == therapist_id
        )
    )
    return {sid: total for sid, total in rows if total is not None}


def _measures(
    registry: Registry, outcomes: dict[str, dict[str, Measured]]
) -> list[Instrument]:
    """The outcome measures this client has rows for, in the registry's order."""
    seen = {m for per_session in outcomes.values() for m in per_session}
    return [form for form in registry.outcomes() if form.id in seen]
