"""Marking an order delivered with how it travelled, and correcting the tracking number afterwards."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.logistics.records import ShipmentError, ShipmentInput, record_shipment, shipment_of
from fupin.models import Order
from fupin.orders.lifecycle import OrderError, change_order
from fupin.orders.pushes import push_shipment_corrected
from fupin.outreach.users import Identity
from fupin.values import OrderStatus

logger = logging.getLogger(__name__)

_SHIPPED = (OrderStatus.DELIVERED, OrderStatus.PAID)


@dataclass(frozen=True)
class Delivered:
    """An order marked delivered, or the correction of its carrier and number (`corrected`)."""

    order: Order
    shipment: ShipmentInput
    corrected: bool


def deliver(session: Session, order_no: str, actor: Identity, shipment: ShipmentInput) -> Delivered:
    """Mark an order delivered with its carrier and number; for one already delivered, correct the number.

    Raises OrderError with a Chinese reason.
    """
    order = session.scalar(select(Order).where(Order.order_no == order_no.strip().upper()))
    if order is None or OrderStatus(order.status) not in _SHIPPED or not shipment.carrier.tracked:
        return Delivered(change_order(session, order_no, "deliver", actor, shipment), shipment, corrected=False)
    if not actor.may_manage(order.listing):
        raise OrderError("您没有权限处理这个订单。")
    recorded = shipment_of(session, order.id)
    if shipment.guessed and recorded is not None and recorded.carrier.tracked:
        # "XF…的单号改成…": only the number changes.
        shipment = ShipmentInput(recorded.carrier, shipment.tracking_no, recorded.company)
    try:
        record_shipment(session, order, shipment, actor.user_id)
    except ShipmentError as exc:
        raise OrderError(str(exc)) from exc
    push_shipment_corrected(session, order, actor)
    return Delivered(order, shipment, corrected=True)
