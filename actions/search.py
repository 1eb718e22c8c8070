"""Looking up the catalogue: 哪里有土豆, 龙角镇有什么特产, 蜂蜜多少钱一斤, and 查看更多."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.choices import CHOICE_SLOT
from actions.common import FupinAction, Services, button, entity_value, text_of, who
from actions.leaving import forget_order, stopped_form
from actions.unknown import ASK_THE_COUNTY, say_unknown_product, unknown_product_in
from fupin.catalog.search import ListingView, SearchResult, UnknownProduct
from fupin.offers.wording import left_word
from fupin.outreach.users import Identity
from fupin.values import format_yuan

logger = logging.getLogger(__name__)

PAGE = 5


def listing_text(number: int, view: ListingView) -> str:
    """One search result as lines of a chat message."""
    variety = f"（{view.variety}）" if view.variety else ""
    household = f" {view.household}" if view.household else ""
    lines = [
        f"{number}. {view.place}{household} {view.product}{variety}"
        + (f"【{view.offer_tag}】" if view.offer_tag else ""),
        f"   {left_word(view.offer)}{view.remaining}，{format_yuan(view.price.fen)}元/{view.price.unit}"
        + "".join(view.marks)
        + (f"，{view.rating.label()}" if view.rating else ""),
        f"   供货方式：{'、'.join(view.supply_methods)}",
        f"   供货联系人：{view.contact_name} {view.contact_phone}",
    ]
    if view.shop_url:
        lines.append(f"   网店：{view.shop_url}")
    if not view.in_stock:
        lines[1] += "（暂时卖完了）"
    return "\n".join(lines)


def viewer(services: Services, tracker: Tracker) -> Identity:
    """Who is searching: the search shows household names only to those who may see them."""
    with services.sessions() as session:
        return who(session, tracker)


def show_results(
    services: Services,
    dispatcher: CollectingDispatcher,
    result: SearchResult,
    product: str | None,
    place: str | None,
    offset: int,
) -> list[dict[str, Any]]:
    """Say what was found (or why nothing was), with order and 查看更多 buttons; returns slot events."""
    product = product or (result.products[0].written if result.products else None)
    place = place or (result.places[0].label if result.places else None)
    if result.unknown_place:
        dispatcher.utter_message(text=f"云阳县没有找到叫“{place}”的乡镇或村，请换个说法，比如“龙角镇”“张家村”。")
        return []
    if result.unknown_product:
        return unknown_product_answer(services, dispatcher, product)
    notes = [f"（按“{m.product}”为您查找）" for m in result.products if m.how != "exact" and m.written != m.product]
    notes += [result.note] if result.note else []  # a paired unit's villages put first (fupin.pairing)
    if not result.listings:
        if result.alternatives:
            where = result.places[0].label if result.places else place
            lines = [f"{where}暂时没有{result.products[0].product}，这些地方有："]
            lines += [listing_text(i, v) for i, v in enumerate(result.alternatives, 1)]
            buttons = [
                button(f"订购{i}", "order_product", listing_id=v.listing_id)
                for i, v in enumerate(result.alternatives, 1)
                if v.in_stock
            ]
            dispatcher.utter_message(text="\n".join(notes + lines), buttons=buttons)
            return shown_events(0, result.alternatives)
        dispatcher.utter_message(text=nothing_listed(result, place))
        return []
    what = result.products[0].product if result.products else "产品"
    where = "、".join(p.label for p in result.places[:2]) if result.places else "全县"
    first, last = offset + 1, offset + len(result.listings)
    head = f"{where}的{what}共{result.total}条，这是第{first}-{last}条（有货和深度贫困村优先）："
    if not result.products:
        head = f"{where}共有{result.total}条农特产品，这是第{first}-{last}条："
    lines = notes + [head] + [listing_text(offset + i, v) for i, v in enumerate(result.listings, 1)]
    buttons = [
        button(f"订购{offset + i}", "order_product", listing_id=v.listing_id)
        for i, v in enumerate(result.listings, 1)
        if v.in_stock
    ]
    more = result.total > last
    if more:
        buttons.append(button("查看更多", "search_more"))
    dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
    return [
        SlotSet("search_page", {"product": product, "place": place, "offset": last} if more else None),
        *shown_events(offset, result.listings),
    ]


def nothing_listed(result: SearchResult, place: str | None) -> str:
    """A known product or place with no listing anywhere asked: the answer names what was asked."""
    what = result.products[0].product if result.products else None
    where = result.places[0].label if result.places else place
    if what and where:
        first = f"{where}暂时没有{what}的供货信息，其他乡镇也没有。"
    elif what:
        first = f"目录里暂时没有{what}的供货信息。"
    elif where:
        first = f"{where}暂时没有登记的农特产品，可以问问别的乡镇。"
    else:
        first = "没有找到符合条件的供货信息。"
    return "\n".join([first, ASK_THE_COUNTY] if what else [first])


def shown_event(offset: int, listings: list[ListingView]) -> dict[str, Any]:
    """Remember the numbers the results were shown with, so that a typed 订购2 orders the second."""
    return SlotSet("shown", {str(offset + i): v.listing_id for i, v in enumerate(listings, 1) if v.in_stock})


def shown_events(offset: int, listings: list[ListingView]) -> list[dict[str, Any]]:
    """The numbers shown, and that a typed pick now chooses among them (not among a stock message's listings)."""
    return [shown_event(offset, listings), SlotSet(CHOICE_SLOT, None)]


def unknown_product_answer(
    services: Services, dispatcher: CollectingDispatcher, product: str | None, text: str = ""
) -> list[dict[str, Any]]:
    """Name a product the catalogue lacks and offer what is close; the old search's results are forgotten."""
    unknown = unknown_product_in(services, product, text) or (UnknownProduct(product, [], []) if product else None)
    if unknown is None:
        return []
    say_unknown_product(services, dispatcher, unknown)
    return [SlotSet("shown", None), SlotSet("product", None)]


class ActionSearchProducts(FupinAction):
    """Find listings by the product and place the message names."""

    def name(self) -> str:
        return "action_search_products"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        # A new search leaves the order form (data/rules.yml): the order it held is dropped.
        dropped = forget_order() if stopped_form(tracker) else []
        return dropped + self._answer(dispatcher, tracker)

    def _answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        product = entity_value(tracker, "product")
        place = entity_value(tracker, "location")
        search = self.services.search
        if not product and (events := unknown_product_answer(self.services, dispatcher, None, text_of(tracker))):
            return events  # 龙角镇有火龙果吗: the place is known, the product is not
        if product or place:
            result = search.search(product=product, place=place, limit=PAGE, viewer=viewer(self.services, tracker))
        else:
            result = search.search_text(text_of(tracker), limit=PAGE, viewer=viewer(self.services, tracker))
            if not (result.products or result.places):
                dispatcher.utter_message(
                    text="想找什么产品？可以这样问：哪里有土豆、龙角镇有什么特产、蜂蜜多少钱一斤。"
                )
                return []
        return show_results(self.services, dispatcher, result, product, place, 0)


class ActionSearchMore(FupinAction):
    """Show the next page of the last search."""

    def name(self) -> str:
        return "action_search_more"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        page = tracker.get_slot("search_page")
        if not page:
            dispatcher.utter_message(text="没有更多了。可以换个产品或地方再问。")
            return []
        offset = int(page["offset"])
        result = self.services.search.search(
            product=page.get("product"),
            place=page.get("place"),
            limit=PAGE,
            offset=offset,
            viewer=viewer(self.services, tracker),
        )
        return show_results(self.services, dispatcher, result, page.get("product"), page.get("place"), offset)
