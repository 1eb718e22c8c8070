"""What an order's life pushes to people: the new order to its supply contacts, status changes to the buyer.

Written into the outbox (`fupin.outreach.notifications`) in the transaction that changes the order. Buttons
carry neutral actions ("order:confirm:XF…") that a front-end turns into a dialogue request. The buyer's phone
is written only into the texts of recipients who may see it (`Identity.may_see_buyer_phone`).
"""

from __future__ import annotations

import enum
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.models import Order, User
from fupin.outreach.notifications import enqueue
from fupin.outreach.users import Identity, identity_of_user, users_for_listing
from fupin.values import OrderStatus, Quantity, format_yuan, supply_method_labels

logger = logging.getLogger(__name__)

# Channels whose users can receive pushes (a console user reads their orders by asking).
PUSH_CHANNELS = frozenset({"telegram"})

ORDER_ACTION_PREFIX = "order:"


class OrderPushKind(str, enum.Enum):
    """The outbox kinds of an order's pushes; their dedupe keys name the order (`kind:order_no:…`)."""

    NEW_ORDER = "new_order"
    STATUS = "order_status"


def order_action(op: str, order_no: str) -> str:
    """A button's neutral action on an order (`order:confirm:XF…`)."""
    return f"{ORDER_ACTION_PREFIX}{op}:{order_no}"


def parse_order_action(data: str) -> tuple[str, str] | None:
    """(op, order_no) of an order action, None for anything else."""
    if not data.startswith(ORDER_ACTION_PREFIX):
        return None
    op, _, order_no = data[len(ORDER_ACTION_PREFIX) :].partition(":")
    return (op, order_no) if op and order_no else None


def _describe(order: Order, recipient: User) -> str:
    listing = order.listing
    product = listing.product.name + (f"（{listing.variety}）" if listing.variety else "")
    methods = "、".join(supply_method_labels(order.supply_method))
    shown = identity_of_user(recipient).may_see_buyer_phone(listing, order.user_id) and order.phone
    return (
        f"{order.buyer.name} 订 {product}{Quantity(order.quantity, order.unit)}（{listing.place_label}），"
        f"金额{format_yuan(order.amount_fen)}元，{methods}" + (f"，电话 {order.phone}" if shown else "")
    )


def push_new_order(session: Session, order: Order) -> int:
    """Tell the listing's supply contacts about a new order, with confirm/reject buttons."""
    buttons = [("确认接单", order_action("confirm", order.order_no)), ("拒绝", order_action("reject", order.order_no))]
    sent = 0
    for user in users_for_listing(session, order.listing):
        if user.channel in PUSH_CHANNELS:
            text = f"新订单 {order.order_no}：{_describe(order, user)}。请尽快确认接单，或说明原因后拒绝。"
            kind = OrderPushKind.NEW_ORDER.value
            enqueue(session, user, kind, text, buttons, dedupe_key=f"{kind}:{order.order_no}:{user.id}")
            sent += 1
    if not sent:
        logger.info("order %s: no supply contact reachable by push", order.order_no)
    return sent


_STATUS_TEXT = {
    OrderStatus.CONFIRMED: "已被供货方确认，供货联系人会按约定送货或联系您自提。",
    OrderStatus.REJECTED: "已被供货方拒绝，预留的数量已释放。可以换一家再订，或直接电话联系供货人。",
    OrderStatus.DELIVERED: "已送达。请按约定及时付款，不要拖欠贫困户的货款。",
    OrderStatus.PAID: "已登记收款，谢谢您对消费扶贫的支持！",
}


def push_status_change(session: Session, order: Order, actor: Identity) -> int:
    """Tell the buyer (or, when the buyer cancelled, the contacts) what happened to an order."""
    status = OrderStatus(order.status)
    if status is OrderStatus.CANCELLED:
        recipients = users_for_listing(session, order.listing)
    else:
        if status not in _STATUS_TEXT or order.user_id is None:
            return 0
        buyer = session.scalar(select(User).where(User.id == order.user_id))
        recipients = [buyer] if buyer is not None else []
    sent = 0
    for user in recipients:
        if user.channel not in PUSH_CHANNELS or user.id == actor.user_id:
            continue  # nobody needs a push about what they just did themselves
        text = _status_text(order, status, user)
        enqueue(
            session,
            user,
            OrderPushKind.STATUS.value,
            text,
            dedupe_key=f"{OrderPushKind.STATUS.value}:{order.order_no}:{status.name}:{user.id}",
        )
        sent += 1
    return sent


def _status_text(order: Order, status: OrderStatus, recipient: User) -> str:
    if status is OrderStatus.CANCELLED:
        return f"订单 {order.order_no} 已被采购方取消：{_describe(order, recipient)}。预留的数量已释放。"
    contact = order.listing.contact
    phone = f"（供货联系人 {contact.name} {contact.phone}）" if contact else ""
    quantity = Quantity(order.quantity, order.unit)
    return f"您的订单 {order.order_no}（{order.listing.product.name}{quantity}）{_STATUS_TEXT[status]}{phone}"
