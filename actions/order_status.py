"""An order after it is placed: listing one's orders, and confirming, rejecting, delivering (with the carrier
and tracking number), marking paid or cancelling it by button or by message."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import FupinAction, button, entity_value, text_of, transaction, who
from fupin.complaints.wording import category_in
from fupin.logistics.records import ShipmentError, ShipmentInput, parse_shipment
from fupin.orders.lifecycle import OrderError, change_order, orders_for
from fupin.orders.shipping import Delivered, deliver
from fupin.values import Carrier, OrderStatus

logger = logging.getLogger(__name__)

_OPS = (
    ("cancel", re.compile(r"取消|不要了|撤销")),
    ("reject", re.compile(r"拒|不接|没货|接不了")),
    ("pay", re.compile(r"付款|付钱|收到钱|收款|货款|已付|钱收到")),
    ("deliver", re.compile(r"送达|送到|已送|送过去|交货|收货|发了|已发|寄出|寄了|发货|快递|邮政|单号|运单")),
    ("confirm", re.compile(r"确认|接单|接了|接这|可以|同意|接")),
)
_OP_LABELS = {"confirm": "已确认", "reject": "已拒绝", "deliver": "已送达", "pay": "已付款", "cancel": "已取消"}
# The buttons that start a delivery by post or express: the number follows in the contact's next message.
_SHIP_OPS = {"ship_post": Carrier.POST, "ship_express": Carrier.EXPRESS}


def operation_of(text: str) -> str | None:
    """What a message asks to do with an order (确认, 拒绝, 送达, 付款, 取消)."""
    for op, pattern in _OPS:
        if pattern.search(text):
            return op
    return None


def order_buttons(order_no: str, status: OrderStatus) -> list[dict[str, str]]:
    """The buttons a supply contact gets for an order in a given status."""
    choices = {
        OrderStatus.PENDING: [("确认接单", "confirm"), ("拒绝", "reject")],
        OrderStatus.CONFIRMED: [("自送已送达", "deliver"), ("邮政寄出", "ship_post"), ("快递寄出", "ship_express")],
        OrderStatus.DELIVERED: [("已收款", "pay")],
    }.get(status, [])
    return [button(f"{title} {order_no}", "manage_order", order_no=order_no, op=op) for title, op in choices]


class ActionCheckOrders(FupinAction):
    """List the user's orders (a contact: their places' orders, with buttons to act on them)."""

    def name(self) -> str:
        return "action_check_orders"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        with self.services.sessions() as session:
            identity = who(session, tracker)
            views = orders_for(session, identity)
        if not views:
            dispatcher.utter_message(text="您还没有订单。可以说“我要买30斤土豆”来下单。")
            return []
        lines = ["最近的订单："] + [f"· {v.line()}" for v in views]
        if identity.is_contact or identity.is_admin:
            buttons = [b for v in views[:3] for b in order_buttons(v.order_no, v.status)]
        else:
            lines += [f"  供货联系人：{v.contact_name} {v.contact_phone}" for v in views[:1]]
            buttons = [
                button(f"取消 {v.order_no}", "manage_order", order_no=v.order_no, op="cancel")
                for v in views
                if v.status is OrderStatus.PENDING
            ][:3]
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        return []


class ActionManageOrder(FupinAction):
    """Confirm, reject, deliver (with carrier and tracking number), mark paid or cancel an order."""

    def name(self) -> str:
        return "action_manage_order"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        order_no = entity_value(tracker, "order_no") or tracker.get_slot("order_no")
        op = entity_value(tracker, "op")
        if op in _SHIP_OPS:
            return self._ask_number(dispatcher, str(order_no or ""), _SHIP_OPS[op])
        typed = text_of(tracker) if op is None else ""
        op = op or operation_of(typed)
        # A message naming its order is whole in itself; a bare number answers the 邮政寄出 / 快递寄出 button.
        carrier = None if entity_value(tracker, "order_no") else tracker.get_slot("carrier")
        if op is None and carrier:
            op = "deliver"  # the number after the 邮政寄出 / 快递寄出 button
        if op is None and order_no and category_in(typed):
            return [FollowupAction("action_complain")]  # "XF…少了3斤": a complaint about the order
        if not order_no or op not in _OP_LABELS:
            dispatcher.utter_message(
                text="请说明订单号和要做的操作，比如“确认订单XF261129A1B2C3”或“XF261129A1B2C3已发邮政 9876543210123”。"
            )
            return []
        delivered: Delivered | None = None
        try:
            with transaction(self.services) as session:
                if op == "deliver":
                    delivered = deliver(session, order_no, who(session, tracker), _shipment(typed, carrier))
                    order = delivered.order
                else:
                    order = change_order(session, order_no, op, who(session, tracker))
                order_no, status = order.order_no, order.status
        except (OrderError, ShipmentError) as exc:
            dispatcher.utter_message(text=str(exc))
            return [SlotSet("order_no", None), SlotSet("carrier", None)]
        if delivered is not None and delivered.corrected:
            text = f"订单 {order_no} 的物流信息已更正为：{delivered.shipment.label()}，已告诉采购方。"
        elif delivered is not None:
            text = f"订单 {order_no} 已送达（{delivered.shipment.label()}），已计入销售记录（附件2/附件3）。"
        else:
            text = f"订单 {order_no} {_OP_LABELS[op]}。"
        dispatcher.utter_message(text=text, buttons=order_buttons(order_no, OrderStatus(status)))
        return [SlotSet("order_no", None), SlotSet("carrier", None)]

    @staticmethod
    def _ask_number(dispatcher: CollectingDispatcher, order_no: str, carrier: Carrier) -> list[dict[str, Any]]:
        said = "邮政" if carrier is Carrier.POST else "快递公司和"
        dispatcher.utter_message(
            text=f"好的，请发{said}单号（比如“{'9876543210123' if carrier is Carrier.POST else '顺丰 SF1234567890123'}”），"
            f"收到后订单 {order_no} 记为已送达。"
        )
        return [SlotSet("order_no", order_no), SlotSet("carrier", carrier.value)]


def _shipment(text: str, carrier: str | None) -> ShipmentInput:
    """How the order travels: what the message says, with the carrier of the button pressed before it."""
    said = parse_shipment(text)
    if carrier is None or (said.carrier is not Carrier.SELF and said.carrier.value == carrier):
        return said
    if said.carrier is Carrier.SELF:
        raise ShipmentError("没有看到单号，请只发单号，比如“9876543210123”。")
    # 快递寄出 then "顺丰 SF…": the message names the company; 邮政寄出 then a bare number: it is 邮政's.
    if carrier == Carrier.POST.value and not said.company:
        return ShipmentInput(Carrier.POST, said.tracking_no)
    return said
