"""Marking an order delivered with how it travelled, and correcting the tracking number afterwards."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.logistics.records import ShipmentError, ShipmentInput, record_shipment
from fupin.models import Order
from fupin.orders.lifecycle import OrderError, change_order
from fupin.orders.pushes import push_shipment_corrected
from fupin.outreach.users import Identity
from fupin.values import OrderStatus

logger = logging.getLogger(__name__)

_SHIPPED = (OrderStatus.DELIVERED, OrderStatus.PAID)


def deliver(session: Session, order_no: str, actor: Identity, shipment: ShipmentInput) -> tuple[Order, bool]:
    """Mark an order delivered with its carrier and number; for one already delivered, correct the number.

    Returns the order and whether this was a correction. Raises OrderError with a Chinese reason.
    """
    order = session.scalar(select(Order).where(Order.order_no == order_no.strip().upper()))
    if order is None or OrderStatus(order.status) not in _SHIPPED or not shipment.carrier.tracked:
        return change_order(session, order_no, "deliver", actor, shipment), False
    if not actor.may_manage(order.listing):
        raise OrderError("您没有权限处理这个订单。")
    try:
        record_shipment(session, order, shipment, actor.user_id)
    except ShipmentError as exc:
        raise OrderError(str(exc)) from exc
    push_shipment_corrected(session, order, actor)
    return order, True
