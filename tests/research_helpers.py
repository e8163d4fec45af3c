"""Builders for the research tests: rated history written straight to the database.

Ratings are immutable through the services, and research reads only what is stored,
so these tests build exactly the rows they need (sessions, both ratings, quality
samples, consent) without going through calls and rating forms.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from teletherapy.extensions import db
from teletherapy.models import (
    AuditEvent,
    QualitySample,
    Rating,
    ResearchConsent,
    TherapySession,
    User,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def consent(app, *users: User, version: str | None = None) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        for user in users:
            v = version or str(app.config["CONSENT_VERSION"])
            db.session.add(ResearchConsent(user_id=user.id, version=v))
        db.session.commit()


def withdraw(app, user: User) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        for row in db.session.scalars(
            select(ResearchConsent).where(ResearchConsent.user_id == user.id)
        ):
            row.withdrawn_at = row.withdrawn_at or datetime.now(UTC)
        db.session.commit()


def rated_session(  # type: ignore[no-untyped-def]
    app,
    therapist: User,
    client: User,
    *,
    client_total: float | None = 40.0,
    therapist_total: float | None = 36.0,
    modality: str = "video",
    at: datetime = T0,
    status: str = "ended",
    rated_by: tuple[str, ...] = ("client", "therapist"),
    subscales: dict[str, tuple[float | None, float | None]] | None = None,
    quality: list[tuple[float, float]] = (),  # type: ignore[assignment]
    instruments: tuple[str, str] = ("dta-c", "dta-t"),
    meta_answers: dict[str, int] | None = None,
) -> str:
    """One session (ended by default) with the chosen ratings; returns its id."""
    subs = subscales or {"goal": (13.0, 12.0), "bond": (14.0, 12.0)}
    with app.app_context():
        row = TherapySession(
            therapist_id=therapist.id,
            client_id=client.id,
            modality=modality,
            scheduled_start=at,
            duration_minutes=50,
            status=status,
            started_at=at if status in ("live", "ended") else None,
            ended_at=at + timedelta(minutes=50) if status == "ended" else None,
        )
        db.session.add(row)
        db.session.flush()
        people = {"client": client, "therapist": therapist}
        totals = {"client": client_total, "therapist": therapist_total}
        forms = dict(zip(("client", "therapist"), instruments, strict=True))
        for n, perspective in enumerate(("client", "therapist")):
            if perspective not in rated_by:
                continue
            db.session.add(
                Rating(
                    session_id=row.id,
                    rater_id=people[perspective].id,
                    perspective=perspective,
                    instrument_id=forms[perspective],
                    instrument_version="1.0",
                    answers={"g1": 4},
                    total=totals[perspective],
                    subscales={k: v[n] for k, v in subs.items()},
                    meta_answers=meta_answers if perspective == "therapist" else None,
                )
            )
        for rtt, loss in quality:
            db.session.add(
                QualitySample(
                    session_id=row.id,
                    user_id=client.id,
                    at=at + timedelta(minutes=5),
                    rtt_ms=rtt,
                    jitter_ms=1.0,
                    packet_loss_pct=loss,
                    bitrate_kbps=900.0,
                    frames_dropped=None,
                )
            )
        db.session.commit()
        return row.id


def history(app, therapist: User, client: User, n: int = 4, **kw) -> list[str]:  # type: ignore[no-untyped-def]
    """n weekly rated sessions with varied scores (client higher on average)."""
    ids = []
    for k in range(n):
        ids.append(
            rated_session(
                app,
                therapist,
                client,
                client_total=38.0 + (k * 7) % 5,
                therapist_total=35.0 + (k * 3) % 4,
                at=T0 + timedelta(weeks=k),
                **kw,
            )
        )
    return ids


def mixed_instrument_dyads(app, make_user, dyads: int, weeks: int = 3, **kw) -> None:  # type: ignore[no-untyped-def]
    """Consenting dyads rating on DTA (even k) and WAI-SR (odd k), one session a week.

    A keyword value that is callable is called with the week (e.g. a rising total)."""
    for k in range(dyads):
        therapist, patient = make_user("therapist"), make_user("client")
        consent(app, therapist, patient)
        forms = ("wai-sr", "wai-srt") if k % 2 else ("dta-c", "dta-t")
        for week in range(weeks):
            rated_session(
                app,
                therapist,
                patient,
                at=T0 + timedelta(weeks=week),
                instruments=forms,
                **{key: v(week) if callable(v) else v for key, v in kw.items()},
            )


def audit_actions(app, prefix: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with app.app_context():
        stmt = select(AuditEvent).where(AuditEvent.action.startswith(prefix))
        return list(db.session.scalars(stmt.order_by(AuditEvent.id)))


def count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)))
