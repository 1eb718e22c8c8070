"""Orders placed straight through the domain, for tests whose subject comes after the order (delivery,
ratings, complaints, payment): each test names its own buyer."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from fupin.orders.lifecycle import change_order, place_order
from fupin.outreach.users import identify
from fupin.values import Quantity, SupplyMethod

UNIT = "县人民医院食堂"
PHONE = "17723635558"


def place(
    sessions: sessionmaker[Session],
    buyer: str,
    listing_id: int,
    amount: int = 2,
    deliver_as: str | None = None,
    unit: str = UNIT,
) -> str:
    """Place an order of `amount` 斤 for `buyer` (delivered by `deliver_as` when given); its number."""
    with sessions() as session, session.begin():
        order, _offer = place_order(
            session,
            sender_id=buyer,
            listing_id=listing_id,
            quantity=Quantity(Decimal(amount), "斤"),
            buyer_name=unit,
            phone=PHONE,
            supply_method=SupplyMethod.DELIVERY,
        )
        if deliver_as is not None:
            change_order(session, order.order_no, "deliver", identify(session, deliver_as))
        return order.order_no
