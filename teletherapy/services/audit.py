"""Audit rows: who did what to which record, from where; never health data.

``origin`` is where the call came from, passed down by the caller: the client's
address (``web_auth.origin()`` in a request or a socket event: the connection's own
address behind TRUSTED_PROXY_HOPS proxies), or ``CLI`` for a command.
"""

from typing import Any

from sqlalchemy.orm import Session

from ..models import AuditEvent

CLI = "cli"  # the origin of rows written by `teletherapy …` commands


def record(
    tx: Session,
    action: str,
    actor_id: str | None,
    target_type: str | None = None,
    target_id: str | None = None,
    *,
    origin: str | None,
    **details: Any,
) -> None:
    """Add an audit row to the caller's transaction (the calling service commits)."""
    tx.add(
        AuditEvent(
            action=action,
            actor_id=actor_id,
            target_type=target_type,
            target_id=target_id,
            ip=origin,
            details=details or None,
        )
    )


def write(
    tx: Session,
    action: str,
    actor_id: str | None,
    *target: str | None,
    origin: str | None,
) -> None:
    """Record a row (target type and id) and commit it: for an audited read or a
    sign-in, where the row is all there is to write."""
    record(tx, action, actor_id, *target, origin=origin)
    tx.commit()
