"""Named leases in the database: exactly one process at a time holds a lease until it expires.

Taking or renewing a lease is one conditional UPDATE (it matches only when the caller already holds
the lease or it has expired) or, when the row is absent, an INSERT that loses to a concurrent one on
the primary key; both are portable between SQLite and PostgreSQL. The caller commits. Expiry uses the
processes' clocks, so hosts sharing a lease need synchronised clocks (NTP).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fupin.models import Lease, utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeaseState:
    """Who holds a lease and until when (aware UTC)."""

    name: str
    holder: str
    expires_at: datetime


def acquire(session: Session, name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take or renew the lease `name` for `holder` until now + ttl; False while someone else holds it."""
    if ttl <= timedelta(0):
        raise ValueError("a lease needs a positive ttl")
    now = now or utcnow()
    expires_at = now + ttl
    # Renewal by the holder, or take-over of an expired lease: one statement, so two contenders
    # cannot both match (PostgreSQL re-checks the WHERE after the first one's commit; SQLite serialises).
    taken = session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at <= now))
        .values(holder=holder, expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount == 1:
        return True
    if session.scalar(select(Lease.name).where(Lease.name == name)) is not None:
        return False
    try:
        # A savepoint: losing the insert race must not spoil the caller's transaction.
        with session.begin_nested():
            session.add(Lease(name=name, holder=holder, expires_at=expires_at))
    except IntegrityError:
        logger.info("lease %s: another process took it first", name)
        return False
    logger.info("lease %s taken by %s", name, holder)
    return True


def release(session: Session, name: str, holder: str) -> bool:
    """Give the lease up at once (others need not wait for expiry); False when `holder` did not hold it."""
    gone = session.execute(
        delete(Lease).where(Lease.name == name, Lease.holder == holder).execution_options(synchronize_session=False)
    )
    if gone.rowcount:
        logger.info("lease %s released by %s", name, holder)
    return bool(gone.rowcount)


def current(session: Session, name: str, now: datetime | None = None) -> LeaseState | None:
    """The unexpired holder of a lease, or None."""
    now = now or utcnow()
    row = session.scalar(select(Lease).where(Lease.name == name, Lease.expires_at > now))
    return LeaseState(row.name, row.holder, row.expires_at) if row else None
