"""Confirmations: applying or declining what was read back (an order, stock, a sale, a vocabulary change), and cancel."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.choices import CHOICE_SLOT
from actions.common import FupinAction, entity_value, transaction, who
from actions.complaints import DRAFT_SLOT, apply_complaint
from actions.leaving import forget_order, stopped_form
from actions.offers import apply_harvest, apply_update, read_back_harvest, read_back_update
from actions.order_status import ActionManageOrder
from actions.orders import ActionOrderSummary
from actions.readback import Freshness, ReadBackKind, freshness
from actions.sales import read_back_sale
from actions.search import ActionSearchProducts
from actions.stock import read_back
from actions.vocabulary import apply_vocabulary, read_back_vocabulary
from fupin.catalog import stock
from fupin.catalog.vocabulary_requests import VocabularyRequest
from fupin.offers.moves import OfferError
from fupin.orders.lifecycle import LOGISTICS_RULE, DuplicateOrder, OrderError, place_order, refuse_if_placed
from fupin.parsing import parse_quantity, parse_supply_method
from fupin.reporting.sales import SaleDraft, SaleError, record_sale
from fupin.values import format_yuan

logger = logging.getLogger(__name__)


def _clear_order() -> list[dict[str, Any]]:
    return forget_order()


class ActionApplyPending(FupinAction):
    """Apply what the user just confirmed: place the order, change the stock, record the sale, change the names."""

    def name(self) -> str:
        return "action_apply_pending"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        pending = tracker.get_slot("pending") or {}
        try:
            kind = ReadBackKind(pending.get("kind"))
        except ValueError:
            # 确认 while the order form still asks: the form's question follows, so say why nothing happened.
            in_form = (tracker.active_loop or {}).get("name") == "order_form"
            dispatcher.utter_message(response="utter_order_not_complete" if in_form else "utter_nothing_pending")
            return []
        key = str(pending.get("key") or "")
        if kind is ReadBackKind.ORDER and key:
            # Before the age: an order placed by this read-back is the answer, however late it is asked.
            try:
                with self.services.sessions() as session:
                    refuse_if_placed(session, key)
            except DuplicateOrder as exc:
                dispatcher.utter_message(text=str(exc))
                return _clear_order()
        state = freshness(pending, tracker, self.services.orders.readback_ttl)
        if state is Freshness.OLD_SESSION:
            dispatcher.utter_message(response="utter_nothing_pending")
            return _clear_order() if kind is ReadBackKind.ORDER else [SlotSet("pending", None)]
        if state is Freshness.EXPIRED:
            minutes = self.services.orders.readback_minutes
            dispatcher.utter_message(text=f"确认已过期（超过{minutes}分钟），请重新确认：")
            return self._read_again(kind, dispatcher, tracker, domain, pending)
        if kind is ReadBackKind.ORDER:
            return self._order(dispatcher, tracker, key)
        if kind is ReadBackKind.STOCK:
            return self._stock(dispatcher, tracker, pending)
        if kind is ReadBackKind.VOCABULARY:
            return apply_vocabulary(self.services, dispatcher, tracker, pending)
        if kind is ReadBackKind.COMPLAINT:
            return apply_complaint(self.services, dispatcher, tracker, pending)
        if kind is ReadBackKind.HARVEST:
            return apply_harvest(self.services, dispatcher, tracker, pending)
        if kind is ReadBackKind.ADOPTION:
            return apply_update(self.services, dispatcher, tracker, pending)
        return self._sale(dispatcher, tracker, pending)

    def _read_again(
        self,
        kind: ReadBackKind,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        pending: dict[str, Any],
    ) -> list[dict[str, Any]]:
        # A fresh read-back with a new key and time, from what is in the database now.
        if kind is ReadBackKind.ORDER:
            return ActionOrderSummary(self.services).act(dispatcher, tracker, domain)
        if kind is ReadBackKind.STOCK:
            try:
                return read_back(self.services, dispatcher, tracker, stock.StockChange.from_slot(pending["change"]))
            except stock.StockError as exc:
                dispatcher.utter_message(text=str(exc))
                return [SlotSet("pending", None)]
        if kind is ReadBackKind.VOCABULARY:
            request = VocabularyRequest.from_slot(pending["request"])
            return read_back_vocabulary(self.services, dispatcher, tracker, request)
        if kind is ReadBackKind.COMPLAINT:
            # The complaint is gathered again (the order may have changed): from the draft it was.
            return [SlotSet(DRAFT_SLOT, pending.get("complaint")), FollowupAction("action_complain")]
        if kind in (ReadBackKind.HARVEST, ReadBackKind.ADOPTION):
            try:
                if kind is ReadBackKind.HARVEST:
                    real = parse_quantity(str(pending.get("quantity") or ""))
                    assert real is not None
                    return read_back_harvest(self.services, dispatcher, tracker, int(pending["listing_id"]), real)
                words, photo = str(pending.get("words") or ""), str(pending.get("photo") or "")
                return read_back_update(self.services, dispatcher, tracker, int(pending["listing_id"]), words, photo)
            except OfferError as exc:
                dispatcher.utter_message(text=str(exc))
                return [SlotSet("pending", None)]
        return read_back_sale(dispatcher, tracker, _draft(pending))

    def _order(self, dispatcher: CollectingDispatcher, tracker: Tracker, key: str) -> list[dict[str, Any]]:
        quantity = parse_quantity(str(tracker.get_slot("quantity") or ""))
        method = parse_supply_method(str(tracker.get_slot("supply_method") or ""))
        try:
            if quantity is None or method is None:
                raise OrderError("订单信息不完整，请重新下单。")
            with transaction(self.services) as session:
                order, offer = place_order(
                    session,
                    sender_id=tracker.sender_id,
                    listing_id=int(tracker.get_slot("listing_id")),
                    quantity=quantity,
                    buyer_name=str(tracker.get_slot("org")),
                    phone=str(tracker.get_slot("phone")),
                    supply_method=method,
                    request_key=key or None,
                    rules=self.services.orders,
                )
                order_no = order.order_no
        except DuplicateOrder as exc:
            dispatcher.utter_message(text=str(exc))
            return _clear_order()
        except OrderError as exc:
            dispatcher.utter_message(text=f"{exc} 订单没有提交，请调整后重新下单。")
            return _clear_order()
        dispatcher.utter_message(
            text="\n".join(
                [
                    f"下单成功！订单号：{order_no}",
                    f"{offer.product}{offer.quantity}，金额{format_yuan(offer.amount_fen)}元，{offer.supply_label}。",
                    f"供货联系人：{offer.contact_name} {offer.contact_phone}（{offer.place}），会尽快和您联系。",
                    LOGISTICS_RULE,
                    "说“我的订单”可以随时查看状态。",
                ]
            )
        )
        return _clear_order()

    def _stock(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, pending: dict[str, Any]
    ) -> list[dict[str, Any]]:
        change = stock.StockChange.from_slot(pending["change"])
        try:
            with transaction(self.services) as session:
                text = stock.done(session, change, stock.apply(session, who(session, tracker), change))
        except stock.StockError as exc:
            dispatcher.utter_message(text=str(exc))
            return [SlotSet("pending", None)]
        self.services.search.names.refresh()
        dispatcher.utter_message(text=f"已更新：{text}")
        return [SlotSet("pending", None), SlotSet(CHOICE_SLOT, None)]

    def _sale(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, pending: dict[str, Any]
    ) -> list[dict[str, Any]]:
        draft = _draft(pending)
        try:
            with transaction(self.services) as session:
                record_sale(session, who(session, tracker), draft, self.services.report_grace_days)
        except SaleError as exc:
            dispatcher.utter_message(text=str(exc))
            return [SlotSet("pending", None)]
        dispatcher.utter_message(text=f"已登记销售：{draft.describe()}。")
        return [SlotSet("pending", None)]


def _draft(pending: dict[str, Any]) -> SaleDraft:
    data = pending["draft"]
    quantity = parse_quantity(data["quantity"])
    assert quantity is not None
    return SaleDraft(
        buyer_name=data["buyer_name"],
        product=data["product"],
        quantity=quantity,
        amount_fen=int(data["amount_fen"]),
        sold_on=date.fromisoformat(data["sold_on"]),
        listing_id=data.get("listing_id"),
    )


class ActionDenyPending(FupinAction):
    """The user said no to a read-back: an order can be changed, a stock change or sale is dropped."""

    def name(self) -> str:
        return "action_deny_pending"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        pending = tracker.get_slot("pending") or {}
        if pending.get("kind") == "order":
            dispatcher.utter_message(response="utter_ask_change")
            return []
        if pending:
            dispatcher.utter_message(text="好的，没有修改。")
            return [SlotSet("pending", None), SlotSet(CHOICE_SLOT, None)]
        dispatcher.utter_message(text="好的。还需要什么可以随时说。")
        return []


class ActionHandleInform(FupinAction):
    """A bare value outside a form: it changes the order being confirmed, or gets a hint."""

    def name(self) -> str:
        return "action_handle_inform"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        pending = tracker.get_slot("pending") or {}
        if pending.get("kind") == "order":
            # The slot mappings already took the new value: read the order back again.
            return ActionOrderSummary(self.services).act(dispatcher, tracker, domain)
        if entity_value(tracker, "product") or entity_value(tracker, "location"):
            return ActionSearchProducts(self.services).act(dispatcher, tracker, domain)
        if entity_value(tracker, "quantity") and tracker.get_slot("product"):
            # "来三百斤" right after a search orders from what the search found.
            return [FollowupAction("order_form")]
        dispatcher.utter_message(text="收到。如果要下单，请说“我要买30斤土豆”；要查产品，请说“哪里有土豆”。")
        return []


class ActionCancel(FupinAction):
    """Drop whatever is in progress: the order form, an order to confirm, a stock change or a sale."""

    def name(self) -> str:
        return "action_cancel"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        if entity_value(tracker, "order_no"):
            return ActionManageOrder(self.services).act(dispatcher, tracker, domain)  # 取消订单XF…
        busy = (
            stopped_form(tracker)
            or bool(tracker.get_slot("pending"))
            or any(tracker.get_slot(s) for s in ("listing_id", "quantity", DRAFT_SLOT))
        )
        dispatcher.utter_message(response="utter_cancelled" if busy else "utter_nothing_to_cancel")
        return [*_clear_order(), SlotSet(DRAFT_SLOT, None)]
