"""Stock and price updates by message from supply contacts: 土豆还剩两百斤, 蜂蜜卖完了, 新到300斤柑橘，三块五一斤."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.choices import CHOICE_SLOT, ChoiceFor
from actions.common import FupinAction, Services, button, entity, entity_value, text_of, who
from actions.orders import ActionOrderSummary, ordinal_of
from actions.readback import ReadBackKind, read_back_slot
from fupin.catalog import stock
from fupin.parsing import parse_quantity
from fupin.values import Price

logger = logging.getLogger(__name__)

# At most this many listings are offered as buttons when a stock message fits several.
MAX_CHOICES = 8


def price_of(found: dict[str, Any] | None) -> Price | None:
    """A unit price from a price entity's machine value (None for a sum without unit)."""
    info = (found or {}).get("additional_info") or {}
    if info.get("unit") is None or info.get("fen") is None:
        return None
    return Price(int(info["fen"]), str(info["unit"]))


def read_back(
    services: Services, dispatcher: CollectingDispatcher, tracker: Tracker, change: stock.StockChange
) -> list[dict[str, Any]]:
    """Say what will change and ask for confirmation; keeps the change pending."""
    with services.sessions() as session:
        text = stock.describe(session, change)
    buttons = [button("确认修改", "affirm"), button("不改了", "deny")]
    dispatcher.utter_message(text=f"将要修改：{text}\n确认吗？", buttons=buttons)
    return [SlotSet("pending", read_back_slot(ReadBackKind.STOCK, tracker, change=change.to_slot()))]


class ActionStockUpdate(FupinAction):
    """Understand a contact's stock message, check their rights, and read the change back."""

    def name(self) -> str:
        return "action_stock_update"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        if (tracker.get_slot("pending") or {}).get("kind") == "order":
            # "改成100斤" while an order waits for confirmation changes the order, not the stock.
            return ActionOrderSummary(self.services).act(dispatcher, tracker, domain)
        product = entity_value(tracker, "product")
        quantity_value = entity_value(tracker, "quantity")
        quantity = parse_quantity(quantity_value) if quantity_value else None
        price = price_of(entity(tracker, "price"))
        kind = stock.classify(text_of(tracker), quantity, price)
        if not product or kind is None:
            dispatcher.utter_message(
                text="请说清楚产品和数量或价格，比如“土豆还剩两百斤”“蜂蜜卖完了”“把脐橙的价格改成4元/斤”。"
            )
            return []
        try:
            with self.services.sessions() as session:
                identity = who(session, tracker)
                found = stock.candidates(
                    session, identity, product, entity_value(tracker, "location"), names=self.services.search.names
                )
                if len(found) == 1:
                    change = stock.plan(session, found[0].listing_id, kind, quantity, price)
        except stock.StockError as exc:
            dispatcher.utter_message(text=str(exc))
            return [SlotSet("pending", None), SlotSet(CHOICE_SLOT, None)]
        if len(found) > 1:
            offered = found[:MAX_CHOICES]
            # Numbered, so that a typed 第二个 picks the second as a press of its button does.
            buttons = [
                button(f"{number}. {c.label}", "choose_listing", listing_id=c.listing_id)
                for number, c in enumerate(offered, 1)
            ]
            dispatcher.utter_message(text=f"您负责的{product}有{len(found)}条，要改哪一条？", buttons=buttons)
            pending = {"kind": "stock_choice", "stock_kind": kind.value, "quantity": str(quantity) if quantity else None,
                       "price_fen": price.fen if price else None, "price_unit": price.unit if price else None,
                       "choices": [c.listing_id for c in offered]}  # fmt: skip
            return [SlotSet("pending", pending), SlotSet(CHOICE_SLOT, ChoiceFor.STOCK.value)]
        return [SlotSet(CHOICE_SLOT, None), *read_back(self.services, dispatcher, tracker, change)]


def picked_listing(tracker: Tracker, choices: list[int]) -> str | None:
    """The listing a pick names: a button's listing_id, or a typed 第二个 / 2号 / 最后一个 among the choices."""
    listing_id = entity_value(tracker, "listing_id")
    if listing_id:
        return listing_id
    number = ordinal_of(text_of(tracker), len(choices))
    return str(choices[number - 1]) if number is not None and number <= len(choices) else None


class ActionChooseListing(FupinAction):
    """A pick the order form does not take: which listing a stock change is for, or a pick with nothing to pick from.

    It leaves `choice_for` as it is: the rule that ran it holds while the slot does (data/rules.yml).
    """

    def name(self) -> str:
        return "action_choose_listing"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        pending = tracker.get_slot("pending") or {}
        if (tracker.active_loop or {}).get("name") == "order_form":
            # A pick at an order question that is not "which one"; the rule goes back to the question.
            dispatcher.utter_message(response="utter_pick_not_now")
            return []
        if pending.get("kind") != "stock_choice":
            dispatcher.utter_message(response="utter_nothing_to_choose")
            return []
        choices = [int(c) for c in pending.get("choices") or []]
        listing_id = picked_listing(tracker, choices)
        if listing_id is None:
            dispatcher.utter_message(text=f"请从上面{len(choices)}条里选一条：点按钮，或者说“第一个”“第二个”。")
            return []
        quantity = parse_quantity(pending["quantity"]) if pending.get("quantity") else None
        price = Price(int(pending["price_fen"]), str(pending["price_unit"])) if pending.get("price_fen") else None
        try:
            with self.services.sessions() as session:
                identity = who(session, tracker)
                stock.check_rights(session, identity, int(listing_id))
                change = stock.plan(session, int(listing_id), stock.StockKind(pending["stock_kind"]), quantity, price)
        except stock.StockError as exc:
            dispatcher.utter_message(text=str(exc))
            return [SlotSet("pending", None)]
        return read_back(self.services, dispatcher, tracker, change)
