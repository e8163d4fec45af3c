"""Two-factor sign-in: time-based one-time codes (TOTP, RFC 6238) and recovery codes.

A person enrols by scanning a QR code (or typing the secret) into an authenticator
app; the secret waits in ``User.pending_totp_secret`` until a first code confirms it,
then moves to ``User.totp_secret``. A code is accepted within one 30-second step
either side (clock drift) and only once: the step of the last accepted code is kept
in ``User.totp_last_step`` and a code of that step or earlier is refused, so a code
seen over someone's shoulder cannot be used again. Ten recovery codes stand in for
the phone; each works once and only their SHA-256 is stored.

Audit rows (actions ``2fa.*``) name the person and the outcome, never a secret or a
code. No Flask here: callers pass the clock-free inputs and their origin.
pyotp and segno are imported by the functions that use them, not at start-up.
"""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from ..models import AuditEvent, RecoveryCode, User
from . import accounts, audit, tokens
from .errors import Invalid

ISSUER = "Teletherapy"
INTERVAL = 30  # seconds per step (RFC 6238's default, what every app expects)
WINDOW = 1  # steps accepted either side of now
RECOVERY_CODES = 10
# Wrong codes in an hour after which the account's second step pauses (web and
# API alike): someone who has the password cannot keep guessing
PAUSE_AFTER_FAILURES = 10
PAUSE = timedelta(hours=1)
# Recovery code letters: lower case and digits without 0/o, 1/l/i (easy to misread)
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_GROUPS, _GROUP_LEN = 3, 4


def new_secret() -> str:
    """A fresh base32 secret (160 bits, as RFC 4226 recommends)."""
    import pyotp

    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    import pyotp

    return pyotp.TOTP(secret, interval=INTERVAL).provisioning_uri(
        name=email, issuer_name=ISSUER
    )


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as an inline <svg> element (no image request, no script)."""
    import segno

    svg: str = segno.make(uri, error="m").svg_inline(
        scale=5, border=4, dark="#000", light="#fff", svgclass="qr-code"
    )
    return svg


def grouped(secret: str) -> str:
    """The secret in groups of four for people who type it."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // INTERVAL)


def _normalize(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def looks_like_totp(code: str) -> bool:
    compact = _normalize(code)
    return len(compact) == 6 and compact.isascii() and compact.isdigit()


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The step within WINDOW of now whose code is ``code``, latest first."""
    if not looks_like_totp(code):
        return None
    import pyotp

    compact = _normalize(code)
    totp = pyotp.TOTP(secret, interval=INTERVAL)
    here = current_step(now)
    for step in range(here + WINDOW, here - WINDOW - 1, -1):
        if hmac.compare_digest(totp.generate_otp(step), compact):
            return step
    return None


def _claim_step(tx: Session, user: User, step: int) -> bool:
    """Store ``step`` as the last accepted one unless it (or a later one) already is:
    one conditional UPDATE, so two requests racing with one code cannot both win."""
    result = tx.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session="fetch")
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def _hash(code: str) -> str:
    return hashlib.sha256(_normalize(code).encode()).hexdigest()


def _new_recovery_code() -> str:
    groups = (
        "".join(secrets.choice(_ALPHABET) for _ in range(_GROUP_LEN))
        for _ in range(_GROUPS)
    )
    return "-".join(groups)


def _replace_recovery_codes(tx: Session, user: User) -> list[str]:
    tx.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    tx.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(c)) for c in codes)
    return codes


def _use_recovery_code(tx: Session, user: User, code: str) -> bool:
    compact = _normalize(code)
    if len(compact) != _GROUPS * _GROUP_LEN or not compact.isascii():
        return False
    row_id = tx.scalar(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash(compact),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row_id is None:
        return False
    result = tx.execute(  # once: a racing second use finds used_at set
        update(RecoveryCode)
        .where(RecoveryCode.id == row_id, RecoveryCode.used_at.is_(None))
        .values(used_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


# --- state ---------------------------------------------------------------------


def enabled(user: User) -> bool:
    return bool(user.totp_secret)


def required(user: User, roles: list[str] | tuple[str, ...]) -> bool:
    """Whether the person's role must use a second factor (REQUIRE_2FA_ROLES)."""
    return user.role in roles


def recovery_codes_left(tx: Session, user: User) -> int:
    rows = tx.scalars(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )
    return len(list(rows))


# --- enrolment -----------------------------------------------------------------


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret waiting for its first code."""

    secret: str
    uri: str
    qr_svg: str


def pending_enrolment(tx: Session, user: User) -> Enrolment:
    """The pending secret (made now if there is none) with its URI and QR code."""
    secret = user.pending_totp_secret
    if not secret:
        secret = user.pending_totp_secret = new_secret()
        tx.commit()
    uri = provisioning_uri(secret, user.email)
    return Enrolment(secret=secret, uri=uri, qr_svg=qr_svg(uri))


def confirm_enrolment(
    tx: Session, user: User, code: str, *, origin: str | None
) -> list[str]:
    """Turn the second factor on with a first code from the pending secret; returns
    the ten recovery codes, in clear this once. A wrong code raises Invalid."""
    secret = user.pending_totp_secret
    step = _matching_step(secret, code) if secret else None
    if secret is None or step is None:
        record_failure(tx, user, "enrol", origin=origin)
        raise Invalid(
            "That code did not match. Check the time on your phone is right and "
            "type the six digits your app shows now.",
            {"code": "does not match"},
        )
    user.totp_secret = secret
    user.pending_totp_secret = None
    user.totp_last_step = step  # the confirming code is used up too
    codes = _replace_recovery_codes(tx, user)
    audit.record(tx, "2fa.enrol", user.id, "user", user.id, origin=origin)
    tx.commit()
    return codes


def new_recovery_codes(tx: Session, user: User, *, origin: str | None) -> list[str]:
    """Ten fresh recovery codes in place of the old ones (the caller checked the
    person's password and code)."""
    codes = _replace_recovery_codes(tx, user)
    audit.record(tx, "2fa.recovery_codes", user.id, "user", user.id, origin=origin)
    tx.commit()
    return codes


def _clear(tx: Session, user: User) -> None:
    user.totp_secret = None
    user.pending_totp_secret = None
    user.totp_last_step = None
    tx.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def disable(
    tx: Session, user: User, *, again: bool = False, origin: str | None
) -> None:
    """The person turns the second factor off (``again``: to set it up anew, the
    only way for a role that requires it). The caller checked password and code."""
    _clear(tx, user)
    audit.record(
        tx, "2fa.disable", user.id, "user", user.id, origin=origin, again=again
    )
    tx.commit()


def reset(tx: Session, user: User, actor_id: str, *, origin: str | None) -> None:
    """An administrator clears the person's second factor (a lost phone): secret and
    recovery codes go, and every login of the person ends: web (the nonce) and API
    tokens; the caller closes their sockets (signaling.disconnect_user)."""
    _clear(tx, user)
    accounts.rotate_nonce(tx, user)
    tokens.revoke_all(tx, user.id)
    audit.record(tx, "2fa.reset", actor_id, "user", user.id, origin=origin)
    tx.commit()


# --- sign-in -------------------------------------------------------------------


def check_code(tx: Session, user: User, code: str) -> str | None:
    """The method (``totp`` or ``recovery``) if ``code`` is a right, unused code of
    the person's confirmed factor, else None; the step or recovery code is spent
    (flushed, not committed)."""
    secret = user.totp_secret
    if not secret or not isinstance(code, str) or len(code) > 64:
        return None
    if looks_like_totp(code):
        step = _matching_step(secret, code)
        return "totp" if step is not None and _claim_step(tx, user, step) else None
    return "recovery" if _use_recovery_code(tx, user, code) else None


def verify_second_factor(
    tx: Session,
    user: User,
    code: str,
    *,
    origin: str | None = None,
    stage: str = "login",
) -> bool:
    """Check a sign-in's second factor (a TOTP code or a recovery code), once only,
    and audit the outcome (``2fa.used`` with its method, or ``2fa.failed``);
    commits. For the web login's second step and the API's token issue. After
    PAUSE_AFTER_FAILURES wrong codes within PAUSE every code is refused (audited
    as ``2fa.paused``, which does not extend the pause) until the hour has passed."""
    if paused(tx, user):
        audit.record(
            tx, "2fa.paused", user.id, "user", user.id, origin=origin, stage=stage
        )
        tx.commit()
        return False
    method = check_code(tx, user, code)
    if method is None:
        record_failure(tx, user, stage, origin=origin)
        return False
    audit.record(
        tx,
        "2fa.used",
        user.id,
        "user",
        user.id,
        origin=origin,
        method=method,
        stage=stage,
    )
    tx.commit()
    return True


def record_failure(
    tx: Session, user: User, stage: str, *, origin: str | None, reason: str = "code"
) -> None:
    """Audit a refused second-factor step (``reason``: code or password); commits."""
    audit.record(
        tx,
        "2fa.failed",
        user.id,
        "user",
        user.id,
        origin=origin,
        stage=stage,
        reason=reason,
    )
    tx.commit()


def failures_since(tx: Session, user: User, since: datetime) -> int:
    """Wrong second-factor codes of the person since ``since`` (from the audit
    trail, so a replayed cookie cannot reset the count)."""
    rows = tx.scalars(
        select(AuditEvent.id).where(
            AuditEvent.action == "2fa.failed",
            AuditEvent.actor_id == user.id,
            AuditEvent.at >= since,
        )
    )
    return len(list(rows))


def paused(tx: Session, user: User) -> bool:
    """Whether the person's second step is paused after many wrong codes."""
    since = datetime.now(UTC) - PAUSE
    return failures_since(tx, user, since) >= PAUSE_AFTER_FAILURES
