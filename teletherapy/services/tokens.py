"""API bearer tokens: 256-bit random, stored as SHA-256, expiring and revocable.

A socket opened with a token carries its :func:`credential` name, so revoking the
token can close that socket (signaling.disconnect_credential) and ``join`` can
check it again (:func:`credential_valid`).
"""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ApiToken, User
from . import audit


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    tx: Session, user: User, ttl_hours: float, *, origin: str | None
) -> tuple[str, ApiToken]:
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=_digest(token),
        expires_at=datetime.now(UTC) + timedelta(hours=ttl_hours),
    )
    tx.add(row)
    audit.record(tx, "token.issue", user.id, "user", user.id, origin=origin)
    tx.commit()
    return token, row


def resolve(tx: Session, token: str) -> tuple[User, ApiToken] | None:
    """The active user and token row for a bearer token, or None."""
    if not token or len(token) > 200:
        return None
    row = tx.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or not _usable(row):
        return None
    return row.user, row


def _usable(row: ApiToken) -> bool:
    """Not revoked, not expired, and its account active."""
    if row.revoked_at is not None or row.expires_at <= datetime.now(UTC):
        return False
    return bool(row.user.active)


def credential(row: ApiToken) -> str:
    """The name signaling knows the token's sockets by (its row id, not secret)."""
    return f"token:{row.id}"


def credential_valid(tx: Session, name: str) -> bool:
    """Whether the token named by :func:`credential` may still be used."""
    kind, _, token_id = name.partition(":")
    row = tx.get(ApiToken, token_id) if kind == "token" else None
    return row is not None and _usable(row)


def revoke(tx: Session, row: ApiToken, *, origin: str | None) -> None:
    row.revoked_at = datetime.now(UTC)
    audit.record(tx, "token.revoke", row.user_id, "user", row.user_id, origin=origin)
    tx.commit()


def revoke_all(tx: Session, user_id: str) -> None:
    """Revoke (uncommitted) every live token of the user; the caller closes
    their sockets (signaling.disconnect_user)."""
    now = datetime.now(UTC)
    for row in tx.scalars(
        select(ApiToken).where(
            ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None)
        )
    ):
        row.revoked_at = now
