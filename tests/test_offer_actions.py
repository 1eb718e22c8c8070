"""The pre-order and adoption actions as thin adapters: a Tracker and a CollectingDispatcher in, events and
messages out, the database checked after each confirmation."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.common import Services, make_services
from actions.complaints import ActionAttachPhoto
from actions.offers import ActionAdoptionUpdate, ActionConfirmHarvest, ActionExpectedHarvest
from actions.orders import summary_text
from actions.pending import ActionApplyPending, ActionDenyPending
from fupin.catalog.files import import_catalog_file
from fupin.models import AdoptionUpdate, Listing, Notification, Order, Product, User
from fupin.offers.terms import find_month
from fupin.orders.lifecycle import place_order, quote
from fupin.outreach.users import bind_user
from fupin.periods import today
from fupin.values import Quantity, Role, SupplyMethod
from tests.conftest import Database
from tests.helpers import row, write_xlsx

CONTACT = "telegram:9301"
BUYER = "telegram:9401"


@pytest.fixture
def services(db: Database, tmp_path: Path) -> Services:
    """龙角镇's catalogue with 土豆 in hand, 脐橙 on pre-sale and 年猪 for adoption, and its contact."""
    path = write_xlsx(
        tmp_path / "龙角镇.xlsx",
        [
            row(),
            row(product="脐橙", quantity="5000斤", price="3元/斤", remarks="预售，12月上市"),
            row(
                product="年猪",
                household="张某某",
                quantity="10头",
                price="3000元/头",
                remarks="认养：一头年猪，约200斤，腊月交付",
            ),
        ],
    )
    with db.sessions() as session, session.begin():
        bind_user(session, CONTACT, Role.CONTACT, township="龙角镇", display_name="李xx")
        assert import_catalog_file(session, path).ok
    return make_services(db.sessions)


def tracker(text: str, sender: str = CONTACT, entities: list[dict[str, Any]] | None = None,
            slots: dict[str, Any] | None = None, intent: str = "x") -> Tracker:  # fmt: skip
    """A tracker whose latest message is `text`."""
    latest = {"text": text, "entities": entities or [], "intent": {"name": intent}}
    return Tracker(sender, slots or {}, latest, [], False, None, {}, "action_listen")


def run(action: Any, current: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, current, {}))
    return events, dispatcher.messages


def _pending(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    (value,) = [e["value"] for e in events if e.get("event") == "slot" and e.get("name") == "pending"]
    return value  # type: ignore[no-any-return]


def _listing(services: Services, product: str) -> int:
    with services.sessions() as session:
        return session.scalars(select(Listing.id).join(Product).where(Product.name == product)).one()


def _order(services: Services, product: str, quantity: Quantity, buyer: str = BUYER) -> str:
    with services.sessions() as session, session.begin():
        order, _quote = place_order(
            session,
            sender_id=buyer,
            listing_id=_listing(services, product),
            quantity=quantity,
            buyer_name="县人民医院食堂",
            phone="17723635558",
            supply_method=SupplyMethod.DELIVERY,
        )
        return order.order_no


def test_a_contact_announces_an_expected_harvest_and_a_buyer_is_refused(services: Services) -> None:
    events, messages = run(ActionExpectedHarvest(services), tracker("土豆12月上市，预计3000斤，预订价2元一斤"))
    assert events == [] and "已登记预售" in messages[0]["text"] and "3000斤" in messages[0]["text"]
    with services.sessions() as session:
        listing = session.get(Listing, _listing(services, "土豆"))
        assert listing is not None and (listing.offer, listing.remaining_quantity, listing.price_fen) == (
            "预售",
            Decimal(3000),
            200,
        )
    _events, refused = run(ActionExpectedHarvest(services), tracker("土豆12月上市，预计3000斤", sender=BUYER))
    assert refused[0]["response"] == "utter_offers_contact_only"
    _events, bad = run(ActionExpectedHarvest(services), tracker("土豆13月上市，预计3000斤"))
    assert "13月" in bad[0]["text"] and "比如" in bad[0]["text"]


def test_the_read_back_of_a_pre_order_and_of_an_adoption(services: Services) -> None:
    with services.sessions() as session:
        orange = quote(session, _listing(services, "脐橙"), Quantity(Decimal(30), "斤"), SupplyMethod.DELIVERY)
        pig = quote(session, _listing(services, "年猪"), Quantity(Decimal(1), "头"), SupplyMethod.DELIVERY)
    december = find_month("12月", today())
    assert december is not None
    expected = f"这是预订：脐橙预计{december.month.year}年12月上市"
    assert expected in summary_text(orange, "县人民医院食堂", "17723635558")
    assert "这是认养：一头年猪，约200斤，腊月交付" in summary_text(pig, "县人民医院食堂", "17723635558")
    with services.sessions() as session:
        potato = quote(session, _listing(services, "土豆"), Quantity(Decimal(30), "斤"), SupplyMethod.DELIVERY)
    assert "这是" not in summary_text(potato, "县人民医院食堂", "17723635558")


def test_the_harvest_is_read_back_then_confirmed(services: Services) -> None:
    first = _order(services, "脐橙", Quantity(Decimal(3000), "斤"))
    second = _order(services, "脐橙", Quantity(Decimal(2000), "斤"), buyer="telegram:9402")
    events, messages = run(
        ActionConfirmHarvest(services),
        tracker("脐橙收了4200斤，可以发货了", entities=[{"entity": "product", "value": "脐橙"}]),
    )
    pending = _pending(events)
    assert pending is not None and pending["kind"] == "harvest" and pending["quantity"] == "4200斤"
    assert "2个预订中1个全部满足，1个部分满足" in messages[0]["text"]
    # 不对: nothing happens.
    events, said = run(ActionDenyPending(services), tracker("不对", slots={"pending": pending}))
    assert _pending(events) is None and said[0]["text"] == "好的，没有修改。"
    with services.sessions() as session:
        assert session.scalars(select(Order.quantity).where(Order.order_no == second)).one() == Decimal(2000)
    events, done = run(ActionApplyPending(services), tracker("确认", slots={"pending": pending}))
    assert _pending(events) is None and done[0]["text"].startswith("已确认收获。")
    with services.sessions() as session:
        got = dict(
            session.execute(select(Order.order_no, Order.quantity).where(Order.order_no.in_([first, second]))).all()
        )
        assert got == {first: Decimal(3000), second: Decimal(1200)}
    # Of a listing that is no pre-sale (any more), and from a buyer.
    _events, again = run(ActionConfirmHarvest(services), tracker("脐橙实际收获4200斤"))
    assert "没有预售的脐橙" in again[0]["text"]
    _events, refused = run(ActionConfirmHarvest(services), tracker("脐橙实际收获4200斤", sender=BUYER))
    assert refused[0]["response"] == "utter_offers_contact_only"


def test_an_adoption_update_with_a_photo_is_read_back_and_sent(services: Services) -> None:
    _order(services, "年猪", Quantity(Decimal(1), "头"))
    events, messages = run(ActionAdoptionUpdate(services), tracker("给认养户发：猪已经长到150斤了"))
    pending = _pending(events)
    assert pending is not None and pending["kind"] == "adoption_update" and pending["words"] == "猪已经长到150斤了"
    assert "1户认养户" in messages[0]["text"] and "可以再发一张照片" in messages[0]["text"]
    # Telegram sends the caption first, then the photo.
    photo = tracker('/attach_photo{"photo": "AgACAgUAAxkBAAIB"}', entities=[{"entity": "photo", "value": "AgACAgUAAxkBAAIB"}],
                    slots={"pending": pending})  # fmt: skip
    events, attached = run(ActionAttachPhoto(services), photo)
    pending = _pending(events)
    assert pending is not None and pending["photo"] == "AgACAgUAAxkBAAIB" and "照片已附上" in attached[0]["text"]
    events, done = run(ActionApplyPending(services), tracker("确认发送", slots={"pending": pending}))
    assert _pending(events) is None and done[0]["text"] == "已发给1户认养户。"
    with services.sessions() as session:
        update = session.scalars(select(AdoptionUpdate)).one()
        assert (update.text, update.photo_file_id, update.recipients) == ("猪已经长到150斤了", "AgACAgUAAxkBAAIB", 1)
        push = session.scalars(
            select(Notification).join(User).where(User.external_id == "9401", Notification.kind == "adoption_update")
        ).one()
        assert json.loads(push.attachments) == ["photo:AgACAgUAAxkBAAIB"] and "150斤" in push.text
    _events, refused = run(ActionAdoptionUpdate(services), tracker("给认养户发：猪已经长到150斤了", sender=BUYER))
    assert refused[0]["response"] == "utter_offers_contact_only"
