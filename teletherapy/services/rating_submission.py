"""Alliance ratings: one per participant and session, never edited, kept blind.

Blinding is enforced in the services, not in views: everything here reads the
caller's own rating only; the one way to the other side's is
``blinding.revealed_scores``, which asks RATING_REVEAL_POLICY first.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ratings import (
    WHOLE_ANSWERS,
    Instrument,
    InstrumentError,
    InstrumentNotFound,
    score,
)
from ratings import validate_answers as check_items

from ..config import Settings
from ..models import Rating, SessionStatus, TherapySession, User
from . import audit, blinding, instruments, scheduling
from .errors import Conflict, Gone, Invalid


class RatingFormStatus(StrEnum):
    """Where one participant's rating of a session stands (equal to its plain string)."""

    PENDING = "pending"
    SUBMITTED = "submitted"
    CLOSED = "closed"


@dataclass(frozen=True)
class RatingForm:
    """What one participant sees for one session."""

    session: TherapySession
    perspective: str
    status: RatingFormStatus
    closes_at: datetime
    rating: Rating | None  # the caller's own, once submitted
    instrument: Instrument | None  # as shown in this modality
    meta: Instrument | None  # therapist's optional meta-perception set, as shown
    visibility: str
    revealed: dict[str, Any] | None  # the other side's scores, if the policy allows


@dataclass(frozen=True)
class Pending:
    session: TherapySession
    perspective: str
    closes_at: datetime


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def session_for(tx: Session, user: User, session_id: str) -> TherapySession:
    """The session if the user takes part in it; 404 otherwise."""
    return scheduling.for_participant(tx, user, session_id)


def _ended(session: TherapySession) -> datetime:
    if session.status != SessionStatus.ENDED or session.ended_at is None:
        raise Conflict(
            "the session has not ended: it can be rated once it has taken place",
            code="session_not_ended",
        )
    return session.ended_at


def _own(tx: Session, session: TherapySession, user: User) -> Rating | None:
    return tx.scalar(
        select(Rating).where(
            Rating.session_id == session.id, Rating.rater_id == user.id
        )
    )


def _pair(tx: Session, session: TherapySession, settings: Settings) -> instruments.Pair:
    """The other side's stored form decides, so both answer matching forms."""
    other_form = tx.scalar(
        select(Rating.instrument_id).where(Rating.session_id == session.id)
    )
    if other_form is not None:
        try:
            return instruments.pair_of_form(settings, other_form)
        except instruments.Unavailable:
            pass  # the stored form was removed; fall back to the configuration
    pair_id = session.therapist.instrument_pair or settings.default_instrument_pair
    return instruments.pair(settings, pair_id)


@dataclass(frozen=True)
class _Forms:
    """The caller's form (and meta set) as shown in this modality, and in full."""

    shown: Instrument
    full: Instrument
    shown_meta: Instrument | None
    meta: Instrument | None


def _forms(
    tx: Session, session: TherapySession, perspective: str, settings: Settings
) -> _Forms:
    forms = _pair(tx, session, settings)
    full = forms.form(perspective)
    meta = forms.meta if perspective == "therapist" else None
    return _Forms(
        shown=instruments.for_modality(full, session.modality, settings),
        full=full,
        shown_meta=(
            instruments.for_modality(meta, session.modality, settings) if meta else None
        ),
        meta=meta,
    )


def _stored_form(
    rating: Rating, modality: str, settings: Settings
) -> Instrument | None:
    try:
        form = settings.instrument_registry().get(
            rating.instrument_id, rating.instrument_version
        )
    except (InstrumentNotFound, InstrumentError):
        return None  # removed or broken since: the status still shows
    return instruments.for_modality(form, modality, settings)


def open_form(
    tx: Session,
    user: User,
    session_id: str,
    settings: Settings,
    *,
    now: datetime | None = None,
    record: bool = True,
    origin: str | None,
) -> RatingForm:
    """The caller's rating form and its status; audited as a read (health data)."""
    session = session_for(tx, user, session_id)
    closes_at = _ended(session) + settings.rating_window
    perspective = str(session.participant_role(user.id))
    own = _own(tx, session, user)
    instrument = meta = None
    if own is not None:
        status = RatingFormStatus.SUBMITTED
        instrument = _stored_form(own, session.modality, settings)
    else:
        status = (
            RatingFormStatus.CLOSED
            if _now(now) >= closes_at
            else RatingFormStatus.PENDING
        )
        try:
            forms = _forms(tx, session, perspective, settings)
            instrument, meta = forms.shown, forms.shown_meta
        except instruments.Unavailable:
            if status == RatingFormStatus.PENDING:
                raise
    revealed = blinding.revealed_scores(tx, user, session, settings.reveal_policy)
    if record:
        audit.record(
            tx,
            "rating.read",
            user.id,
            "session",
            session.id,
            status=status,
            revealed=revealed is not None,
            origin=origin,
        )
        tx.commit()
    return RatingForm(
        session=session,
        perspective=perspective,
        status=status,
        closes_at=closes_at,
        rating=own,
        instrument=instrument,
        meta=meta,
        visibility=blinding.visibility(settings.reveal_policy, perspective),
        revealed=revealed,
    )


def _item_errors(
    shown: Instrument, full: Instrument, answers: object, prefix: str
) -> dict[str, str]:
    asked = {item.id for item in shown.items}
    errors = {}
    for key, message in check_items(shown, answers).items():
        if key == WHOLE_ANSWERS:
            errors[prefix] = message
            continue
        if key not in asked and any(item.id == key for item in full.items):
            message = "is not asked in in-person sessions"
        errors[f"{prefix}.{key}"] = message
    return errors


def _meta_errors(forms: _Forms, answers: object, perspective: str) -> dict[str, str]:
    if answers is None:
        return {}
    if forms.shown_meta is None or forms.meta is None:
        if perspective == "client":
            message = (
                "the client's form has no meta-perception section "
                "(only the therapist's form has one)"
            )
        else:
            message = "this form has no meta-perception section"
        return {"meta_answers": message}
    errors = _item_errors(forms.shown_meta, forms.meta, answers, "meta_answers")
    # Every meta item is optional: an unanswered one is no error.
    given = answers if isinstance(answers, dict) else {}
    return {
        key: msg
        for key, msg in errors.items()
        if key == "meta_answers" or key.split(".", 1)[1] in given
    }


FIELDS = ("answers", "meta_answers")


def _problems(
    forms: _Forms, perspective: str, body: Mapping[str, object]
) -> dict[str, str]:
    """Every problem with a posted body at once: unknown fields, then the items."""
    problems = {key: "unknown field" for key in body if key not in FIELDS}
    if "answers" in body:
        answers = body["answers"]
        problems.update(_item_errors(forms.shown, forms.full, answers, "answers"))
    else:
        problems["answers"] = "is required: an object of item ids to integers"
    problems.update(_meta_errors(forms, body.get("meta_answers"), perspective))
    return problems


def submit(
    tx: Session,
    user: User,
    session: TherapySession,
    body: Mapping[str, object],
    settings: Settings,
    *,
    now: datetime | None = None,
    origin: str | None,
) -> Rating:
    """Store the caller's rating once. ``body`` is what was posted (the API's JSON
    object, or the page's answers under the same two names), read only here. After
    the caller's 404 and 400 checks, in the order of docs/ratings.md: fields (422,
    every problem at once), then state (409 not ended or already submitted, 410
    window closed)."""
    perspective = str(session.participant_role(user.id))
    forms = _forms(tx, session, perspective, settings)
    problems = _problems(forms, perspective, body)
    if problems:
        raise Invalid("some answers need attention", problems)
    closes_at = _ended(session) + settings.rating_window
    if _own(tx, session, user) is not None:
        raise _already()
    if _now(now) >= closes_at:
        raise Gone(
            "the rating window for this session has closed", code="rating_closed"
        )
    # Checked above: item id -> integer within range, for both maps.
    answers = cast(dict[str, int], body["answers"])
    meta_answers = cast(dict[str, int] | None, body.get("meta_answers"))
    return _insert(
        tx, user, session, perspective, forms.full, answers, meta_answers, origin=origin
    )


def _already() -> Conflict:
    return Conflict(
        "you have already rated this session; ratings cannot be changed",
        code="already_submitted",
    )


def _insert(
    tx: Session,
    user: User,
    session: TherapySession,
    perspective: str,
    form: Instrument,
    answers: dict[str, int],
    meta_answers: dict[str, int] | None,
    *,
    origin: str | None,
) -> Rating:
    scores = score(form, answers)
    row = Rating(
        session_id=session.id,
        rater_id=user.id,
        perspective=perspective,
        instrument_id=form.id,
        instrument_version=form.version,
        answers=dict(answers),
        total=scores.total,
        subscales=dict(scores.subscales),
        meta_answers=dict(meta_answers) if meta_answers else None,
    )
    try:
        tx.add(row)
        tx.flush()
        audit.record(
            tx,
            "rating.submit",
            user.id,
            "session",
            session.id,
            perspective=perspective,
            instrument_id=form.id,
            instrument_version=form.version,
            origin=origin,
        )
        tx.commit()
    except IntegrityError:
        tx.rollback()  # releases the connection: SQLite stays writable
        raise _already() from None
    return row


def pending_for(
    tx: Session,
    user: User,
    settings: Settings,
    *,
    now: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Pending]:
    """Ended sessions the user has not rated while the window is open, oldest first."""
    window = settings.rating_window
    rated = exists().where(
        Rating.session_id == TherapySession.id, Rating.rater_id == user.id
    )
    stmt = (
        select(TherapySession)
        .where(
            scheduling.involving(user),
            TherapySession.status == SessionStatus.ENDED,
            TherapySession.ended_at > _now(now) - window,
            ~rated,
        )
        .order_by(TherapySession.ended_at, TherapySession.id)
        .limit(limit)
        .offset(offset)
    )
    return [
        Pending(s, str(s.participant_role(user.id)), _ended(s) + window)
        for s in tx.scalars(stmt)
    ]


def recently_rated(
    tx: Session, user: User, *, limit: int = 5
) -> list[tuple[TherapySession, datetime]]:
    """(session, submitted_at) of the user's own latest ratings; no scores."""
    stmt = (
        select(TherapySession, Rating.submitted_at)
        .join(Rating, Rating.session_id == TherapySession.id)
        .where(Rating.rater_id == user.id)
        .order_by(Rating.submitted_at.desc())
        .limit(limit)
    )
    return [(s, at) for s, at in tx.execute(stmt)]
