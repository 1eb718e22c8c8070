"""A listing's stock history as the console shows it.

Every movement comes from the stock ledger (`fupin.catalog.stock_history`), newest first, with the
available quantity after it; the listing's orders are listed beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.catalog.stock_history import line_text, stock_history
from fupin.models import Listing, Order
from fupin.orders.lifecycle import OrderView, view
from fupin.values import Price, Quantity


@dataclass(frozen=True)
class StockEvent:
    """One change of a listing's stock: when, what happened, and the quantity it concerned."""

    at: datetime
    what: str
    quantity: Quantity | None


@dataclass(frozen=True)
class ListingHistory:
    """A listing with its current stock and what happened to it, newest first."""

    listing_id: int
    product: str
    variety: str
    place: str
    household: str
    planned: Quantity
    remaining: Quantity
    price: Price
    updated_at: datetime
    events: list[StockEvent]
    orders: list[OrderView]


def listing_history(session: Session, listing_id: int) -> ListingHistory | None:
    """A listing's stock history (its last update and its orders), or None for an unknown listing."""
    listing = session.get(Listing, listing_id)
    if listing is None:
        return None
    orders = list(
        session.scalars(select(Order).where(Order.listing_id == listing_id).order_by(Order.created_at.desc()))
    )
    ledger = stock_history(session, listing_id)
    lines = ledger.lines if ledger is not None else []
    events = [
        StockEvent(line.at, line_text(line, with_time=False), Quantity(line.available, listing.unit))
        for line in reversed(lines)
    ]
    return ListingHistory(
        listing_id=listing.id,
        product=listing.product.name,
        variety=listing.variety,
        place=listing.place_label,
        household=listing.household.name if listing.household else "",
        planned=Quantity(listing.planned_quantity, listing.unit),
        remaining=Quantity(listing.remaining_quantity, listing.unit),
        price=Price(listing.price_fen, listing.unit),
        updated_at=listing.updated_at,
        events=events,
        orders=[view(o) for o in orders],
    )
