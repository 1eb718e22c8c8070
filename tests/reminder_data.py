"""Builders of the people, listings and orders the reminder tests need."""

from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.models import Buyer, Listing, Order, Product, Township, User, Village
from fupin.values import OrderStatus, Role, SupplyMethod

_serial = itertools.count(1)


def township_id(session: Session, name: str) -> int:
    """The id of a township of the reference data."""
    found = session.scalar(select(Township.id).where(Township.name == name))
    assert found is not None, name
    return found


def a_village(session: Session, township: str) -> Village:
    """Some village of a township."""
    village = session.scalar(
        select(Village).where(Village.township_id == township_id(session, township)).order_by(Village.code)
    )
    assert village is not None
    return village


def user(
    session: Session,
    external_id: str,
    role: Role,
    township: str | None = None,
    village_id: int | None = None,
    lead_unit: str | None = None,
    name: str = "",
    channel: str = "telegram",
) -> User:
    """A chat identity bound to a role."""
    row = User(
        channel=channel,
        external_id=external_id,
        role=role.value,
        display_name=name,
        township_id=township_id(session, township) if township else None,
        village_id=village_id,
        lead_unit=lead_unit,
    )
    session.add(row)
    session.flush()
    return row


def listing(
    session: Session, township: str, updated_at: datetime, product: str = "土豆", village_id: int | None = None
) -> Listing:
    """An active listing last updated at the given time."""
    product_row = session.scalar(select(Product).where(Product.name == product))
    if product_row is None:
        product_row = Product(name=product)
        session.add(product_row)
        session.flush()
    row = Listing(
        listing_key=f"test/{next(_serial)}",
        township_id=township_id(session, township),
        village_id=village_id,
        product_id=product_row.id,
        variety="",
        unit="斤",
        planned_quantity=Decimal(100),
        remaining_quantity=Decimal(100),
        price_fen=300,
        supply_methods=int(SupplyMethod.DELIVERY),
        shop_url="",
        remarks="",
        active=True,
        created_at=updated_at,
        updated_at=updated_at,
    )
    session.add(row)
    session.flush()
    return row


def order(session: Session, of: Listing, by: User | None, status: OrderStatus, updated_at: datetime) -> Order:
    """An order of 30 斤 of a listing, in the given state since `updated_at`."""
    buyer = session.scalar(select(Buyer).where(Buyer.name == "县人民医院食堂"))
    if buyer is None:
        buyer = Buyer(name="县人民医院食堂", category="医院", lead_unit="县卫生健康委", phone="17723635558")
        session.add(buyer)
        session.flush()
    row = Order(
        order_no=f"XF{next(_serial):08d}",
        listing_id=of.id,
        buyer_id=buyer.id,
        user_id=by.id if by else None,
        quantity=Decimal(30),
        unit="斤",
        unit_price_fen=300,
        amount_fen=9000,
        supply_method=int(SupplyMethod.DELIVERY),
        phone="17723635558",
        status=status.value,
        remarks="",
        created_at=updated_at,
        updated_at=updated_at,
    )
    session.add(row)
    session.flush()
    return row
