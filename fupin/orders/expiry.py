"""Orders nobody confirmed: after ORDER_CONFIRM_DAYS they expire and their reserved stock goes back."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.catalog import ledger
from fupin.models import Order
from fupin.orders.pushes import push_expired
from fupin.orders.rules import OrderRules
from fupin.values import OfferKind, OrderStatus

logger = logging.getLogger(__name__)


def expire_unconfirmed(session: Session, now: datetime, rules: OrderRules) -> list[str]:
    """Expire the orders their supply contact has not confirmed in time, releasing their stock; tells both sides.

    A pre-order (预售) never expires: it waits for the harvest, which fills or releases it (fupin.offers.harvest).
    Returns the expired order numbers. Each order changes with a conditional UPDATE, so an order confirmed or
    cancelled meanwhile, or a second run, is left alone.
    """
    cutoff = now - rules.confirm_within
    stale = session.scalars(
        select(Order)
        .where(
            Order.status == OrderStatus.PENDING.value,
            Order.created_at <= cutoff,
            Order.offer != OfferKind.PRE_ORDER.value,
        )
        .order_by(Order.id)
    ).all()
    expired: list[Order] = []
    for order in stale:
        # Through the ledger: the status moves conditionally and what the order holds is released (RELEASE).
        if ledger.close_order(session, order, OrderStatus.EXPIRED, None):
            expired.append(order)
    session.flush()
    session.expire_all()
    days = rules.confirm_within.days
    for order in expired:
        logger.info("order %s expired: not confirmed within %s", order.order_no, rules.confirm_within)
        push_expired(session, order, days)
    return [order.order_no for order in expired]
