"""The client's outcome questionnaire totals beside each research row.

Each row gets the totals answered before its own session and before the dyad's
next ended session (number + 1 in the dyad's course, whatever the filters: the
outcome an analysis of "does this session's discrepancy predict next week's
symptoms" needs, also when that next session was not rated by both sides).
Totals only, never answers: researchers receive scores (docs/research.md).
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from ..services.outcomes import outcome_totals

if TYPE_CHECKING:
    from .rows import EligibleSession, PairRow


def attach_outcomes(
    db: Session,
    rows: list[tuple["EligibleSession", "PairRow"]],
    sessions: Iterable["EligibleSession"],
) -> None:
    """Fill ``outcomes`` and ``next_outcomes`` of each (session, row) pair in place."""
    if not rows:
        return
    course = {(s.therapist_id, s.client_id, s.number): s.id for s in sessions}
    following = {
        s.id: course.get((s.therapist_id, s.client_id, s.number + 1)) for s, _ in rows
    }
    wanted = [s.id for s, _ in rows] + [i for i in following.values() if i]
    totals = outcome_totals(db, wanted)
    for s, row in rows:
        row.outcomes = dict(totals.get(s.id, {}))
        after = following[s.id]
        row.next_outcomes = dict(totals.get(after, {})) if after else {}
