"""Phone-style orders: the order form, its questions, the read-back, and order status."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.asking import ask
from actions.common import (
    FupinAction,
    Services,
    UsesServices,
    button,
    entity_value,
    in_worker_thread,
    intent_of,
    text_of,
    who,
)
from actions.readback import ReadBackKind, read_back_slot
from actions.unknown import say_unknown_product, unknown_product_in
from fupin.catalog.search import ListingView
from fupin.mentions import fold_width
from fupin.models import Listing, utcnow
from fupin.offers.wording import available_phrase, offer_line
from fupin.orders.buyers import clean_unit_name
from fupin.orders.lifecycle import LOGISTICS_RULE, OrderError, Quote, quote
from fupin.orders.overdue import unit_hold
from fupin.parsing import parse_number, parse_phone, parse_quantity, parse_supply_method
from fupin.values import (
    Price,
    Quantity,
    SupplyMethod,
    format_yuan,
    quantity_problem,
    supply_method_labels,
    under_one_fen,
)

logger = logging.getLogger(__name__)

# Intents that leave the order form (rules in data/rules.yml answer them); deny only when no yes/no was asked.
LEAVING_INTENTS = ("cancel", "search_product", "deny")
# Intents a typed pick of a listed result may come with: choose_listing (第二个, 订购2) or, inside a
# sentence that also orders, order_product.
PICK_INTENTS = ("choose_listing", "order_product")
# A typed pick: 订购2, 第二个, 就要第三个, 1号, 我要订第二家的, 麻烦帮我选第一个, 第一个就行.
_PICK_HEAD = r"(?:(?:要得|好的?|行|嗯)\s?)?(?:麻烦|请)?(?:帮我|帮我们|给我)?(?:那|那就|就|我|我们|我就)?(?:要|选|订购|订|买|拿){0,2}(?:上面|上边|列表里)?(?:的)?"
_PICK_TAIL = r"(?:那个|那家|那条)?(?:的)?(?:就行|就好|就可以|好了)?(?:吧|嘛|哈|啊|呀)?"
_ORDINAL = re.compile(_PICK_HEAD + r"(?:第)?\s?(\d{1,2}|[一二三四五六七八九十两]{1,3})\s?(?:个|家|条|号)?" + _PICK_TAIL)
_LAST = re.compile(_PICK_HEAD + r"最后(?:一|那)?(?:个|家|条)?" + _PICK_TAIL)
# Spaces are stripped from each clause, not matched around the marks: "\s*[marks]+\s*" searched over a run of
# spaces is quadratic (tests/test_bounded_input.py).
_CLAUSES = re.compile(r"[，,。;；!！]+")


def ordinal_of(text: str, count: int | None = None) -> int | None:
    """The number of a choice in a typed pick (订购1, 第二个, 就要第三个, 1号, 第３家), else None.

    最后一个 is the last of `count` choices, when the count is known. A pick may come with more
    (第二个，30斤): the first clause that is a pick counts.
    """
    for part in _CLAUSES.split(fold_width(text)):
        clause = part.strip()
        if count and _LAST.fullmatch(clause):
            return count
        match = _ORDINAL.fullmatch(clause)
        number = parse_number(match[1]) if match else None
        if number is not None and 0 < number == int(number):
            return int(number)
    return None


def order_place(tracker: Tracker) -> str | None:
    """The place an order is constrained to: the message's own place, else the search's when no product is named.

    A new request that names its own product is not held to a place an earlier search left behind.
    """
    if entity_value(tracker, "product"):
        return entity_value(tracker, "location")
    return entity_value(tracker, "location") or tracker.get_slot("location")


def listing_choices(services: Services, product: str | None, place: str | None) -> list[ListingView]:
    """The listings in stock the order form offers for a product (the place's, else anywhere's)."""
    choices = [v for v in services.search.search(product=product, place=place, limit=6).listings if v.in_stock]
    if not choices and place:
        choices = [v for v in services.search.search(product=product, limit=6).listings if v.in_stock]
    return choices


def _listing(session: Session, listing_id: object) -> Listing | None:
    try:
        listing = session.get(Listing, int(str(listing_id)))
    except (TypeError, ValueError):
        return None
    return listing if listing is not None and listing.active else None


def _chosen(listing: Listing, tracker: Tracker) -> dict[str, Any]:
    """The slots a chosen listing fills: itself, its product, and its supply method when it has only one."""
    events: dict[str, Any] = {"listing_id": str(listing.id), "product": listing.product.name}
    methods = supply_method_labels(listing.supply_methods)
    if len(methods) == 1 and not tracker.get_slot("supply_method"):
        events["supply_method"] = methods[0]  # nothing to choose; the read-back shows it
    return events


class ValidateOrderForm(UsesServices, FormValidationAction):
    """Checks each value of the order form against the catalogue as it arrives.

    The validators that read the database run in a worker thread: the form runs on the bot's event loop.
    """

    def name(self) -> str:
        return "validate_order_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        """Validate as usual, but let cancel, a new search and a "no" leave the form (the rules answer them)."""
        intent = intent_of(tracker)
        offered_back = tracker.get_slot("requested_slot") == "org" and tracker.get_slot("known_buyer")
        if intent == "deny" and offered_back:
            # 不是 to "还是县人民医院食堂、…吗？": ask for the unit afresh.
            return [SlotSet("known_buyer", None)]
        if intent in LEAVING_INTENTS:
            return [ActionExecutionRejected(self.form_name())]
        return list(await super().run(dispatcher, tracker, domain))

    @in_worker_thread
    def extract_product(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        """A product the catalogue lacks, named in a bare answer or an order (我要买火龙果), is answered by name."""
        asked = tracker.get_slot("requested_slot") == "product" or intent_of(tracker) == "order_product"
        if not asked or entity_value(tracker, "product") or tracker.get_slot("listing_id"):
            return {}
        if intent_of(tracker) not in ("order_product", "inform", "out_of_scope", "nlu_fallback"):
            return {}
        unknown = unknown_product_in(self.services, None, text_of(tracker))
        if unknown is None:
            return {}
        say_unknown_product(self.services, dispatcher, unknown)
        return {"product": None}

    @in_worker_thread
    def extract_listing_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A typed pick: 第二个 or 龙角镇的 among the offered listings, or 订购1 of the search just shown."""
        if entity_value(tracker, "listing_id"):
            return {}
        text = text_of(tracker)
        if tracker.get_slot("requested_slot") == "listing_id":
            # The same whatever the intent (choose_listing for 第二个, inform for 龙角镇的): it answers the question.
            choices = listing_choices(self.services, tracker.get_slot("product"), order_place(tracker))
            number = ordinal_of(text, len(choices))
            place = entity_value(tracker, "location")
            if number is not None and number <= len(choices):
                return {"listing_id": str(choices[number - 1].listing_id)}
            at_place = [v for v in choices if place and v.place.startswith(place)]
            if len(at_place) == 1:
                return {"listing_id": str(at_place[0].listing_id)}
            return {}
        if intent_of(tracker) not in PICK_INTENTS or tracker.get_slot("requested_slot"):
            return {}
        # The order starts with a pick of the search just shown (订购2, 就要第三个, 最后那个).
        shown = tracker.get_slot("shown") or {}
        number = ordinal_of(text, max((int(n) for n in shown), default=None))
        if number is not None and str(number) in shown:
            return {"listing_id": str(shown[str(number)])}
        if number is not None and intent_of(tracker) == "choose_listing":
            dispatcher.utter_message(text=f"刚才的结果里没有第{number}个。" if shown else "还没有列出可以选的结果。")
            return {}
        product = tracker.get_slot("product")
        if number is None and product and not entity_value(tracker, "product"):
            # 我要买30斤 right after a search with a single listing in stock: that one.
            choices = listing_choices(self.services, product, order_place(tracker))
            if len(choices) == 1:
                return {"listing_id": str(choices[0].listing_id)}
        return {}

    def extract_quantity(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A bare number (30, 三十) answering "要订多少斤？" is in the listing's unit (validate_quantity adds it)."""
        if tracker.get_slot("requested_slot") != "quantity" or entity_value(tracker, "quantity"):
            return {}
        text = fold_width(text_of(tracker)).strip()
        return {"quantity": text} if parse_number(text) is not None else {}

    def extract_org(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        """是 to "还是县人民医院食堂、13912345678吗？" takes the remembered unit and phone."""
        remembered = tracker.get_slot("known_buyer")
        if tracker.get_slot("requested_slot") == "org" and remembered and intent_of(tracker) == "affirm":
            return {"org": remembered["org"], "phone": remembered["phone"]}
        return {}

    @in_worker_thread
    def validate_product(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A product the catalogue has in stock; picks the listing at once when there is only one.

        When the place asked for has none but another has, it says so and offers the others.
        """
        if value is None:
            return {"product": None}  # cleared by extract_product, which has already answered
        place = order_place(tracker)
        search = self.services.search.search(product=str(value), place=place, limit=5)
        if search.unknown_product:
            unknown = unknown_product_in(self.services, str(value))
            if unknown is not None:
                say_unknown_product(self.services, dispatcher, unknown)
            else:
                dispatcher.utter_message(text=f"目录里暂时没有{value}，请换一种产品。")
            return {"product": None}
        product = search.products[0].product
        in_stock = [v for v in search.listings if v.in_stock]
        events: dict[str, Any] = {"product": product, "location": place}
        if not in_stock and place:
            elsewhere = listing_choices(self.services, product, None)
            if elsewhere:
                where = search.places[0].label if search.places else place
                others = "、".join(dict.fromkeys(v.township for v in elsewhere))
                dispatcher.utter_message(text=f"{where}暂时没有{product}的货，{others}有：")
                in_stock, events["location"] = elsewhere, None
        if not in_stock:
            dispatcher.utter_message(text=f"{product}暂时都卖完了，可以换一种产品。")
            return {"product": None, "listing_id": None}
        current = tracker.get_slot("listing_id")
        with self.services.sessions() as session:
            listing = _listing(session, current) if current else None
            if listing is not None and listing.product.name != product:
                events["listing_id"] = None  # the buyer switched product: choose again
        if len(in_stock) == 1 and (search.total == 1 or (events["location"] is None and place)):
            with self.services.sessions() as session:
                chosen = _listing(session, in_stock[0].listing_id)
                if chosen is not None:
                    events.update(_chosen(chosen, tracker))
        return events

    @in_worker_thread
    def validate_listing_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A listing that exists and still has stock; its product becomes the order's product."""
        with self.services.sessions() as session:
            listing = _listing(session, value)
            if listing is None:
                dispatcher.utter_message(text="这条供货信息已经不在了，请重新选择。")
                return {"listing_id": None}
            if listing.remaining_quantity <= 0:
                dispatcher.utter_message(text=f"{listing.place_label}的{listing.product.name}已经卖完了，请选别家。")
                return {"listing_id": None}
            return _chosen(listing, tracker)

    @in_worker_thread
    def validate_quantity(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A positive quantity in the listing's unit and within its stock."""
        with self.services.sessions() as session:
            listing = _listing(session, tracker.get_slot("listing_id"))
            unit = listing.unit if listing else "斤"
            quantity = parse_quantity(str(value), unit)
            if quantity is None or quantity.value <= 0:
                dispatcher.utter_message(text=f"数量没看明白，请说比如“30{unit}”。")
                return {"quantity": None}
            if problem := quantity_problem(quantity.value):
                dispatcher.utter_message(text=f"{problem}，请重新说一下要订多少{unit}。")
                return {"quantity": None}
            if listing is not None:
                if quantity.unit != listing.unit:
                    dispatcher.utter_message(
                        text=f"{listing.product.name}按“{listing.unit}”卖，请用{listing.unit}说数量。"
                    )
                    return {"quantity": None}
                if quantity.value > listing.remaining_quantity:
                    left = Quantity(listing.remaining_quantity, listing.unit)
                    dispatcher.utter_message(
                        text=f"{listing.place_label}的{listing.product.name}只剩{left}，请少订一些。"
                    )
                    return {"quantity": None}
                if under_one_fen(quantity, Price(listing.price_fen, listing.unit)):
                    dispatcher.utter_message(text=f"数量太少了，金额不到1分钱。请重新说一下要订多少{unit}。")
                    return {"quantity": None}
            return {"quantity": str(quantity)}

    @in_worker_thread
    def validate_org(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A buying unit's name (matched to a known buyer or registered when the order is placed).

        A unit (or buyer) with an order long delivered and unpaid hears so now, not after the read-back.
        """
        name = clean_unit_name(str(value))
        if len(name) < 2 or len(name) > 60:
            dispatcher.utter_message(text="请告诉我采购单位的全称，比如“县人民医院食堂”；个人购买请说“个人”。")
            return {"org": None}
        with self.services.sessions() as session:
            held = unit_hold(
                session, name, who(session, tracker).user_id, utcnow(), self.services.orders.payment_hold_days
            )
        if held is not None:
            # The order may still go ahead for another unit without debts; the form asks for the unit again.
            dispatcher.utter_message(text=f"{held}\n替别的单位采购的话，稍后请告诉我那个单位的名称；不订了请说“取消”。")
            return {"org": None}
        return {"org": name}

    def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A mainland mobile or landline number."""
        phone = parse_phone(str(value))
        if phone is None:
            dispatcher.utter_message(text="电话号码好像不对，请输入11位手机号或带区号的座机号（如023-55123456）。")
            return {"phone": None}
        return {"phone": phone}

    @in_worker_thread
    def validate_supply_method(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A supply method the chosen listing offers."""
        method = parse_supply_method(str(value))
        if method is None:
            dispatcher.utter_message(text="供货方式可以选：电商、送货上门、上门自提。")
            return {"supply_method": None}
        with self.services.sessions() as session:
            listing = _listing(session, tracker.get_slot("listing_id"))
            if listing is not None and method not in SupplyMethod(listing.supply_methods):
                offered = "、".join(supply_method_labels(listing.supply_methods))
                dispatcher.utter_message(text=f"这家只支持：{offered}。")
                return {"supply_method": None}
        return {"supply_method": supply_method_labels(method)[0]}


class ActionAskListingId(FupinAction):
    """Ask which listing to order from, one button per place that has the product in stock."""

    def name(self) -> str:
        return "action_ask_listing_id"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        product = tracker.get_slot("product")
        _rephrased, events = ask(dispatcher, tracker, "listing_id")
        choices = listing_choices(self.services, product, tracker.get_slot("location"))
        lines = [f"有{len(choices)}家有{product}，请选一家："]
        buttons = []
        for number, view in enumerate(choices, 1):
            lines.append(
                f"{number}. {view.place} 剩{view.remaining}，{format_yuan(view.price.fen)}元/{view.price.unit}，{'、'.join(view.supply_methods)}"
            )
            buttons.append(
                button(f"{number}. {view.place} {format_yuan(view.price.fen)}元", "inform", listing_id=view.listing_id)
            )
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        return events


class ActionAskQuantity(FupinAction):
    """Ask how much, naming the unit, the stock left and the price."""

    def name(self) -> str:
        return "action_ask_quantity"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        rephrased, events = ask(dispatcher, tracker, "quantity")
        if rephrased:
            return events
        with self.services.sessions() as session:
            listing = _listing(session, tracker.get_slot("listing_id"))
            if listing is None:
                dispatcher.utter_message(text="要订多少？比如“30斤”。")
                return events
            left = Quantity(listing.remaining_quantity, listing.unit)
            available = available_phrase(listing.offer, listing.expected_month, listing.terms, left)
            dispatcher.utter_message(
                text=f"{listing.place_label}的{listing.product.name}{available}，{format_yuan(listing.price_fen)}元/{listing.unit}。要订多少{listing.unit}？"
            )
        return events


class ActionAskSupplyMethod(FupinAction):
    """Ask how the goods should come, offering only the listing's methods."""

    def name(self) -> str:
        return "action_ask_supply_method"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        _rephrased, events = ask(dispatcher, tracker, "supply_method")
        with self.services.sessions() as session:
            listing = _listing(session, tracker.get_slot("listing_id"))
            labels = supply_method_labels(listing.supply_methods) if listing else ["电商", "送货上门", "上门自提"]
        buttons = [button(label, "inform", supply_method=label) for label in labels]
        dispatcher.utter_message(text="请选择供货方式：", buttons=buttons)
        return events


def current_quote(services: Services, tracker: Tracker) -> Quote:
    """Price the order the slots describe; raises OrderError."""
    quantity = parse_quantity(str(tracker.get_slot("quantity") or ""))
    method = parse_supply_method(str(tracker.get_slot("supply_method") or ""))
    if not tracker.get_slot("listing_id"):
        raise OrderError("还没有选定哪一家。", "listing_id")
    if quantity is None:
        raise OrderError("还没有说数量。", "quantity")
    if method is None:
        raise OrderError("还没有选供货方式。", "supply_method")
    with services.sessions() as session:
        return quote(session, int(tracker.get_slot("listing_id")), quantity, method)


def summary_text(offer: Quote, org: str, phone: str) -> str:
    """The order read back before confirmation (a pre-order or adoption says so, with its month or terms)."""
    kind = offer_line(offer.product, offer.offer, offer.expected_month, offer.terms)
    return "\n".join(
        [
            "请核对订单：",
            f"产品：{offer.product}（{offer.place}）",
            *([kind] if kind else []),
            f"数量：{offer.quantity} × {format_yuan(offer.price.fen)}元/{offer.price.unit} = {format_yuan(offer.amount_fen)}元",
            f"采购单位：{org}",
            f"联系电话：{phone}",
            f"供货方式：{offer.supply_label}",
            LOGISTICS_RULE,
            "确认下单吗？",
        ]
    )


class ActionOrderSummary(FupinAction):
    """Read the order back with its amount and ask for confirmation."""

    def name(self) -> str:
        return "action_order_summary"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        try:
            offer = current_quote(self.services, tracker)
        except OrderError as exc:
            # Ask again for the part at fault, through the form.
            dispatcher.utter_message(text=str(exc))
            return [SlotSet("pending", None), SlotSet(exc.field or "listing_id", None), FollowupAction("order_form")]
        text = summary_text(offer, str(tracker.get_slot("org")), str(tracker.get_slot("phone")))
        buttons = [button("确认下单", "affirm"), button("修改", "deny"), button("不订了", "cancel")]
        dispatcher.utter_message(text=text, buttons=buttons)
        return [SlotSet("pending", read_back_slot(ReadBackKind.ORDER, tracker))]
