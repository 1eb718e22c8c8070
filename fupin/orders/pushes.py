"""What an order's life pushes to people: the new order to its contacts, changes to whoever did not make them.

Written into the outbox (`fupin.outreach.notifications`) in the transaction that changes the order. Buttons
carry neutral actions ("order:confirm:XF…") that a front-end turns into a dialogue request. The buyer's phone
is written only into the texts of recipients who may see it (`Identity.may_see_buyer_phone`).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.complaints.pushes import complain_action
from fupin.logistics.records import shipment_of
from fupin.models import Order, User
from fupin.orders.ratings import rating_buttons
from fupin.outreach.notifications import PUSH_CHANNELS, enqueue
from fupin.outreach.users import Identity, identity_of_user, users_for_listing
from fupin.values import OrderStatus, Quantity, format_yuan, supply_method_labels

logger = logging.getLogger(__name__)

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
    """Tell everyone involved who did not make the change: the buyer, and for a cancellation the contacts too."""
    status = OrderStatus(order.status)
    if status is OrderStatus.CANCELLED:
        by = _who_cancelled(order, actor)
        return _push(session, order, status, actor, lambda user: _cancelled_text(order, user, by), contacts=True)
    if status not in _STATUS_TEXT:
        return 0
    if status is OrderStatus.DELIVERED:
        # The one push asking for a rating: the stars are buttons under the delivery message.
        text = (
            _buyer_text(order, _delivered_text(session, order))
            + "\n给这次的产品打个分吧（1-5星，7天内可以修改）；有质量问题请点“质量投诉”："
        )
        buttons = [*rating_buttons(order.order_no), ("质量投诉", complain_action(order.order_no))]
        return _push(session, order, status, actor, lambda _user: text, buttons=buttons)
    return _push(session, order, status, actor, lambda _user: _buyer_text(order, _STATUS_TEXT[status]))


def _delivered_text(session: Session, order: Order) -> str:
    shipment = shipment_of(session, order.id)
    if shipment is None or not shipment.carrier.tracked:
        return _STATUS_TEXT[OrderStatus.DELIVERED]
    return f"已发货（{shipment.label()}）。收到后请按约定及时付款，不要拖欠贫困户的货款。"


def push_shipment_corrected(session: Session, order: Order, actor: Identity) -> int:
    """Tell the buyer the corrected carrier or tracking number of a delivered order."""
    shipment = shipment_of(session, order.id)
    if shipment is None:
        return 0
    text = _buyer_text(order, f"的物流信息已更正：{shipment.label()}。")
    return _push(
        session, order, OrderStatus.DELIVERED, actor, lambda _user: text, key=f"SHIPMENT:{shipment.tracking_no}"
    )


def push_expired(session: Session, order: Order, days: int) -> int:
    """Tell the buyer and the supply contacts that an order nobody confirmed in time has expired."""

    def text(user: User) -> str:
        if user.id == order.user_id:
            return _buyer_text(
                order, f"供货方{days}天内没有确认，已自动过期，预留的数量已释放。可以重新下单，或直接电话联系供货人。"
            )
        return f"订单 {order.order_no} {days}天内没有确认，已自动过期：{_describe(order, user)}。预留的数量已释放。"

    return _push(session, order, OrderStatus.EXPIRED, None, text, contacts=True)


def _push(
    session: Session,
    order: Order,
    status: OrderStatus,
    actor: Identity | None,
    text_for: Callable[[User], str],
    contacts: bool = False,
    buttons: list[tuple[str, str]] | None = None,
    key: str = "",
) -> int:
    recipients: dict[int, User] = {}
    if order.user_id is not None:
        buyer = session.scalar(select(User).where(User.id == order.user_id))
        if buyer is not None:
            recipients[buyer.id] = buyer
    if contacts:
        recipients.update((user.id, user) for user in users_for_listing(session, order.listing))
    sent = 0
    for user in recipients.values():
        if user.channel not in PUSH_CHANNELS or (actor is not None and user.id == actor.user_id):
            continue  # nobody needs a push about what they just did themselves
        enqueue(
            session,
            user,
            OrderPushKind.STATUS.value,
            text_for(user),
            buttons or (),
            dedupe_key=f"{OrderPushKind.STATUS.value}:{order.order_no}:{key or status.name}:{user.id}",
        )
        sent += 1
    return sent


def _who_cancelled(order: Order, actor: Identity) -> str:
    if actor.user_id is not None and actor.user_id == order.user_id:
        return "采购方"
    return "县里的管理员" if actor.is_admin else "供货方"


def _cancelled_text(order: Order, recipient: User, by: str) -> str:
    if recipient.id == order.user_id:
        return _buyer_text(order, f"已被{by}取消，预留的数量已释放。如有疑问请联系供货联系人。")
    return f"订单 {order.order_no} 已被{by}取消：{_describe(order, recipient)}。预留的数量已释放。"


def _buyer_text(order: Order, what: str) -> str:
    contact = order.listing.contact
    phone = f"（供货联系人 {contact.name} {contact.phone}）" if contact else ""
    quantity = Quantity(order.quantity, order.unit)
    return f"您的订单 {order.order_no}（{order.listing.product.name}{quantity}）{what}{phone}"
