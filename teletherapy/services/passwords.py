"""People's own passwords: a change in Settings, a reset by e-mailed link.

Either one ends every other way in (docs/security.md, rows 24 and 25): the new
hash is stored, the login nonce rotates (every cookie of the person stops
working), every API token is revoked and every open reset link is voided. The
caller then closes the person's sockets (``signaling.disconnect_user``) and, for
a change in Settings, signs the browser that made it in again with the new nonce.

A reset link is ``secrets.token_urlsafe(32)``, stored as its SHA-256 only, valid
``ttl`` (RESET_TTL_MINUTES) and usable once; a newer request voids the older
links of that person. Asking for one does the same work and gives the same
answer whether or not the address belongs to an active account, so the form
tells nobody which addresses have accounts. Neither links nor passwords ever
reach an audit row or a log.
"""

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from ..models import PasswordReset, User
from . import accounts, audit, lockout, mail, password_policy, tokens
from .errors import Gone, Invalid

# Builds the reset mail from (address, display name, link secret).
ResetMail = Callable[[str, str, str], mail.Outgoing]
# Builds the "your password was changed" notice for the person.
Notice = Callable[[User], mail.Outgoing]

GONE = (
    "This link no longer works: it was already used, it expired, or a newer "
    "link was sent after it."
)
MAX_TOKEN = 200  # longer "links" are not ours


class WrongPassword(Invalid):
    """The current password was not right (or this address is locked out of the
    account for a while); ``counted`` is whether it counted as a failed sign-in."""

    def __init__(self, counted: bool) -> None:
        why = (
            "That is not your current password, or changes from this network are "
            "paused for a while after repeated attempts."
        )
        super().__init__(why, {"current_password": why})
        self.counted = counted


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def change(
    tx: Session,
    user: User,
    current: str,
    new: str,
    *,
    address: str,
    policy: lockout.Policy,
    hash_method: str,
    notice: Notice,
    origin: str | None,
) -> None:
    """Set a new password for ``user``, who proves the current one.

    The current password is checked as a sign-in is (accounts.check_login): a
    wrong one counts towards the lock-out of this address, and a locked-out
    address is refused even with the right one. Raises WrongPassword, or Invalid
    naming ``new_password`` when the policy refuses the new one.
    """
    checked = accounts.check_login(
        tx, user.email, current, address, policy, hash_method, origin=origin
    )
    if checked.user is None or checked.user.id != user.id:
        raise WrongPassword(checked.counted)
    password_policy.check(
        new, user_inputs=(user.email, user.display_name), field="new_password"
    )
    _replace(tx, user, new, hash_method)
    mail.enqueue(tx, notice(user))
    audit.record(tx, "password.change", user.id, "user", user.id, origin=origin)
    tx.commit()


def request_reset(
    tx: Session,
    email: str,
    ttl: timedelta,
    compose: ResetMail,
    *,
    origin: str | None,
) -> bool:
    """Queue a reset link for the active account that uses ``email``, if any.

    Whether it does is returned for the caller's own use (mail.kick) and must
    never change the answer a person sees. Unknown and inactive addresses go
    through the same steps (a secret made, a mail composed, open links voided,
    an audit row) except that nothing is stored for them but the audit row,
    which names an unknown address by its digest only (accounts.account_id).
    """
    key = accounts.normalize_login(email)
    user = None if "\x00" in key else tx.scalar(select(User).where(User.email == key))
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    known = user is not None and user.active
    _void_open_links(tx, user.id if known and user else "", now)
    if user is not None and user.active:
        tx.add(
            PasswordReset(
                user_id=user.id,
                token_hash=_digest(token),
                created_at=now,
                expires_at=now + ttl,
            )
        )
        mail.enqueue(tx, compose(user.email, user.display_name, token))
        audit.record(
            tx, "password.reset_request", user.id, "user", user.id, origin=origin
        )
    else:
        compose("nobody@invalid", "", token)  # the same work; nothing is queued
        audit.record(
            tx,
            "password.reset_request",
            None,
            "user" if user else None,
            user.id if user else None,
            origin=origin,
            account=accounts.account_id(email),
            reason="inactive" if user else "unknown_account",
        )
    tx.commit()
    return known


def link_user(tx: Session, token: str) -> User:
    """The person a reset link is for while it is usable; else Gone."""
    row = _usable(tx, token, datetime.now(UTC))
    user = tx.get(User, row.user_id)
    if user is None or not user.active:
        raise Gone(GONE)
    return user


def reset(
    tx: Session,
    token: str,
    new: str,
    *,
    address: str,
    hash_method: str,
    notice: Notice,
    origin: str | None,
) -> User:
    """Set a new password through a reset link, which is used up by it.

    The link is claimed with one conditional UPDATE, so of two concurrent uses
    only one wins. A refused password (Invalid) leaves the link usable. The
    lock-out of ``address`` (where the owner proved the mailbox) is cleared.
    """
    now = datetime.now(UTC)
    user = link_user(tx, token)
    password_policy.check(
        new, user_inputs=(user.email, user.display_name), field="new_password"
    )
    claimed = tx.execute(
        update(PasswordReset)
        .where(
            PasswordReset.token_hash == _digest(token),
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > now,
        )
        .values(used_at=now)
    )
    if not isinstance(claimed, CursorResult) or claimed.rowcount != 1:
        tx.rollback()
        raise Gone(GONE)
    _replace(tx, user, new, hash_method)
    lockout.forget(tx, accounts.account_id(user.email), address[:64])
    mail.enqueue(tx, notice(user))
    audit.record(tx, "password.reset", user.id, "user", user.id, origin=origin)
    tx.commit()
    return user


def _usable(tx: Session, token: str, now: datetime) -> PasswordReset:
    if not token or len(token) > MAX_TOKEN or "\x00" in token:
        raise Gone(GONE)
    row = tx.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == _digest(token))
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise Gone(GONE)
    return row


def _void_open_links(tx: Session, user_id: str, now: datetime) -> None:
    """Mark every unused reset link of the user used (uncommitted)."""
    tx.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )


def _replace(tx: Session, user: User, new: str, hash_method: str) -> None:
    """The new hash, and every other way in ended (uncommitted): cookies (the
    nonce), API tokens, open reset links. The caller closes the sockets."""
    now = datetime.now(UTC)
    user.password_hash = generate_password_hash(new, method=hash_method)
    user.password_changed_at = now
    accounts.rotate_nonce(tx, user)
    tokens.revoke_all(tx, user.id)
    _void_open_links(tx, user.id, now)
