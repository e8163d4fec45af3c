"""Builders for the export and small-cell tests: consenting dyads with rated
sessions and the clients' outcome questionnaires, written straight to the database."""

from datetime import timedelta

from teletherapy.extensions import db
from teletherapy.models import OutcomeResponse, User

from .research_helpers import T0, consent, rated_session

DATE = r"\d{4}-\d{2}-\d{2}"  # a day: must appear nowhere in an export


def outcome(
    app, session_id: str, client: User, measure: str, total: int | None
) -> None:  # type: ignore[no-untyped-def]
    """The client's questionnaire before the session (None: skipped)."""
    with app.app_context():
        db.session.add(
            OutcomeResponse(
                session_id=session_id,
                client_id=client.id,
                instrument_id=measure,
                instrument_version="1.0",
                answers=None if total is None else {"q1": min(total, 3)},
                total=total,
                band=None if total is None else "mild",
                skipped=total is None,
            )
        )
        db.session.commit()


def dyads(app, make_user, n: int, sessions: int = 4, *, outcomes: bool = True):  # type: ignore[no-untyped-def]
    """n consenting dyads (one therapist each), ``sessions`` weekly rated sessions;
    client totals vary by dyad and week, PHQ-9 falls as the week's gap narrows, GAD-7
    is skipped at the second session. Returns [(therapist, client, [session ids])]."""
    made = []
    for d in range(n):
        therapist, patient = make_user("therapist"), make_user("client")
        consent(app, therapist, patient)
        ids = []
        for k in range(sessions):
            client_total = 34.0 + d + (k * 7 + d * 3) % 5
            therapist_total = 33.0 + (k * 3 + d) % 4
            sid = rated_session(
                app,
                therapist,
                patient,
                client_total=client_total,
                therapist_total=therapist_total,
                at=T0 + timedelta(weeks=k, days=d % 3),
            )
            if outcomes:
                gap = client_total - therapist_total
                phq9 = int(max(0, 16 - k - gap + (d * 5) % 7))
                outcome(app, sid, patient, "phq9", phq9)
                outcome(app, sid, patient, "gad7", None if k == 1 else 8 + d % 3)
            ids.append(sid)
        made.append((therapist, patient, ids))
    return made
