"""A synthetic, realistic history for the demo: dyads, ended sessions, both ratings.

The model (docs/research.md, "The demo data") aims at published figures: clients rate
the alliance higher than their therapists (d = .63) and the two correlate at r = .36
across sessions (Tryon, Blackwell & Hammel 2007); ratings sit near the top of the
scale; about half of the treatments have a rupture (McLaughlin et al. 2014: 46%).
Sessions nest in dyads and dyads in therapists: each therapist has their own rating
bias, shared by their dyads, and their own bias in predicting how the client rated.
A rupture (in half of the dyads, drawn at random) is a real drop of the client's
rating by RUPTURE_DROP on the item scale, and half that in the therapist's, in
session 4 or later, partly back by the next session and fully by the one after.
Therapists answer the meta-perception set (a guess, partly the client's level and
partly their own) for about 85% of their ratings. The digital subscale falls with a
poor connection; by construction the therapist's bond tracks the client's more
closely than goal and task do, and the two agree more as treatment goes on.

What it gives, computed from the seeded database through the research rows and
summary (tests/test_research_demo.py checks the default demo's figures):

- ``teletherapy demo`` (6 dyads x 8 sessions, 5 therapists): pooled r = .39,
  d_av = .73; client mean 38.6 of 45 (item mean 4.29) with 42% of client ratings at
  40 or more; headline (random intercept per therapist) +3.27 points, 95% CI
  [-0.64, 7.18] on 4 df: five therapists cannot rule out no difference; ruptures
  found in 3 of 6 dyads (50%), all repaired; predictions in 40 of 48 sessions,
  bias -0.95 points, within-dyad accuracy r = .63.
- 400 dyads x 8 sessions (200 therapists; measured once while tuning, not in the
  tests): r = .36, d_av = .63, ruptures flagged in 50% of dyads, bias -1.07,
  accuracy r = .67.

Deterministic (numpy, one seed per dyad; dyad and therapist effects whitened over
those drawn) and idempotent: a dyad that already has sessions is left alone.
Everyone in it has given research consent, so the research pages have data. Names
are invented. Each session also has the PHQ-9 and GAD-7 answered before it
(services/demo_outcomes.py: symptoms fall over treatment and after sessions the
client rated higher).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from ratings import Instrument, score

from ..config import Settings
from ..models import (
    QualitySample,
    Rating,
    ResearchConsent,
    SessionStatus,
    TherapySession,
    User,
)
from . import accounts, audit, demo_outcomes, instruments

SEED = 20261126
HOSTS = ("therapist@demo.example", "client@demo.example")  # the demo log-ins: dyad 0
THERAPISTS = [
    "Dr. Morgan Vale",
    "Dr. Priya Anand",
    "Dr. Tomas Lindqvist",
    "Dr. Ines Okoro",
    "Dr. Lena Marsh",
]
FIRST = [
    "Robin",
    "Kai",
    "Jules",
    "Noor",
    "Sasha",
    "Ari",
    "Eden",
    "Milan",
    "Rowan",
    "Tova",
]
LAST = ["Ashby", "Moreno", "Okafor", "Haddad", "Brandt", "Lind", "Quill", "Sato"]
MODALITIES = ["video", "audio", "chat", "in_person"]
MODALITY_P = [0.45, 0.15, 0.15, 0.25]
# Latent model on the 1-5 item scale (see the module docstring).
CLIENT_MEAN, THERAPIST_MEAN = 4.26, 3.88
DYAD_SD, RATER_SD, SESSION_SD, SUBSCALE_SD, ITEM_SD = 0.13, 0.32, 0.12, 0.22, 0.3
THERAPIST_SD = 0.25  # the therapist's own bias, shared by their dyads (of RATER_SD)
GROWTH = 0.3  # over the whole course
CONGRUENCE = (0.0, 0.85)  # session-level correlation, first to last session
LEARNING = 0.5  # share of the therapist's own bias gone by the last session
FOLLOWS_CLIENT = {"bond": 1.0}  # how far the therapist's subscale tracks the client's
RUPTURE_DROP = (
    1.4  # client's drop in the rupture session (item scale); the therapist's is half
)
MIN_THERAPISTS = 5  # from six dyads on: enough therapists for the therapist level
# Meta-perception: the therapist's guess of the client's subscale levels.
PREDICTED = 0.85  # share of therapist ratings with a prediction
INSIGHT = 0.6  # weight of the client's level in the guess (the rest: their own)
PREDICTION_BIAS_SD, PREDICTION_SD = 0.15, 0.25


def seed(
    db: Session, settings: Settings, *, dyads: int, sessions: int
) -> dict[str, int]:
    """Add up to ``dyads`` dyads of ``sessions`` ended, rated sessions each."""
    n_therapists = therapist_count(dyads)
    therapists = [_person(db, "therapist", i, settings) for i in range(n_therapists)]
    master = np.random.default_rng(SEED)
    ruptured = set(master.permutation(dyads)[: round(dyads / 2)])
    effects = _dyad_effects(master, dyads)
    styles = _therapist_effects(master, n_therapists)
    added = {"dyads": 0, "sessions": 0, "ratings": 0}
    for k in range(dyads):
        therapist, client = (
            therapists[k % n_therapists],
            _person(db, "client", k, settings),
        )
        if _has_history(db, therapist, client):
            continue
        if not accounts.in_caseload(db, therapist.id, client.id):
            accounts.add_to_caseload(
                db, therapist, client, actor_id=None, origin=audit.CLI
            )
        rng = np.random.default_rng([SEED, k])
        dyad = Dyad(effects[k], styles[k % n_therapists], k in ruptured)
        rows = _dyad(db, rng, (therapist, client), sessions, k, dyad, settings)
        db.flush()
        demo_outcomes.add(db, settings.instrument_registry(), SEED, k, client)
        db.commit()  # one dyad at a time: a failure leaves no half-made dyad
        added["dyads"] += 1
        added["sessions"] += sessions
        added["ratings"] += rows
    if added["dyads"]:
        audit.record(
            db,
            "demo.history",
            None,
            dyads=added["dyads"],
            sessions=added["sessions"],
            ratings=added["ratings"],
            origin=audit.CLI,
        )
        db.commit()
    return added


def therapist_count(dyads: int) -> int:
    """Most therapists see two clients; from six dyads on there are at least five
    therapists, so the therapist level of the nesting has something to show."""
    pairs = max(1, (dyads + 1) // 2)
    return max(pairs, MIN_THERAPISTS) if dyads >= MIN_THERAPISTS + 1 else pairs


@dataclass(frozen=True)
class Dyad:
    effects: Any  # shared quality, client's bias, therapist's bias in this dyad
    style: Any  # the therapist's own rating bias and prediction bias
    rupture: bool


def _person(db: Session, role: str, index: int, settings: Settings) -> User:
    if index == 0:
        host = db.scalar(select(User).where(User.email == HOSTS[role == "client"]))
        if host is not None:
            return host
    email = f"demo-{role}-{index:02d}@demo.example"
    found = db.scalar(select(User).where(User.email == email))
    if found is not None:
        return found
    if role == "therapist":
        name = THERAPISTS[index % len(THERAPISTS)] + (
            f" {index // len(THERAPISTS) + 1}" if index >= len(THERAPISTS) else ""
        )
    else:
        name = f"{FIRST[index % len(FIRST)]} {LAST[(index * 3) % len(LAST)]}"
    return accounts.create_user(
        db,
        email=email,
        name=name,
        role=role,
        password=_unused(),
        actor_id=None,
        hash_method=settings.password_hash_method,
        origin=audit.CLI,
    )


def _unused() -> str:
    import secrets

    return secrets.token_urlsafe(24)  # synthetic people never log in


def _has_history(db: Session, therapist: User, client: User) -> bool:
    stmt = select(TherapySession.id).where(
        TherapySession.therapist_id == therapist.id,
        TherapySession.client_id == client.id,
    )
    return db.scalar(stmt.limit(1)) is not None


def _consent(db: Session, user: User, at: datetime, version: str) -> None:
    stmt = select(ResearchConsent.id).where(
        ResearchConsent.user_id == user.id, ResearchConsent.withdrawn_at.is_(None)
    )
    if db.scalar(stmt) is None:
        db.add(ResearchConsent(user_id=user.id, version=version, given_at=at))


def _whitened(rng: Any, n: int, k: int) -> Any:
    """n draws of k standard normals, whitened over the draws (mean 0, SD 1,
    uncorrelated) when there are enough, so a small demo shows the intended figures
    rather than a sampling fluke."""
    raw = rng.normal(0, 1, (n, k))
    if n > k:  # enough draws for a covariance of full rank
        raw -= raw.mean(axis=0)
        chol = np.linalg.cholesky(np.atleast_2d(np.cov(raw, rowvar=False)))
        raw = np.linalg.solve(chol, raw.T).T
    return raw


def _dyad_effects(rng: Any, n: int) -> Any:
    """Per dyad: shared quality, client bias, the therapist's bias in this dyad (the
    part of RATER_SD that is not the therapist's own)."""
    own = np.sqrt(RATER_SD**2 - THERAPIST_SD**2)
    return _whitened(rng, n, 3) * np.array([DYAD_SD, RATER_SD, own])


def _therapist_effects(rng: Any, n: int) -> Any:
    """Per therapist: rating bias (shared by their dyads) and prediction bias."""
    return _whitened(rng, n, 2) * np.array([THERAPIST_SD, PREDICTION_BIAS_SD])


def _course(rng: Any, m: int, dyad: Dyad) -> tuple[Any, Any]:
    """Client and therapist alliance per session (item scale)."""
    shared, client_bias, own_bias = dyad.effects
    therapist_bias = own_bias + dyad.style[0]
    growth = np.linspace(0, GROWTH, m)
    rho = np.linspace(*CONGRUENCE, m)
    unlearned = 1 - np.linspace(0, LEARNING, m)
    e1, e2 = rng.normal(0, 1, m), rng.normal(0, 1, m)
    client = CLIENT_MEAN + shared + client_bias + growth + SESSION_SD * e1
    therapist = (
        THERAPIST_MEAN
        + shared
        + unlearned * therapist_bias
        + growth
        + SESSION_SD * (rho * e1 + np.sqrt(1 - rho**2) * e2)
    )
    if dyad.rupture and m >= 5:
        # after at least three sessions; back at the earlier level two sessions later
        j = int(rng.integers(3, m - 1))
        client[j] -= RUPTURE_DROP
        therapist[j] -= RUPTURE_DROP / 2
        client[j + 1] -= RUPTURE_DROP / 3  # partly repaired by the next session
    return client, therapist


def _dyad(
    db: Session,
    rng: Any,
    people: tuple[User, User],
    m: int,
    k: int,
    dyad: Dyad,
    settings: Settings,
) -> int:
    therapist, client = people
    forms = instruments.pair(
        settings, therapist.instrument_pair or settings.default_instrument_pair
    )
    c_level, t_level = _course(rng, m, dyad)
    last_end = datetime.now(UTC).replace(
        hour=9 + k % 8, minute=0, second=0, microsecond=0
    ) - timedelta(days=2 + k % 4)
    _consent(db, therapist, last_end - timedelta(weeks=m + 1), settings.consent_version)
    _consent(db, client, last_end - timedelta(weeks=m + 1), settings.consent_version)
    count = 0
    for j in range(m):
        modality = str(rng.choice(MODALITIES, p=MODALITY_P))
        ended = last_end - timedelta(weeks=m - 1 - j)
        row = TherapySession(
            therapist_id=therapist.id,
            client_id=client.id,
            modality=modality,
            scheduled_start=ended - timedelta(minutes=50),
            duration_minutes=50,
            status=SessionStatus.ENDED,
            started_at=ended - timedelta(minutes=50),
            ended_at=ended,
            created_at=ended - timedelta(days=7),
        )
        db.add(row)
        db.flush()
        poor = modality != "in_person" and rng.random() < 0.2
        if modality in ("video", "audio"):
            _quality(db, rng, row, (therapist, client), poor)
        levels = _levels(rng, c_level[j], t_level[j])
        medium = _medium(rng, modality, poor)
        for who, perspective in ((client, "client"), (therapist, "therapist")):
            form = forms.form(perspective)
            shown = instruments.for_modality(form, modality, settings)
            answers = _answers(rng, shown, levels[perspective], medium[perspective])
            meta = None
            if perspective == "therapist" and forms.meta and rng.random() < PREDICTED:
                guess = _guess(rng, levels, dyad.style[1])
                meta_form = instruments.for_modality(forms.meta, modality, settings)
                meta = _answers(rng, meta_form, guess, medium["client"]) or None
            db.add(_rating(row, who, perspective, form, answers, meta, rng))
            count += 1
    return count


def _levels(rng: Any, client: float, therapist: float) -> dict[str, dict[str, float]]:
    """Per-subscale levels; the therapist tracks the client's bond most closely."""
    out: dict[str, dict[str, float]] = {"client": {}, "therapist": {}}
    for sub in ("goal", "task", "bond"):
        own = rng.normal(0, SUBSCALE_SD)
        follow = FOLLOWS_CLIENT.get(sub, 0.1)
        out["client"][sub] = client + own
        out["therapist"][sub] = (
            therapist + follow * own + rng.normal(0, SUBSCALE_SD * (1 - follow) + 0.05)
        )
    return out


def _guess(
    rng: Any, levels: dict[str, dict[str, float]], bias: float
) -> dict[str, float]:
    """The therapist's guess of the client's subscale levels: partly the client's,
    partly their own, shifted by their own prediction bias."""
    return {
        s: INSIGHT * levels["client"][s]
        + (1 - INSIGHT) * levels["therapist"][s]
        + bias
        + rng.normal(0, PREDICTION_SD)
        for s in levels["client"]
    }


def _medium(rng: Any, modality: str, poor: bool) -> dict[str, float]:
    """How well the technology served the session (item scale), per side."""
    base = {"video": 4.0, "audio": 3.8, "chat": 3.5, "in_person": 3.0}[modality]
    hit = 1.4 if poor else 0.0
    return {
        "client": base - hit + rng.normal(0, 0.4),
        "therapist": base - 0.2 - hit + rng.normal(0, 0.4),
    }


def _answers(
    rng: Any, form: Instrument, levels: dict[str, float], medium: float
) -> dict[str, int]:
    """Integer answers on each item's own range; reversed items answered reversed."""
    counted = {s.id for s in form.subscales if s.in_total}
    mean_level = float(np.mean(list(levels.values())))
    answers = {}
    for item in form.items:
        alliance = item.subscale in counted  # else the medium (digital) subscale
        level = levels.get(item.subscale, mean_level) if alliance else medium
        keyed = np.clip(level + rng.normal(0, ITEM_SD), 1, 5)
        value = item.min + (keyed - 1) / 4 * (item.max - item.min)
        value = int(np.clip(np.rint(value), item.min, item.max))
        answers[item.id] = item.min + item.max - value if item.reversed else value
    return answers


def _rating(
    session: TherapySession,
    who: User,
    perspective: str,
    form: Instrument,
    answers: dict[str, int],
    meta: dict[str, int] | None,
    rng: Any,
) -> Rating:
    scores = score(form, answers)
    delay = timedelta(hours=float(min(rng.exponential(6.0), 40.0)) + 0.1)
    return Rating(
        session_id=session.id,
        rater_id=who.id,
        perspective=perspective,
        instrument_id=form.id,
        instrument_version=form.version,
        answers=answers,
        total=scores.total,
        subscales=dict(scores.subscales),
        meta_answers=meta,
        submitted_at=session.ended_at + delay,  # type: ignore[operator]  # seeded ended
    )


def _quality(
    db: Session, rng: Any, session: TherapySession, people: tuple[User, ...], poor: bool
) -> None:
    """A few connection-quality samples per participant of an online call."""
    video = session.modality == "video"
    for person in people:
        for n in range(int(rng.integers(3, 7))):
            db.add(
                QualitySample(
                    session_id=session.id,
                    user_id=person.id,
                    at=session.started_at + timedelta(minutes=5 + 8 * n),  # type: ignore[operator]  # seeded started
                    rtt_ms=float(
                        rng.uniform(180, 420) if poor else rng.uniform(25, 110)
                    ),
                    jitter_ms=float(
                        rng.uniform(20, 60) if poor else rng.uniform(1, 12)
                    ),
                    packet_loss_pct=float(
                        rng.uniform(3, 12) if poor else rng.uniform(0, 0.8)
                    ),
                    bitrate_kbps=float(
                        (rng.uniform(150, 450) if poor else rng.uniform(900, 2200))
                        if video
                        else rng.uniform(20, 64)
                    ),
                    frames_dropped=float(rng.integers(0, 40 if poor else 4))
                    if video
                    else None,
                )
            )
