"""What the offers' ledger steps share: their error, and the queue of a pre-sale's open pre-orders.

Their figures move through fupin.catalog.ledger (lock, change_listing, record), as every stock movement does.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.catalog import ledger
from fupin.models import Order
from fupin.values import OfferKind


class OfferError(Exception):
    """A pre-order or adoption step that cannot be taken; the message is a Chinese reason for the user."""


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
