"""Demo outcomes: PHQ-9 and GAD-7 answered before each demo session (docs/outcomes.md).

Symptoms improve on average over treatment (PHQ-9 from about 13, moderate, by
PHQ9_DROP points over the course), and a client who rated the alliance higher in one
session reports fewer symptoms before the next (ALLIANCE_EFFECT PHQ-9 points per SD
of their alliance total): the alliance-outcome association of r = .28 (Flückiger et
al. 2018). GAD-7 follows PHQ-9 (the two correlate highly in primary care, Kroenke
et al. 2010) with its own noise. In ``teletherapy demo`` (6 dyads x 8 sessions) the
client's alliance and the next PHQ-9 correlate at r = -.34 over 42 session pairs,
and PHQ-9 falls from the first session to the last (tests/test_outcomes_demo.py).
A few questionnaires are skipped, and one dyad in three answers PHQ-9 item 9
above 0 before its first two sessions (the safety flag).

Deterministic: its own generator per dyad (``[SEED, dyad, 15]``), so the alliance
history drawn before it is unchanged.
"""

from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from ratings import Instrument, InstrumentNotFound, Registry, score_outcome

from ..models import OutcomeResponse, Rating, SessionStatus, TherapySession, User

PHQ9_START, PHQ9_START_SD = 13.0, 2.0
PHQ9_DROP = 5.0  # average fall over the whole course
ALLIANCE_EFFECT = 1.25  # PHQ-9 points fewer per SD of the previous alliance rating
ALLIANCE_MEAN, ALLIANCE_SD = 38.6, 3.5  # the demo's client totals (demo_history)
NOISE_SD = 2.0
GAD7_PER_PHQ9, GAD7_SD = 0.6, 1.5
SKIP_P = 0.05


def add(db: Session, registry: Registry, seed: int, k: int, client: User) -> int:
    """Questionnaires before each session of dyad ``k``; returns how many rows."""
    try:
        phq9, gad7 = registry.latest("phq9"), registry.latest("gad7")
    except InstrumentNotFound:
        return 0  # a deployment without the shipped outcome measures
    rng = np.random.default_rng([seed, k, 15])
    sessions = list(
        db.scalars(
            select(TherapySession)
            .where(
                TherapySession.client_id == client.id,
                TherapySession.status == SessionStatus.ENDED.value,
            )
            .order_by(TherapySession.scheduled_start)
        )
    )
    alliance = _client_totals(db, client, sessions)
    m = len(sessions)
    # between dyads too: a client who rates the alliance higher overall starts lower
    rated = [a for a in alliance if a is not None]
    level = (float(np.mean(rated)) - ALLIANCE_MEAN) / ALLIANCE_SD if rated else 0.0
    start = PHQ9_START - ALLIANCE_EFFECT * level + PHQ9_START_SD * rng.normal()
    count = 0
    for j, session in enumerate(sessions):
        before = alliance[j - 1] if j else None
        z = 0.0 if before is None else (before - ALLIANCE_MEAN) / ALLIANCE_SD
        trend = PHQ9_DROP * j / max(m - 1, 1)
        phq = start - trend - ALLIANCE_EFFECT * z + NOISE_SD * rng.normal()
        gad = GAD7_PER_PHQ9 * phq + GAD7_SD * rng.normal()
        flag = k % 3 == 1 and j < 2
        for form, total, item9 in ((phq9, phq, flag), (gad7, gad, False)):
            db.add(_response(rng, form, session, client, total, item9))
            count += 1
    return count


def _client_totals(
    db: Session, client: User, sessions: list[TherapySession]
) -> list[float | None]:
    rows = db.execute(
        select(Rating.session_id, Rating.total).where(
            Rating.rater_id == client.id,
            Rating.session_id.in_([s.id for s in sessions]),
        )
    )
    by_session = {sid: total for sid, total in rows}
    return [by_session.get(s.id) for s in sessions]


def _response(
    rng: Any,
    form: Instrument,
    session: TherapySession,
    client: User,
    level: float,
    item9: bool,
) -> OutcomeResponse:
    row = OutcomeResponse(
        session_id=session.id,
        client_id=client.id,
        instrument_id=form.id,
        instrument_version=form.version,
        answered_at=session.scheduled_start - timedelta(minutes=15),
    )
    if rng.random() < SKIP_P and not item9:  # the flag is always shown in the demo
        row.skipped, row.flagged = True, False
        return row
    answers = _answers(rng, form, level, item9)
    scored = score_outcome(form, answers)
    row.answers, row.total, row.band = answers, scored.total, scored.band.id
    row.skipped, row.flagged = False, bool(scored.flags)
    return row


def _answers(rng: Any, form: Instrument, level: float, item9: bool) -> dict[str, int]:
    """Item answers summing to ``level`` (rounded, within range); the safety item
    (the last of PHQ-9) is 1 when ``item9``, else 0."""
    items = [item.id for item in form.items]
    answers = dict.fromkeys(items, 0)
    free = items[:-1] if form.flags else items
    if form.flags and item9:
        answers[items[-1]] = 1
    total = int(np.clip(np.rint(level), 0, 3 * len(free)))
    for _ in range(total):
        open_items = [i for i in free if answers[i] < 3]
        answers[str(rng.choice(open_items))] += 1
    return answers
