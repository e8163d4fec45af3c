"""Demo data: four accounts with random passwords, and a synthetic rated history."""

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..config import Settings
from ..models import User
from . import accounts, audit


def seed_accounts(
    db: Session, people: list[tuple[str, str, str]], settings: Settings
) -> list[tuple[str, str, str]]:
    """Create the demo people unless they exist; returns (role, e-mail, password) created."""
    created = []
    for role, email, name in people:
        if db.scalar(select(User.id).where(User.email == email)) is not None:
            continue
        password = secrets.token_urlsafe(12)
        accounts.create_user(
            db,
            email=email,
            name=name,
            role=role,
            password=password,
            actor_id=None,
            hash_method=settings.password_hash_method,
            origin=audit.CLI,
        )
        created.append((role, email, password))
    if created:
        therapist = accounts.user_by_email(db, people[0][1])
        client = accounts.user_by_email(db, people[1][1])
        if not accounts.in_caseload(db, therapist.id, client.id):
            accounts.add_to_caseload(
                db, therapist, client, actor_id=None, origin=audit.CLI
            )
    return created


def seed_history(
    db: Session, settings: Settings, *, dyads: int, sessions: int
) -> dict[str, int]:
    """Synthetic rated history: see services/demo_history.py; returns what it added."""
    if dyads <= 0 or sessions <= 0:
        return {"dyads": 0, "sessions": 0, "ratings": 0}
    from . import demo_history  # numpy: only when there is history to make

    return demo_history.seed(db, settings, dyads=dyads, sessions=sessions)
