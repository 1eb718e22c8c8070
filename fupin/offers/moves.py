"""The offers' changes of a listing's cached figures, made the ledger's way (fupin.catalog.ledger).

Atomic increments in the caller's transaction, each matched by a StockMove row the caller records; never a
value read earlier written back. The caller has taken the listing (ledger.lock) before reading what it moves.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fupin.catalog import ledger
from fupin.models import Listing, Order, utcnow
from fupin.values import OfferKind

ZERO = Decimal(0)


class OfferError(Exception):
    """A pre-order or adoption step that cannot be taken; the message is a Chinese reason for the user."""


def shift(session: Session, listing_id: int, available: Decimal, planned: Decimal = ZERO, **values: Any) -> None:
    """Add to a listing's available and planned figures (and set other columns) in one UPDATE."""
    changes: dict[str, Any] = {"updated_at": utcnow(), **values}
    if available:
        changes["remaining_quantity"] = Listing.remaining_quantity + available
    if planned:
        changes["planned_quantity"] = Listing.planned_quantity + planned
    session.execute(
        update(Listing).where(Listing.id == listing_id).values(changes).execution_options(synchronize_session=False)
    )


def plan_raise(now: ledger.Figures, available: Decimal) -> Decimal:
    """How much the plan must rise so it covers what is delivered, promised and (with this figure) available."""
    return max(now.planned, now.plan_floor(available)) - now.planned


def open_pre_orders(session: Session, listing_id: int) -> list[Order]:
    """The listing's open pre-orders in the order they were placed (created_at, id): the harvest's queue."""
    return list(
        session.scalars(
            select(Order)
            .where(
                Order.listing_id == listing_id,
                Order.status.in_(ledger.OPEN_STATUSES),
                Order.offer == OfferKind.PRE_ORDER.value,
            )
            .order_by(Order.created_at, Order.id)
        )
    )
