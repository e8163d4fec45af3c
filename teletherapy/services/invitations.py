"""Invitations: an administrator invites anyone, a therapist invites clients into
their own caseload; the invited person chooses their own password.

A link carries ``secrets.token_urlsafe(32)``; only its SHA-256 is stored
(``Invitation.token_hash``), and the clear token exists only in the mail, which
is queued in the same transaction as the invitation (``compose`` builds it). The
token is never written to the audit table or the log. A link works once, until
it expires (``ttl_hours``, INVITATION_TTL_HOURS) or is revoked; re-sending makes a
new token, so the old link stops working.

Inviting an address that already has a pending invitation replaces it (the old
link is revoked, a new one sent) when the caller may revoke the old one: a
mistyped name or a lost mail is fixed by inviting again, and only one link is
ever valid for an address. A therapist inviting an address someone else has a
pending invitation for gets a Conflict instead.
"""

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from ..models import ROLES, CaseloadAssignment, Invitation, User
from . import audit, mail, password_policy
from .accounts import normalize_email
from .errors import Conflict, Forbidden, Gone, Invalid, NotFound

State = Literal["pending", "accepted", "expired", "revoked"]
STATES: tuple[State, ...] = ("pending", "accepted", "expired", "revoked")
# What compose gets: the clear token (for the link) and the invitation (for its
# expiry, name and address); it returns the mail to queue.
Compose = Callable[[str, Invitation], mail.Outgoing]
TOKEN_MAX = 200  # a token from token_urlsafe(32) has 43 characters
LIST_LIMIT = 200


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def state(row: Invitation, now: datetime | None = None) -> State:
    now = now or datetime.now(UTC)
    if row.revoked_at is not None:
        return "revoked"
    if row.accepted_at is not None:
        return "accepted"
    if row.expires_at <= now:
        return "expired"
    return "pending"


def _may_manage(actor: User | None, row: Invitation) -> bool:
    """Admins (and commands, actor None) manage every invitation; a therapist
    those into their own caseload."""
    if actor is None or actor.role == "admin":
        return True
    return actor.role == "therapist" and row.therapist_id == actor.id


def create(
    tx: Session,
    *,
    email: str,
    display_name: str,
    role: str,
    inviter: User | None,
    therapist_id: str | None = None,
    ttl_hours: float,
    compose: Compose,
    origin: str | None,
) -> Invitation:
    """Invite someone: the invitation and its mail in one transaction.

    ``inviter`` None is a command (as an administrator). A therapist invites
    clients only, into their own caseload; other roles are refused.
    """
    if inviter is not None and inviter.role not in ("admin", "therapist"):
        raise Forbidden("only administrators and therapists invite people")
    if inviter is not None and inviter.role == "therapist":
        if role != "client":
            raise Forbidden("a therapist invites clients only")
        if therapist_id not in (None, inviter.id):
            raise Forbidden("a therapist invites clients into their own caseload")
        therapist_id = inviter.id
    errors: dict[str, str] = {}
    if role not in ROLES:
        errors["role"] = f"must be one of {list(ROLES)} (got {role!r})"
    name = display_name.strip()
    if not name or len(name) > 120:
        errors["display_name"] = "must be 1 to 120 characters"
    try:
        address = normalize_email(email)
    except Invalid as exc:
        errors.update(exc.details or {"email": "invalid e-mail address"})
        address = ""
    if therapist_id is not None and not errors.get("role"):
        therapist = tx.get(User, therapist_id)
        if role != "client":
            errors["therapist_id"] = "only a client joins a therapist's caseload"
        elif therapist is None or therapist.role != "therapist" or not therapist.active:
            errors["therapist_id"] = "not an active therapist"
    if errors:
        raise Invalid("invalid invitation", errors)
    if tx.scalar(select(User.id).where(User.email == address)) is not None:
        raise Conflict(
            "an account with this e-mail exists", {"email": "already registered"}
        )
    now = datetime.now(UTC)
    actor_id = inviter.id if inviter else None
    for old in _pending_for(tx, address, now):
        if not _may_manage(inviter, old):
            raise Conflict(
                "someone else has invited this e-mail address already",
                {"email": "already invited"},
            )
        old.revoked_at = now
        audit.record(
            tx,
            "invitation.revoke",
            actor_id,
            "invitation",
            old.id,
            reason="replaced",
            origin=origin,
        )
    token = secrets.token_urlsafe(32)
    row = Invitation(
        email=address,
        display_name=name,
        role=role,
        therapist_id=therapist_id,
        invited_by=actor_id,
        token_hash=digest(token),
        created_at=now,
        expires_at=now + timedelta(hours=ttl_hours),
        sent_count=1,
    )
    tx.add(row)
    tx.flush()
    mail.enqueue(tx, compose(token, row))
    audit.record(
        tx,
        "invitation.send",
        actor_id,
        "invitation",
        row.id,
        role=role,
        therapist_id=therapist_id,
        origin=origin,
    )
    tx.commit()
    return row


def _pending_for(tx: Session, address: str, now: datetime) -> list[Invitation]:
    return list(
        tx.scalars(
            select(Invitation).where(
                Invitation.email == address,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
        )
    )


def get(tx: Session, actor: User | None, invitation_id: str) -> Invitation:
    """An invitation the actor may manage; 404 for any other (and unknown ids)."""
    row = tx.get(Invitation, invitation_id) if len(invitation_id) <= 64 else None
    if row is None or not _may_manage(actor, row):
        raise NotFound("no such invitation")
    return row


def resend(
    tx: Session,
    actor: User | None,
    invitation_id: str,
    *,
    ttl_hours: float,
    compose: Compose,
    origin: str | None,
) -> Invitation:
    """A new link (the old one stops working), a new expiry, the mail again."""
    row = get(tx, actor, invitation_id)
    now = datetime.now(UTC)
    if state(row, now) not in ("pending", "expired"):
        raise Conflict(f"this invitation is {state(row, now)}: it cannot be re-sent")
    if tx.scalar(select(User.id).where(User.email == row.email)) is not None:
        raise Conflict(
            "an account with this e-mail exists", {"email": "already registered"}
        )
    token = secrets.token_urlsafe(32)
    row.token_hash = digest(token)
    row.expires_at = now + timedelta(hours=ttl_hours)
    row.sent_count += 1
    tx.flush()
    mail.enqueue(tx, compose(token, row))
    audit.record(
        tx,
        "invitation.resend",
        actor.id if actor else None,
        "invitation",
        row.id,
        sent_count=row.sent_count,
        origin=origin,
    )
    tx.commit()
    return row


def revoke(
    tx: Session, actor: User | None, invitation_id: str, *, origin: str | None
) -> Invitation:
    """The link stops working. Revoking a revoked invitation changes nothing;
    an accepted one cannot be revoked (deactivate the account instead)."""
    row = get(tx, actor, invitation_id)
    if row.accepted_at is not None:
        raise Conflict(
            "this invitation was accepted: deactivate the account instead",
        )
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        audit.record(
            tx,
            "invitation.revoke",
            actor.id if actor else None,
            "invitation",
            row.id,
            origin=origin,
        )
        tx.commit()
    return row


def _gone(why: str = "unknown") -> Gone:
    """Gone, its code saying why: "accepted", "revoked", "expired", "replaced"
    (invited again since) or "unknown" (a token never issued, or one a re-sent
    invitation replaced)."""
    return Gone("This invitation link is no longer valid.", code=why)


def lookup(tx: Session, token: str) -> Invitation:
    """The pending invitation a link's token stands for; Gone for anything else,
    with the reason as its code (only the link's holder learns it)."""
    if not token or len(token) > TOKEN_MAX:
        raise _gone()
    row = tx.scalar(select(Invitation).where(Invitation.token_hash == digest(token)))
    if row is None:
        raise _gone()
    why: str = state(row)
    if why == "revoked" and _pending_for(tx, row.email, datetime.now(UTC)):
        why = "replaced"  # invited again: a newer link is in a newer mail
    if why != "pending":
        raise _gone(why)
    return row


def accept(
    tx: Session,
    token: str,
    *,
    password: str,
    hash_method: str,
    origin: str | None,
) -> User:
    """The invited person's account with the password they chose: the role, name
    and address of the invitation, a client in the therapist's caseload. Gone
    when the link cannot be used; Invalid (field ``password``) for a password the
    policy refuses, and then nothing is created."""
    row = lookup(tx, token)
    password_policy.check(password, user_inputs=(row.email, row.display_name))
    now = datetime.now(UTC)
    # Claim the invitation: of two simultaneous acceptances one wins.
    claimed = tx.execute(
        update(Invitation)
        .where(
            Invitation.id == row.id,
            Invitation.token_hash == digest(token),
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:  # used, revoked or re-sent meanwhile
        row_id = row.id
        tx.rollback()
        now_row = tx.get(Invitation, row_id)
        why = state(now_row) if now_row is not None else "unknown"
        raise _gone("unknown" if why == "pending" else why)
    user = User(
        email=row.email,
        display_name=row.display_name,
        role=row.role,
        password_hash=generate_password_hash(password, method=hash_method),
        password_changed_at=now,
    )
    tx.add(user)
    try:
        tx.flush()
    except IntegrityError as exc:  # an account with this e-mail appeared meanwhile
        tx.rollback()
        raise _gone("accepted") from exc
    if row.role == "client" and row.therapist_id:
        tx.add(CaseloadAssignment(therapist_id=row.therapist_id, client_id=user.id))
    tx.refresh(row)
    row.user_id = user.id
    audit.record(
        tx, "user.create", user.id, "user", user.id, role=row.role, origin=origin
    )
    if row.role == "client" and row.therapist_id:
        audit.record(
            tx,
            "caseload.add",
            user.id,
            "user",
            user.id,
            therapist_id=row.therapist_id,
            origin=origin,
        )
    audit.record(tx, "invitation.accept", user.id, "invitation", row.id, origin=origin)
    tx.commit()
    return user


def listing(
    tx: Session, actor: User, *, states: tuple[State, ...] = STATES
) -> list[tuple[Invitation, State]]:
    """Invitations with their state, newest first: every one for an admin, those
    into the therapist's own caseload for a therapist."""
    stmt = select(Invitation).order_by(Invitation.created_at.desc())
    if actor.role == "therapist":
        stmt = stmt.where(Invitation.therapist_id == actor.id)
    elif actor.role != "admin":
        return []
    now = datetime.now(UTC)
    rows = [(r, state(r, now)) for r in tx.scalars(stmt.limit(LIST_LIMIT))]
    return [(r, s) for r, s in rows if s in states]
