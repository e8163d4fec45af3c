"""The demo's outcomes: symptoms fall over treatment, and a higher alliance rating
goes with fewer symptoms before the next session (Flückiger et al. 2018: r = .28);
deterministic under the seed (docs/outcomes.md)."""

import itertools

import numpy as np
import pytest
from sqlalchemy import select

from teletherapy.extensions import db
from teletherapy.models import OutcomeResponse, Rating, TherapySession

# PHQ-9 before each dyad's first session under the demo's seed (one skipped)
FIRST_PHQ9 = ["14", "14", "16", "18", "9", "None"]


def _demo(app, runner) -> list[tuple[str, int, float | None, int | None]]:  # type: ignore[no-untyped-def]
    """(dyad's client id, session number, client's alliance, PHQ-9 total) per session."""
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        sessions = db.session.scalars(
            select(TherapySession).order_by(TherapySession.scheduled_start)
        ).all()
        phq = {
            sid: total
            for sid, total in db.session.execute(
                select(OutcomeResponse.session_id, OutcomeResponse.total).where(
                    OutcomeResponse.instrument_id == "phq9"
                )
            )
        }
        alliance = {
            r.session_id: r.total
            for r in db.session.scalars(
                select(Rating).where(Rating.perspective == "client")
            )
        }
        numbers: dict[str, int] = {}
        out = []
        for s in sessions:
            numbers[s.client_id] = numbers.get(s.client_id, 0) + 1
            out.append(
                (s.client_id, numbers[s.client_id], alliance.get(s.id), phq.get(s.id))
            )
        return out


def test_demo_outcomes_improve_and_follow_the_alliance(app, runner):
    rows = _demo(app, runner)
    with app.app_context():
        answered = db.session.scalars(select(OutcomeResponse)).all()
    assert len(answered) == 96  # PHQ-9 and GAD-7 before each of 48 sessions
    skipped = [r for r in answered if r.skipped]
    flagged = {r.session_id for r in answered if r.flagged}
    assert 0 < len(skipped) <= 10 and len(flagged) == 4  # 2 dyads x 2 sessions
    first = [t for _, n, _, t in rows if n == 1 and t is not None]
    last = [t for _, n, _, t in rows if n == 8 and t is not None]
    assert np.mean(first) - np.mean(last) > 3  # symptoms fall over treatment
    # the client's alliance in session j against PHQ-9 before session j + 1
    lagged: list[tuple[float, int]] = []
    by_client: dict[str, list[tuple[int, float | None, int | None]]] = {}
    for c, n, a, t in rows:
        by_client.setdefault(c, []).append((n, a, t))
    for course in by_client.values():
        course.sort()
        lagged += [
            (a, t_next)
            for (_, a, _), (_, _, t_next) in itertools.pairwise(course)
            if a is not None and t_next is not None
        ]
    r = np.corrcoef(np.array(lagged, dtype=float).T)[0, 1]
    # Flückiger et al. 2018: r = .28; this demo (42 lagged pairs, 6 dyads): -.34
    assert r == pytest.approx(-0.34, abs=0.01)


def test_demo_outcomes_are_deterministic(app, runner):
    first = sorted(str(r[1:]) for r in _demo(app, runner))
    # a second run adds nothing and changes nothing
    assert first == sorted(str(r[1:]) for r in _demo(app, runner))
    # the seed fixes the figures: the first sessions' PHQ-9 totals, dyad by dyad
    assert sorted(str(t) for _, n, _, t in _demo(app, runner) if n == 1) == FIRST_PHQ9
