"""Payment discipline (防止拖欠货款): orders delivered but unpaid too long, the hold on new orders, its lifting.

An order's delivery time is its `updated_at` while it is 已送达: nothing else changes a delivered order
until it is marked paid (the unpaid-order reminders read it the same way).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from fupin.models import Buyer, Listing, Order, PaymentHoldLift
from fupin.orders.buyers import find_buyer
from fupin.settings import TIMEZONE
from fupin.values import OrderStatus, format_yuan

logger = logging.getLogger(__name__)

NO_LEAD_UNIT = "（无牵头单位）"  # buyers of a category no lead unit reports (个人)


class OverdueError(Exception):
    """A hold that cannot be lifted (unknown buyer, bad term); the message is a Chinese reason."""


@dataclass(frozen=True)
class OverdueOrder:
    """A delivered, unpaid order as the overdue report and the lead units' list show it."""

    order_no: str
    buyer: str
    lead_unit: str
    township: str
    place: str
    product: str
    quantity: str
    amount_fen: int
    delivered_on: date
    days: int

    def line(self) -> str:
        """The order in one line for a message."""
        return (
            f"{self.order_no} {self.buyer} {self.product}{self.quantity} {format_yuan(self.amount_fen)}元"
            f"（{self.place}，{self.delivered_on.month}月{self.delivered_on.day}日送达，已{self.days}天）"
        )


def unpaid_since(cutoff: datetime) -> list[object]:
    """The conditions of orders delivered at or before `cutoff` and still unpaid (for a `select(Order)`)."""
    return [Order.status == OrderStatus.DELIVERED.value, Order.updated_at <= cutoff]


def overdue_orders(session: Session, as_of: datetime, days: int, lead_unit: str | None = None) -> list[OverdueOrder]:
    """Orders delivered `days` or more before `as_of` and not paid, oldest first (of one lead unit's buyers)."""
    query = (
        select(Order)
        .join(Buyer, Order.buyer_id == Buyer.id)
        .where(*unpaid_since(as_of - timedelta(days=days)))
        .options(joinedload(Order.buyer), joinedload(Order.listing).joinedload(Listing.township))
        .order_by(Order.updated_at, Order.id)
    )
    if lead_unit is not None:
        query = query.where(Buyer.lead_unit == lead_unit)
    today = as_of.astimezone(TIMEZONE).date()
    found = []
    for order in session.scalars(query).unique():
        delivered = order.updated_at.astimezone(TIMEZONE).date()
        listing = order.listing
        found.append(
            OverdueOrder(
                order_no=order.order_no,
                buyer=order.buyer.name,
                lead_unit=order.buyer.lead_unit or NO_LEAD_UNIT,
                township=listing.township.name,
                place=listing.place_label,
                product=listing.product.name,
                quantity=f"{order.quantity.normalize():f}{order.unit}",
                amount_fen=order.amount_fen,
                delivered_on=delivered,
                days=(today - delivered).days,
            )
        )
    return found


def active_lift(session: Session, buyer_id: int, as_of: datetime) -> PaymentHoldLift | None:
    """The latest lifting of a buyer's hold still in force at `as_of`, if any."""
    return session.scalar(
        select(PaymentHoldLift)
        .where(PaymentHoldLift.buyer_id == buyer_id, PaymentHoldLift.expires_at > as_of)
        .order_by(PaymentHoldLift.expires_at.desc())
        .limit(1)
    )


def holding_orders(
    session: Session, buyer_id: int | None, user_id: int | None, as_of: datetime, days: int
) -> list[Order]:
    """The orders that hold back a new order: the unit's or the user's own, unpaid `days` after delivery.

    An order holds nothing while an admin's lifting for its own unit is in force; none when `days` is 0 (off).
    """
    whose = ([Order.buyer_id == buyer_id] if buyer_id is not None else []) + (
        [Order.user_id == user_id] if user_id is not None else []
    )
    if days <= 0 or not whose:
        return []
    cutoff = as_of - timedelta(days=days)
    orders = list(session.scalars(select(Order).where(or_(*whose), *unpaid_since(cutoff)).order_by(Order.updated_at)))
    lifted = {o.buyer_id for o in orders if active_lift(session, o.buyer_id, as_of) is not None}
    return [o for o in orders if o.buyer_id not in lifted]


def hold_message(orders: list[Order], days: int) -> str:
    """Why a new order is not accepted, and how to get going again (Chinese, for the buyer)."""
    units = "、".join(dict.fromkeys(o.buyer.name for o in orders))
    numbers = "、".join(o.order_no for o in orders[:5]) + ("等" if len(orders) > 5 else "")
    return (
        f"{units}有{len(orders)}笔订单送达超过{days}天还没有付款（{numbers}），请先结清货款再下新订单，"
        "不要拖欠贫困户货款。已经付过的，请让供货联系人在“我的订单”里标记“已付款”；有特殊情况请联系县里的管理员。"
    )


def unit_hold(session: Session, unit_name: str, user_id: int | None, as_of: datetime, days: int) -> str | None:
    """Why an order for the unit named, by this user, is held back; None when it is not."""
    buyer = find_buyer(session, unit_name)
    orders = holding_orders(session, buyer.id if buyer else None, user_id, as_of, days)
    return hold_message(orders, days) if orders else None


def lift_hold(session: Session, unit_name: str, actor: str, reason: str, days: int, now: datetime) -> PaymentHoldLift:
    """Let a buyer order again for `days` days despite unpaid orders; raises OverdueError."""
    if not 1 <= days <= 366:
        raise OverdueError("解除期限要在1到366天之间。")
    if not reason.strip():
        raise OverdueError("请写明解除原因（比如“已承诺月底前付清”）。")
    buyer = find_buyer(session, unit_name)
    if buyer is None:
        raise OverdueError(f"没有找到采购单位“{unit_name}”，请写全称。")
    lift = PaymentHoldLift(
        buyer_id=buyer.id, actor=actor, reason=reason.strip(), created_at=now, expires_at=now + timedelta(days=days)
    )
    session.add(lift)
    session.flush()
    logger.info("payment hold of buyer %s lifted by %s for %d days", buyer.id, actor, days)
    return lift
