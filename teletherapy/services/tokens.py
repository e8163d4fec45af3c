"""API bearer tokens: 256-bit random, stored as SHA-256, expiring and revocable."""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ApiToken, User
from . import audit


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(db: Session, user: User, ttl_hours: float) -> tuple[str, ApiToken]:
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=_digest(token),
        expires_at=datetime.now(UTC) + timedelta(hours=ttl_hours),
    )
    db.add(row)
    audit.record(db, "token.issue", user.id, "user", user.id)
    db.commit()
    return token, row


def resolve(db: Session, token: str) -> tuple[User, ApiToken] | None:
    """The active user and token row for a bearer token, or None."""
    if not token or len(token) > 200:
        return None
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= datetime.now(UTC):
        return None
    if not row.user.active:
        return None
    return row.user, row


def revoke(db: Session, row: ApiToken) -> None:
    row.revoked_at = datetime.now(UTC)
    audit.record(db, "token.revoke", row.user_id, "user", row.user_id)
    db.commit()


def revoke_all(db: Session, user_id: str) -> None:
    now = datetime.now(UTC)
    for row in db.scalars(
        select(ApiToken).where(
            ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None)
        )
    ):
        row.revoked_at = now
