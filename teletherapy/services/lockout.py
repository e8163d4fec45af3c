"""Lock-out per account *and* address, with doubling back-off (docs/configuration.md).

Failed passwords lock one address out of one account; the owner signing in from
anywhere else is not affected, so a stranger cannot lock a therapist out. Guessing
spread over many addresses is bounded by the per-account rate limit instead.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import LoginThrottle

MAX_DOUBLINGS = 6  # the longest lock is 2**6 times LOCKOUT_MINUTES (16 h for 15)


@dataclass(frozen=True)
class Policy:
    threshold: int  # failures from one address that lock it out of the account
    minutes: int  # the first lock; each later one from the same address doubles


def is_locked(tx: Session, account: str, address: str, now: datetime) -> bool:
    until = tx.scalar(
        select(LoginThrottle.locked_until).where(
            LoginThrottle.account == account, LoginThrottle.address == address
        )
    )
    return until is not None and until > now


def record_failure(
    tx: Session, account: str, address: str, policy: Policy, now: datetime
) -> timedelta | None:
    """Count a failed password; the lock's length when this failure locks the address."""
    row = _row(tx, account, address)
    row.failures += 1
    if row.failures < policy.threshold:
        return None
    length = timedelta(minutes=policy.minutes * 2 ** min(row.lockouts, MAX_DOUBLINGS))
    row.failures = 0
    row.lockouts += 1
    row.locked_until = now + length
    return length


def forget(tx: Session, account: str, address: str) -> None:
    """A good sign-in from this address clears its failures and its back-off."""
    tx.execute(
        delete(LoginThrottle).where(
            LoginThrottle.account == account, LoginThrottle.address == address
        )
    )


def _row(tx: Session, account: str, address: str) -> LoginThrottle:
    # Insert-if-absent, then lock the row: concurrent failures neither collide nor
    # lose a count (FOR UPDATE is a no-op on SQLite, which writes one at a time).
    dialect = postgresql if tx.get_bind().dialect.name == "postgresql" else sqlite
    tx.execute(
        dialect.insert(LoginThrottle)
        .values(account=account, address=address, failures=0, lockouts=0)
        .on_conflict_do_nothing()
    )
    return tx.execute(
        select(LoginThrottle)
        .where(LoginThrottle.account == account, LoginThrottle.address == address)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
