"""Accounts: creation, password checks with lockout, deactivation, caseload."""

from datetime import UTC, datetime, timedelta
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import ROLES, CaseloadAssignment, User, new_id
from . import audit
from .errors import Conflict, Invalid, NotFound

MIN_PASSWORD = 12
# A hash to compare against when the e-mail is unknown, so timing does not reveal accounts.
_DUMMY_HASH = generate_password_hash("not-a-real-password-" + new_id(), method="scrypt")


def _hash_method() -> str:
    # Werkzeug's scrypt (n=2**15, r=8, p=1) unless the test config lowers the work factor.
    return str(current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def normalize_email(email: str) -> str:
    try:
        return validate_email(
            email.strip(), check_deliverability=False
        ).normalized.lower()
    except EmailNotValidError as exc:
        raise Invalid("invalid e-mail address", {"email": str(exc)}) from exc


def create_user(
    db: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    actor_id: str | None,
) -> User:
    errors = {}
    if role not in ROLES:
        errors["role"] = f"must be one of {list(ROLES)} (got {role!r})"
    if len(password) < MIN_PASSWORD:
        errors["password"] = f"must be at least {MIN_PASSWORD} characters"
    if not name.strip() or len(name) > 120:
        errors["display_name"] = "must be 1 to 120 characters"
    if errors:
        raise Invalid("invalid user", errors)
    user = User(
        email=normalize_email(email),
        display_name=name.strip(),
        role=role,
        password_hash=generate_password_hash(password, method=_hash_method()),
    )
    db.add(user)
    try:
        db.flush()
    except IntegrityError as exc:
        db.rollback()
        raise Conflict(
            "a user with this e-mail exists", {"email": "already registered"}
        ) from exc
    audit.record(db, "user.create", actor_id, "user", user.id, role=role)
    db.commit()
    return user


def check_login(
    db: Session, email: str, password: str, threshold: int, minutes: int
) -> User | None:
    """The user if the password is right and the account usable; counts failures, locks."""
    try:
        address = normalize_email(email)
    except Invalid:
        address = email.strip().lower()
    # PostgreSQL text cannot hold NUL: such an address is simply not an account
    user = (
        None
        if "\x00" in address
        else db.scalar(select(User).where(User.email == address))
    )
    now = datetime.now(UTC)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        audit.record(db, "login.failed", None, reason="unknown_account")
        db.commit()
        return None
    if user.locked_until and user.locked_until > now:
        audit.record(db, "login.failed", user.id, "user", user.id, reason="locked")
        db.commit()
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        user.failed_logins += 1
        reason = "inactive" if user.active is False else "bad_password"
        if user.failed_logins >= threshold:
            user.locked_until = now + timedelta(minutes=minutes)
            user.failed_logins = 0
            audit.record(db, "user.locked", user.id, "user", user.id)
        audit.record(db, "login.failed", user.id, "user", user.id, reason=reason)
        db.commit()
        return None
    user.failed_logins = 0
    user.locked_until = None
    db.commit()
    return user


def is_locked(user: User) -> bool:
    return bool(user.locked_until and user.locked_until > datetime.now(UTC))


def rotate_nonce(db: Session, user: User) -> None:
    """Invalidate every cookie issued to this user (logout, deactivation)."""
    user.login_nonce = new_id()


def set_active(db: Session, user: User, active: bool, actor_id: str) -> None:
    user.active = active
    if not active:
        rotate_nonce(db, user)
    audit.record(
        db, "user.activate" if active else "user.deactivate", actor_id, "user", user.id
    )
    db.commit()


def set_timezone(db: Session, user: User, tz: str) -> None:
    if tz not in available_timezones():
        raise Invalid(
            "unknown time zone", {"timezone": f"not an IANA time zone (got {tz!r})"}
        )
    user.timezone = tz
    audit.record(db, "user.timezone", user.id, "user", user.id)
    db.commit()


def get_user(db: Session, user_id: str) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


def user_by_email(db: Session, email: str) -> User:
    user = db.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise NotFound(f"no user with e-mail {email}")
    return user


def add_to_caseload(
    db: Session, therapist: User, client: User, actor_id: str | None
) -> None:
    if therapist.role != "therapist" or client.role != "client":
        raise Invalid(
            "caseload pairs a therapist with a client", {"role": "wrong roles"}
        )
    db.add(CaseloadAssignment(therapist_id=therapist.id, client_id=client.id))
    try:
        db.flush()
    except IntegrityError as exc:
        db.rollback()
        raise Conflict("the client is already in this caseload") from exc
    audit.record(
        db, "caseload.add", actor_id, "user", client.id, therapist_id=therapist.id
    )
    db.commit()


def caseload(db: Session, therapist_id: str) -> list[User]:
    stmt = (
        select(User)
        .join(CaseloadAssignment, CaseloadAssignment.client_id == User.id)
        .where(CaseloadAssignment.therapist_id == therapist_id)
        .order_by(User.display_name)
    )
    return list(db.scalars(stmt))


def in_caseload(db: Session, therapist_id: str, client_id: str) -> bool:
    stmt = select(CaseloadAssignment.id).where(
        CaseloadAssignment.therapist_id == therapist_id,
        CaseloadAssignment.client_id == client_id,
    )
    return db.scalar(stmt) is not None
