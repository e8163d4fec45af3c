"""Who may see what of the other side's rating (RATING_REVEAL_POLICY).

``blind`` (default): neither party ever sees the other's answers or scores.
``reveal_after_both``: once both have submitted, the therapist sees the client's
total and subscale scores, never the item answers; the client never sees anything
of the therapist's. Any other value is treated as ``blind``.
"""

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Rating, TherapySession, User

log = logging.getLogger(__name__)

POLICIES = ("blind", "reveal_after_both")
# Shown next to the submit button: exactly what the policy does (docs/architecture.md,
# "How the pages are designed": say who sees what).
VISIBILITY = {
    ("blind", "client"): "Your therapist will never see your answers or your scores.",
    ("blind", "therapist"): "Your client will never see your answers or your scores.",
    ("reveal_after_both", "client"): (
        "Your therapist will never see your individual answers. Once you have both "
        "rated this session, they will see your scores (the total and one score "
        "for each part of the form)."
    ),
    ("reveal_after_both", "therapist"): (
        "Your client will never see your answers or your scores. Once you have both "
        "rated this session, you will see your client's scores, not their answers."
    ),
}
RESEARCH_NOTE = (
    "If you have agreed to take part in research, researchers receive your ratings "
    "under a code number, never with your name."
)


def policy(configured: str) -> str:
    """RATING_REVEAL_POLICY as configured, or ``blind`` for anything unknown."""
    if configured not in POLICIES:
        log.warning("unknown RATING_REVEAL_POLICY %r: treated as 'blind'", configured)
        return "blind"
    return configured


def visibility(configured: str, perspective: str) -> str:
    """The sentence that says who will see this participant's answers."""
    return f"{VISIBILITY[(policy(configured), perspective)]} {RESEARCH_NOTE}"


def revealed_scores(
    tx: Session, user: User, session: TherapySession, configured: str
) -> dict[str, Any] | None:
    """The client's scores for their therapist where the policy allows it, else None."""
    if policy(configured) != "reveal_after_both" or session.therapist_id != user.id:
        return None
    rows = tx.scalars(select(Rating).where(Rating.session_id == session.id))
    by_rater = {row.rater_id: row for row in rows}
    theirs = by_rater.get(session.client_id)
    if user.id not in by_rater or theirs is None:
        return None  # revealed only once both have submitted
    return {
        "perspective": "client",
        "total": theirs.total,
        "subscales": dict(theirs.subscales),
    }
