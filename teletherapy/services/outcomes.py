"""Outcome questionnaires before sessions: what is due, answers and skips, the safety flag."""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import OutcomeResponse


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
