"""Accounts: creation, password checks with lockout, deactivation, caseload."""

import functools
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import ROLES, CaseloadAssignment, User, new_id
from . import audit, lockout, password_policy
from .errors import Conflict, Invalid, NotFound


@functools.cache
def _dummy_hash(method: str) -> str:
    """A hash to check when the e-mail is unknown: the same method, the same work."""
    return generate_password_hash("not-a-real-password-" + new_id(), method=method)


def normalize_email(email: str) -> str:
    try:
        return validate_email(
            email.strip(), check_deliverability=False
        ).normalized.lower()
    except EmailNotValidError as exc:
        raise Invalid("invalid e-mail address", {"email": str(exc)}) from exc


def create_user(
    tx: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    actor_id: str | None,
    hash_method: str,
    origin: str | None,
) -> User:
    """A new account; ``hash_method`` is Settings.password_hash_method."""
    errors = {}
    if role not in ROLES:
        errors["role"] = f"must be one of {list(ROLES)} (got {role!r})"
    weak = password_policy.problem(password, user_inputs=(email, name))
    if weak:
        errors["password"] = weak
    if not name.strip() or len(name) > 120:
        errors["display_name"] = "must be 1 to 120 characters"
    if errors:
        raise Invalid("invalid user", errors)
    user = User(
        email=normalize_email(email),
        display_name=name.strip(),
        role=role,
        password_hash=generate_password_hash(password, method=hash_method),
    )
    tx.add(user)
    try:
        tx.flush()
    except IntegrityError as exc:
        tx.rollback()
        raise Conflict(
            "a user with this e-mail exists", {"email": "already registered"}
        ) from exc
    audit.record(tx, "user.create", actor_id, "user", user.id, role=role, origin=origin)
    tx.commit()
    return user


@dataclass(frozen=True)
class SignIn:
    """The outcome of a password check: the user, or None and whether it counted."""

    user: User | None
    # A wrong password from an address not locked out: it counts against the
    # account's rate limit. Refusals of a locked-out address do not, so that one
    # address cannot keep the account's limit full (no lock-out weapon).
    counted: bool = False


def check_login(
    tx: Session,
    email: str,
    password: str,
    address: str,
    policy: lockout.Policy,
    hash_method: str,
    *,
    origin: str | None,
) -> SignIn:
    """Check a password with the same work whether the account exists, is locked or not.

    One password hash is checked on every path (a dummy one for unknown e-mails) and
    unknown e-mails are throttled like real ones, so neither timing nor the lock-out
    tells whether an account exists. A lock holds one address out of one account.
    ``hash_method`` (Settings.password_hash_method) is the dummy hash's method.
    """
    key = normalize_login(email)
    account, address = account_id(email), address[:64]
    user = None if "\x00" in key else tx.scalar(select(User).where(User.email == key))
    now = datetime.now(UTC)
    locked = lockout.is_locked(tx, account, address, now)
    stored = user.password_hash if user else _dummy_hash(hash_method)
    if check_password_hash(stored, password) and user and user.active and not locked:
        lockout.forget(tx, account, address)
        tx.commit()
        return SignIn(user)
    if not locked:
        _count_failure(tx, account, address, policy, user, now, origin=origin)
    actor = user.id if user else None
    audit.record(
        tx,
        "login.failed",
        actor,
        "user" if user else None,
        actor,
        reason=_failure_reason(user, locked),
        origin=origin,
    )
    tx.commit()
    return SignIn(None, counted=not locked)


def _count_failure(
    tx: Session,
    account: str,
    address: str,
    policy: lockout.Policy,
    user: User | None,
    now: datetime,
    *,
    origin: str | None,
) -> None:
    length = lockout.record_failure(tx, account, address, policy, now)
    if length and user:
        minutes = int(length.total_seconds() // 60)
        audit.record(
            tx, "user.locked", user.id, "user", user.id, minutes=minutes, origin=origin
        )


def _failure_reason(user: User | None, locked: bool) -> str:
    if user is None:
        return "unknown_account"
    if locked:
        return "locked"
    return "bad_password" if user.active else "inactive"


def normalize_login(email: str) -> str:
    """The e-mail as accounts store it, or lower-cased when it is not a valid address."""
    try:
        return normalize_email(email)
    except Invalid:
        return email.strip().lower()


def account_id(email: str) -> str:
    """What lock-out and the per-account rate limit count under: a digest of the
    address as accounts store it, so every spelling of one address is one account
    and unknown addresses are never stored in clear."""
    return hashlib.sha256(normalize_login(email).encode()).hexdigest()


def rotate_nonce(tx: Session, user: User) -> None:
    """Invalidate every cookie issued to this user (logout, deactivation)."""
    user.login_nonce = new_id()


def sign_out(tx: Session, user: User, *, origin: str | None) -> None:
    """End every login of the user (cookies carry the old nonce) and audit it."""
    rotate_nonce(tx, user)
    audit.record(tx, "logout", user.id, "user", user.id, origin=origin)
    tx.commit()


def set_active(
    tx: Session, user: User, active: bool, actor_id: str, *, origin: str | None
) -> None:
    user.active = active
    if not active:
        rotate_nonce(tx, user)
    audit.record(
        tx,
        "user.activate" if active else "user.deactivate",
        actor_id,
        "user",
        user.id,
        origin=origin,
    )
    tx.commit()


def set_timezone(tx: Session, user: User, tz: str, *, origin: str | None) -> None:
    if tz not in available_timezones():
        raise Invalid(
            "unknown time zone", {"timezone": f"not an IANA time zone (got {tz!r})"}
        )
    user.timezone = tz
    audit.record(tx, "user.timezone", user.id, "user", user.id, origin=origin)
    tx.commit()


def get_user(tx: Session, user_id: str) -> User:
    user = tx.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


def user_by_email(tx: Session, email: str) -> User:
    user = tx.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise NotFound(f"no user with e-mail {email}")
    return user


def add_to_caseload(
    tx: Session,
    therapist: User,
    client: User,
    actor_id: str | None,
    *,
    origin: str | None,
) -> None:
    if therapist.role != "therapist" or client.role != "client":
        raise Invalid(
            "caseload pairs a therapist with a client", {"role": "wrong roles"}
        )
    tx.add(CaseloadAssignment(therapist_id=therapist.id, client_id=client.id))
    try:
        tx.flush()
    except IntegrityError as exc:
        tx.rollback()
        raise Conflict("the client is already in this caseload") from exc
    audit.record(
        tx,
        "caseload.add",
        actor_id,
        "user",
        client.id,
        therapist_id=therapist.id,
        origin=origin,
    )
    tx.commit()


def caseload(tx: Session, therapist_id: str) -> list[User]:
    stmt = (
        select(User)
        .join(CaseloadAssignment, CaseloadAssignment.client_id == User.id)
        .where(CaseloadAssignment.therapist_id == therapist_id)
        .order_by(User.display_name)
    )
    return list(tx.scalars(stmt))


def in_caseload(tx: Session, therapist_id: str, client_id: str) -> bool:
    stmt = select(CaseloadAssignment.id).where(
        CaseloadAssignment.therapist_id == therapist_id,
        CaseloadAssignment.client_id == client_id,
    )
    return tx.scalar(stmt) is not None
