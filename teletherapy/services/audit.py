"""Audit rows: who did what to which record, from where; never health data."""

from typing import Any

from flask import has_request_context, request
from sqlalchemy.orm import Session

from ..models import AuditEvent


def record(
    tx: Session,
    action: str,
    actor_id: str | None,
    target_type: str | None = None,
    target_id: str | None = None,
    **details: Any,
) -> None:
    """Add an audit row to the caller's transaction (the calling service commits)."""
    ip = request.remote_addr if has_request_context() else "cli"
    tx.add(
        AuditEvent(
            action=action,
            actor_id=actor_id,
            target_type=target_type,
            target_id=target_id,
            ip=ip,
            details=details or None,
        )
    )


def write(tx: Session, action: str, actor_id: str | None, *target: str | None) -> None:
    """Record a row (target type and id) and commit it: for an audited read or a
    sign-in, where the row is all there is to write."""
    record(tx, action, actor_id, *target)
    tx.commit()
