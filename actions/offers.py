"""Pre-orders and adoptions by message from supply contacts: 脐橙12月上市，预计5000斤 (applied at once),
脐橙实际收获4200斤 and 给认养户发：猪已经长到150斤了 (read back first: each reaches many buyers)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import FupinAction, Services, button, entity_value, text_of, transaction, who
from actions.readback import ReadBackKind, read_back_slot
from fupin.offers.adoption import adopters, label, pick_adoption, send_update, update_words
from fupin.offers.expected import announce_expected, managed_listings, parse_expected, parse_real_harvest
from fupin.offers.harvest import confirm_harvest, harvest_listing, preview
from fupin.offers.moves import OfferError
from fupin.outreach.users import Identity
from fupin.parsing import parse_quantity
from fupin.values import OfferKind, Quantity

logger = logging.getLogger(__name__)

CONTACT_ONLY = "utter_offers_contact_only"


def _may(identity: Identity) -> bool:
    return identity.is_contact or identity.is_admin


class ActionExpectedHarvest(FupinAction):
    """A contact announces (or changes) an expected harvest: the listing becomes a 预售 buyers can pre-order."""

    def name(self) -> str:
        return "action_expected_harvest"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        harvest = parse_expected(text_of(tracker), entity_value(tracker, "product"))
        try:
            with transaction(self.services) as session:
                identity = who(session, tracker)
                if not _may(identity):
                    dispatcher.utter_message(response=CONTACT_ONLY)
                    return []
                done = announce_expected(session, identity, harvest)
        except OfferError as exc:
            dispatcher.utter_message(text=f"{exc}\n比如：“脐橙12月上市，预计5000斤，预订价3元一斤”。")
            return []
        self.services.search.names.refresh()  # a product new to the catalogue is searchable at once
        dispatcher.utter_message(text=done.text)
        return []


def read_back_harvest(
    services: Services, dispatcher: CollectingDispatcher, tracker: Tracker, listing_id: int, real: Quantity
) -> list[dict[str, Any]]:
    """Say what the harvest will do to the pre-orders and ask for confirmation; keeps it pending."""
    with services.sessions() as session:
        said = preview(session, listing_id, real)
    dispatcher.utter_message(
        text=f"将要确认收获：{said}。\n确认后会通知每个预订的采购方，确认吗？",
        buttons=[button("确认收获", "affirm"), button("不对", "deny")],
    )
    pending = read_back_slot(ReadBackKind.HARVEST, tracker, listing_id=listing_id, quantity=str(real))
    return [SlotSet("pending", pending)]


class ActionConfirmHarvest(FupinAction):
    """A contact says what the harvest really was (脐橙收了4200斤): read back how the pre-orders will be filled."""

    def name(self) -> str:
        return "action_confirm_harvest"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        product, real = parse_real_harvest(text_of(tracker), entity_value(tracker, "product"))
        quantity = entity_value(tracker, "quantity")
        real = parse_quantity(quantity) if quantity else real
        try:
            with self.services.sessions() as session:
                identity = who(session, tracker)
                if not _may(identity):
                    dispatcher.utter_message(response=CONTACT_ONLY)
                    return []
                if not product or real is None:
                    raise OfferError("请说清楚产品和实际收获的数量，比如“脐橙实际收获4200斤”。")
                name, found = managed_listings(session, identity, product, OfferKind.PRE_ORDER)
                found = [harvest_listing(session, identity, li.id) for li in found]
                if not found:
                    raise OfferError(f"您负责的范围里没有预售的{name}。")
                if len(found) > 1:
                    places = "、".join(li.place_label for li in found)
                    raise OfferError(f"您负责的预售{name}有{len(found)}条（{places}），请带上村名再说一次。")
                listing_id = found[0].id
                if real.unit != found[0].unit:
                    raise OfferError(f"{name}按“{found[0].unit}”计，请用{found[0].unit}说收获了多少。")
        except OfferError as exc:
            dispatcher.utter_message(text=str(exc))
            return []
        return read_back_harvest(self.services, dispatcher, tracker, listing_id, real)


def apply_harvest(
    services: Services, dispatcher: CollectingDispatcher, tracker: Tracker, pending: dict[str, Any]
) -> list[dict[str, Any]]:
    """Confirm the harvest read back: fill the pre-orders and tell everyone."""
    real = parse_quantity(str(pending.get("quantity") or ""))
    try:
        if real is None:
            raise OfferError("收获数量不完整，请重新说一次。")
        with transaction(services) as session:
            result = confirm_harvest(session, who(session, tracker), int(pending["listing_id"]), real)
            text = result.text
    except OfferError as exc:
        dispatcher.utter_message(text=str(exc))
        return [SlotSet("pending", None)]
    dispatcher.utter_message(text=f"已确认收获。{text}")
    return [SlotSet("pending", None)]


def read_back_update(
    services: Services, dispatcher: CollectingDispatcher, tracker: Tracker, listing_id: int, words: str, photo: str
) -> list[dict[str, Any]]:
    """Say to whom the update goes and ask for confirmation; a photo may still follow (Telegram's caption first)."""
    with services.sessions() as session:
        chosen = pick_adoption(session, who(session, tracker), listing_id)
        count = len(adopters(session, listing_id))
        where = label(chosen)
    attached = "照片：已附上" if photo else "（可以再发一张照片一起发出）"
    dispatcher.utter_message(
        text=f"将发给{where}的{count}户认养户：\n“{words}”\n{attached}\n确认发送吗？",
        buttons=[button("确认发送", "affirm"), button("不发了", "deny")],
    )
    pending = read_back_slot(ReadBackKind.ADOPTION, tracker, listing_id=listing_id, words=words, photo=photo)
    return [SlotSet("pending", pending)]


class ActionAdoptionUpdate(FupinAction):
    """A contact's progress update to the adopters of a 认养 listing (给认养户发：猪已经长到150斤了), read back first."""

    def name(self) -> str:
        return "action_adoption_update"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        named, words = update_words(text_of(tracker))
        try:
            with self.services.sessions() as session:
                identity = who(session, tracker)
                if not _may(identity):
                    dispatcher.utter_message(response=CONTACT_ONLY)
                    return []
                if not words:
                    raise OfferError("请说要告诉认养户什么，比如“给认养户发：猪已经长到150斤了”。")
                listing_id = pick_adoption(session, identity, entity_value(tracker, "product") or named, words).id
        except OfferError as exc:
            dispatcher.utter_message(text=str(exc))
            return []
        return read_back_update(self.services, dispatcher, tracker, listing_id, words, "")


def attach_update_photo(dispatcher: CollectingDispatcher, pending: dict[str, Any], photo: str) -> list[dict[str, Any]]:
    """A photo sent while an adoption update waits for confirmation goes with it (actions/complaints.py hands it on)."""
    dispatcher.utter_message(
        text="照片已附上，会和这条进展一起发给认养户。确认发送请点“确认发送”。",
        buttons=[button("确认发送", "affirm"), button("不发了", "deny")],
    )
    return [SlotSet("pending", {**pending, "photo": photo})]


def apply_update(
    services: Services, dispatcher: CollectingDispatcher, tracker: Tracker, pending: dict[str, Any]
) -> list[dict[str, Any]]:
    """Send the adoption update read back to every adopter."""
    try:
        with transaction(services) as session:
            update = send_update(
                session,
                who(session, tracker),
                int(pending["listing_id"]),
                str(pending.get("words") or ""),
                str(pending.get("photo") or "") or None,
            )
            recipients = update.recipients
    except OfferError as exc:
        dispatcher.utter_message(text=str(exc))
        return [SlotSet("pending", None)]
    if recipients:
        dispatcher.utter_message(text=f"已发给{recipients}户认养户。")
    else:
        dispatcher.utter_message(text="已记下这条进展；现在还没有能收到推送的认养户（他们查看订单时可以问您）。")
    return [SlotSet("pending", None)]
