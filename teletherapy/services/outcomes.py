"""Outcome questionnaires before sessions: what is due, answers and skips, the safety flag.

Outcome measures (PHQ-9, GAD-7: instruments of kind "outcome") are not ratings of
the alliance, so blinding (services/blinding.py) does not apply: the client's
therapist sees the totals and, whatever RATING_REVEAL_POLICY says, the safety flag
(PHQ-9 item 9 above 0). Research reads totals only (``outcome_totals``), never the
flag's wording (docs/outcomes.md).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ratings import (
    Instrument,
    InstrumentNotFound,
    Registry,
    ScoringError,
    score_outcome,
)

from ..models import (
    MAX_EVERY_N,
    OutcomeResponse,
    OutcomeSettings,
    SessionStatus,
    TherapySession,
    User,
)
from . import audit
from .errors import Conflict, Invalid, NotFound


@dataclass(frozen=True)
class OutcomePlan:
    """Which measures to ask, before every n-th session of a client (1 = every one)."""

    measures: tuple[str, ...]
    every_n: int


def outcome_totals(
    db_session: Session, session_ids: Iterable[str]
) -> dict[str, dict[str, int | None]]:
    """Therapy session id → {instrument id → total, None when skipped}.

    Sessions without any outcome questionnaire are absent from the result.
    """
    ids = list(dict.fromkeys(session_ids))
    result: dict[str, dict[str, int | None]] = {}
    if not ids:
        return result
    rows = db_session.execute(
        select(
            OutcomeResponse.session_id,
            OutcomeResponse.instrument_id,
            OutcomeResponse.total,
        ).where(OutcomeResponse.session_id.in_(ids))
    )
    for session_id, instrument_id, total in rows:
        result.setdefault(session_id, {})[instrument_id] = total
    return result


def plan_for(tx: Session, therapist_id: str, default: OutcomePlan) -> OutcomePlan:
    """The therapist's own choice, else the deployment's (OUTCOME_MEASURES and
    OUTCOME_EVERY_N_SESSIONS)."""
    own = tx.get(OutcomeSettings, therapist_id)
    if own is None:
        return default
    return OutcomePlan(tuple(own.measures), own.every_n)


def save_plan(
    tx: Session,
    therapist: User,
    plan: OutcomePlan,
    registry: Registry,
    *,
    origin: str | None,
) -> None:
    """Store a therapist's own measures and interval; every id must be an outcome."""
    known = [m.id for m in registry.outcomes()]
    unknown = [m for m in plan.measures if m not in known]
    if unknown or not 1 <= plan.every_n <= MAX_EVERY_N:
        raise Invalid(
            f"measures must be among {known} and every_n 1-{MAX_EVERY_N} "
            f"(got {list(plan.measures)}, {plan.every_n})"
        )
    row = tx.get(OutcomeSettings, therapist.id) or OutcomeSettings(
        therapist_id=therapist.id
    )
    row.measures = list(dict.fromkeys(plan.measures))
    row.every_n = plan.every_n
    tx.add(row)
    audit.record(
        tx, "outcome.settings", therapist.id, "user", therapist.id, origin=origin
    )
    tx.commit()


def session_number(tx: Session, session: TherapySession) -> int:
    """This session's place (1, 2, …) among the client's sessions with this
    therapist that were not cancelled, by scheduled time."""
    count = tx.scalar(
        select(func.count())
        .select_from(TherapySession)
        .where(
            TherapySession.therapist_id == session.therapist_id,
            TherapySession.client_id == session.client_id,
            TherapySession.status != SessionStatus.CANCELLED.value,
            TherapySession.scheduled_start <= session.scheduled_start,
            TherapySession.id != session.id,
        )
    )
    return int(count or 0) + 1


def pending(
    tx: Session,
    client: User,
    session: TherapySession,
    default: OutcomePlan,
    registry: Registry,
) -> list[Instrument]:
    """The measures this client is still asked before this session: the plan's,
    when this is a session the plan asks before (the 1st, 1+n-th, …), not yet
    answered or skipped; none once the session has ended or was cancelled."""
    return pending_many(tx, client, [session], default, registry).get(session.id, [])


def pending_many(
    tx: Session,
    client: User,
    sessions: Sequence[TherapySession],
    default: OutcomePlan,
    registry: Registry,
) -> dict[str, list[Instrument]]:
    """Session id → what ``pending`` answers, for a dashboard's sessions at once:
    one plan query per therapist and one query for what was answered, plus a
    session-number count only where a plan asks every n-th session (n > 1)."""
    open_ = [
        s
        for s in sessions
        if s.client_id == client.id
        and s.status in (SessionStatus.SCHEDULED.value, SessionStatus.LIVE.value)
    ]
    plans = {t: plan_for(tx, t, default) for t in {s.therapist_id for s in open_}}
    asked = [
        s
        for s in open_
        if plans[s.therapist_id].measures
        and (
            plans[s.therapist_id].every_n == 1
            or not (session_number(tx, s) - 1) % plans[s.therapist_id].every_n
        )
    ]
    if not asked:
        return {}
    done: dict[str, set[str]] = {}
    for session_id, instrument_id in tx.execute(
        select(OutcomeResponse.session_id, OutcomeResponse.instrument_id).where(
            OutcomeResponse.session_id.in_([s.id for s in asked]),
            OutcomeResponse.client_id == client.id,
        )
    ):
        done.setdefault(session_id, set()).add(instrument_id)
    result: dict[str, list[Instrument]] = {}
    for s in asked:
        forms = [
            form
            for measure in plans[s.therapist_id].measures
            if measure not in done.get(s.id, set())
            and (form := _outcome_form(registry, measure)) is not None
        ]
        if forms:
            result[s.id] = forms
    return result


def _outcome_form(registry: Registry, measure: str) -> Instrument | None:
    """The latest form of ``measure`` if it is an outcome measure of this
    deployment (a measure removed from the deployment is not asked)."""
    try:
        form = registry.latest(measure)
    except InstrumentNotFound:
        return None
    return form if form.kind == "outcome" else None


def _asked(
    tx: Session,
    client: User,
    session: TherapySession,
    measure: str,
    default: OutcomePlan,
    registry: Registry,
) -> Instrument:
    for form in pending(tx, client, session, default, registry):
        if form.id == measure:
            return form
    raise NotFound(f"no questionnaire {measure!r} is due before this session")


def answer(
    tx: Session,
    client: User,
    session: TherapySession,
    measure: str,
    answers: Mapping[str, object],
    default: OutcomePlan,
    registry: Registry,
    *,
    origin: str | None,
) -> OutcomeResponse:
    """Score and store a complete questionnaire; a raised flag is audited."""
    form = _asked(tx, client, session, measure, default, registry)
    try:
        scored = score_outcome(form, dict(answers))
    except ScoringError as exc:
        raise Invalid("some answers are missing or invalid", exc.errors) from None
    row = OutcomeResponse(
        session_id=session.id,
        client_id=client.id,
        instrument_id=form.id,
        instrument_version=form.version,
        answers={item.id: answers[item.id] for item in form.items},
        total=scored.total,
        band=scored.band.id,
        flagged=bool(scored.flags),
    )
    _store(tx, row, client, session, origin=origin)
    return row


def skip(
    tx: Session,
    client: User,
    session: TherapySession,
    measure: str,
    default: OutcomePlan,
    registry: Registry,
    *,
    origin: str | None,
) -> OutcomeResponse:
    """Record that the client chose not to answer this questionnaire."""
    form = _asked(tx, client, session, measure, default, registry)
    row = OutcomeResponse(
        session_id=session.id,
        client_id=client.id,
        instrument_id=form.id,
        instrument_version=form.version,
        skipped=True,
    )
    _store(tx, row, client, session, origin=origin)
    return row


def _store(
    tx: Session,
    row: OutcomeResponse,
    client: User,
    session: TherapySession,
    *,
    origin: str | None,
) -> None:
    action = "outcome.skip" if row.skipped else "outcome.submit"
    tx.add(row)
    audit.record(
        tx,
        action,
        client.id,
        "session",
        session.id,
        origin=origin,
        instrument=row.instrument_id,
    )
    if row.flagged:
        audit.record(
            tx, "outcome.flag", client.id, "session", session.id, origin=origin
        )
    try:
        tx.commit()
    except IntegrityError:
        tx.rollback()
        raise Conflict("this questionnaire was already answered or skipped") from None


@dataclass(frozen=True)
class Flag:
    """A raised safety flag, as the therapist is told of it."""

    session_id: str
    instrument_id: str
    label: str


def flags_for(
    tx: Session, sessions: Sequence[TherapySession], registry: Registry
) -> dict[str, list[Flag]]:
    """Session id → the flags raised before it (therapist's view; never blinded)."""
    ids = [s.id for s in sessions]
    if not ids:
        return {}
    rows = tx.scalars(
        select(OutcomeResponse).where(
            OutcomeResponse.session_id.in_(ids), OutcomeResponse.flagged
        )
    )
    result: dict[str, list[Flag]] = {}
    for row in rows:
        result.setdefault(row.session_id, []).append(
            Flag(row.session_id, row.instrument_id, _flag_label(row, registry))
        )
    return result


def _flag_label(row: OutcomeResponse, registry: Registry) -> str:
    try:
        form = registry.get(row.instrument_id, row.instrument_version)
    except InstrumentNotFound:
        return f"Safety flag raised on {row.instrument_id}"
    raised = [
        rule.label
        for rule in form.flags
        if (row.answers or {}).get(rule.item, rule.above) > rule.above
    ]
    return "; ".join(raised) or f"Safety flag raised on {form.title}"
