"""Orders for the county office: filtered by status, township, buyer and date, with what is overdue marked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.models import Buyer, Listing, Order, utcnow
from fupin.orders.lifecycle import OrderView, view
from fupin.settings import TIMEZONE
from fupin.values import OrderStatus


@dataclass(frozen=True)
class OrderDeadlines:
    """How long an order may stay unconfirmed, undelivered or unpaid before it is marked."""

    confirm: timedelta = timedelta(days=2)
    deliver: timedelta = timedelta(days=7)
    pay: timedelta = timedelta(days=30)  # Settings.payment_overdue_days, as the payment reminders use


@dataclass(frozen=True)
class OrderFilter:
    """What the order list is narrowed to; None or empty means any."""

    status: OrderStatus | None = None
    township_id: int | None = None
    buyer: str = ""  # part of the buying unit's name
    since: date | None = None  # created on or after (Asia/Shanghai)
    until: date | None = None  # created on or before
    lead_unit: str | None = None  # a lead unit's own system only


@dataclass(frozen=True)
class OrderLine:
    """An order as listed, with the overdue mark (待确认超时, 未送达超时, 未付款超时) or empty."""

    order: OrderView
    buyer_lead_unit: str
    overdue: str


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), TIMEZONE)


def overdue_mark(order: Order, deadlines: OrderDeadlines, now: datetime) -> str:
    """Why an order is late, in Chinese, or "" when it is not."""
    status = OrderStatus(order.status)
    if status is OrderStatus.PENDING and order.created_at + deadlines.confirm <= now:
        return "待确认超时"
    if status is OrderStatus.CONFIRMED and order.updated_at + deadlines.deliver <= now:
        return "未送达超时"
    if status is OrderStatus.DELIVERED and order.updated_at + deadlines.pay <= now:
        return "未付款超时"
    return ""


def find_orders(
    session: Session,
    wanted: OrderFilter,
    deadlines: OrderDeadlines | None = None,
    limit: int = 200,
    now: datetime | None = None,
) -> list[OrderLine]:
    """The orders matching a filter, newest first, each with its overdue mark."""
    deadlines = deadlines or OrderDeadlines()
    now = now or utcnow()
    query = select(Order).join(Listing).join(Buyer, Order.buyer_id == Buyer.id)
    if wanted.status is not None:
        query = query.where(Order.status == wanted.status.value)
    if wanted.township_id is not None:
        query = query.where(Listing.township_id == wanted.township_id)
    if wanted.buyer.strip():
        query = query.where(Buyer.name.contains(wanted.buyer.strip(), autoescape=True))
    if wanted.since is not None:
        query = query.where(Order.created_at >= _start_of(wanted.since))
    if wanted.until is not None:
        query = query.where(Order.created_at < _start_of(wanted.until + timedelta(days=1)))
    if wanted.lead_unit is not None:
        query = query.where(Buyer.lead_unit == wanted.lead_unit)
    query = query.order_by(Order.created_at.desc(), Order.id.desc()).limit(limit)
    return [OrderLine(view(o), o.buyer.lead_unit, overdue_mark(o, deadlines, now)) for o in session.scalars(query)]
