"""More ways to buy, end to end (issue #17): pre-orders, adoptions, pairings, union budgets and the households
that gained, each as a conversation through the real Application and the fake Bot API, checked in the database.

The module starts from the seeded database and puts it back when it is done; each test has its own people.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from fupin.catalog.listings import CatalogWriter, HouseholdRef, ListingDraft
from fupin.models import (
    AdoptionUpdate,
    Buyer,
    Listing,
    MoveKind,
    Order,
    Pairing,
    Product,
    SaleRecord,
    StockMove,
    Township,
    UnionMembers,
)
from fupin.outreach.users import bind_user
from fupin.places import Gazetteer
from fupin.values import OfferKind, OrderStatus, Price, Quantity, Role, SupplyMethod
from harness.fake_telegram import FakeTelegram
from harness.telegram_app import ADMIN_ID, RunningBot
from tests.e2e import ADMIN, Bot
from tests.orders_data import place
from tests.telegram_chat import messages, press, say, titles, wait_messages, wait_text, with_bot

# Telegram user ids of this module only.
CONTACT = 42001  # 凤鸣镇's supply contact (黄龙村 grows 脐橙)
BUYERS = iter(range(42100, 42200))  # a new buyer for each conversation


@pytest.fixture(scope="module")
def telegram(bot: Bot, fake: FakeTelegram) -> Iterator[RunningBot]:
    """The bot by long polling on the seeded database, with 凤鸣镇's contact; the database put back afterwards."""
    bot.reset()
    with bot.sessions() as session, session.begin():
        bind_user(session, f"telegram:{CONTACT}", Role.CONTACT, township="凤鸣镇", display_name="黄xx")
    try:
        with with_bot(bot, fake, rate_limit_burst=1000, rate_limit_per_minute=6000) as running:
            yield running
    finally:
        bot.reset()


def _listing(bot: Bot, product: str, township: str) -> Listing:
    with bot.sessions() as session:
        return session.scalars(
            select(Listing).join(Product).join(Township).where(Product.name == product, Township.name == township)
        ).one()


def _order_by_chat(fake: FakeTelegram, buyer: int, words: str, unit: str) -> str:
    """A buyer orders through the order form in chat and confirms; the read-back's text and the order number."""
    replies = say(fake, buyer, words)
    if "采购单位" not in (replies[-1].text or ""):
        raise AssertionError(f"the order form did not ask for the unit: {[r.text for r in replies]}")
    (phone_question,) = say(fake, buyer, unit)
    assert "电话" in (phone_question.text or ""), phone_question.text
    (methods,) = say(fake, buyer, "17723635558")
    (summary,) = press(fake, buyer, methods, "送货上门") if "送货上门" in titles(methods) else (methods,)
    (done,) = press(fake, buyer, summary, "确认下单")
    number = re.search(r"XF\d{6}[0-9A-F]{6}", done.text or "")
    assert number, done.text
    return (summary.text or "") + "\n" + number[0]


def test_buyers_pre_order_the_harvest_fills_them_in_order_and_releases_the_rest(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot
) -> None:
    (announced,) = say(fake, CONTACT, "脐橙12月上市，预计5000斤，预订价3元一斤")
    assert "预售" in (announced.text or "") and "5000斤" in (announced.text or ""), announced.text
    orange = _listing(bot, "脐橙", "凤鸣镇")
    assert (orange.offer, orange.remaining_quantity, orange.price_fen) == (OfferKind.PRE_ORDER.value, 5000, 300)
    first, second = next(BUYERS), next(BUYERS)
    read_back = _order_by_chat(fake, first, "我要预订凤鸣镇的脐橙2400斤", "县教委食堂")
    assert "这是预订" in read_back and "12月上市" in read_back, read_back
    first_no = read_back.rsplit("\n", 1)[1]
    second_no = place(bot.sessions, f"telegram:{second}", orange.id, amount=1200, unit="县人民医院食堂")
    third = next(BUYERS)
    third_no = place(bot.sessions, f"telegram:{third}", orange.id, amount=700, unit="县中医院食堂")

    for number in (first_no, second_no, third_no):  # the new-order pushes, before the contact speaks
        wait_text(fake, CONTACT, number)
    (asked,) = say(fake, CONTACT, "脐橙实际收获3000斤")
    assert "3000斤" in (asked.text or "") and "确认" in "".join(titles(asked)), asked.text
    (done,) = press(fake, CONTACT, asked, "确认")
    assert "1个预订全部满足，1个部分满足，1个未满足" in (done.text or ""), done.text

    # 2400 filled whole, the 1200 gets the 600 left, the 700 cannot be filled: told and released.
    with bot.sessions() as session:
        orders = {
            o.order_no: o
            for o in session.scalars(select(Order).where(Order.order_no.in_([first_no, second_no, third_no])))
        }
        assert orders[first_no].quantity == 2400 and orders[first_no].status != OrderStatus.UNFILLED.value
        assert orders[second_no].quantity == 600 and orders[second_no].amount_fen == 600 * 300
        assert orders[third_no].status == OrderStatus.UNFILLED.value and orders[third_no].reserved_quantity == 0
        assert all(o.offer == OfferKind.PRE_ORDER.value for o in orders.values())
        listing = session.get(Listing, orange.id)
        assert listing is not None and (listing.offer, listing.remaining_quantity) == (OfferKind.IN_HAND.value, 0)
        kinds = session.scalars(select(StockMove.kind).where(StockMove.listing_id == orange.id)).all()
        assert MoveKind.EXPECTED.value in kinds and MoveKind.HARVEST.value in kinds
    wait_text(fake, first, first_no)
    assert "600斤" in (wait_text(fake, second, second_no).text or "")
    assert "未满足" in (wait_text(fake, third, third_no).text or "")


def test_a_buyer_adopts_a_pig_gets_the_contacts_update_with_its_photo_and_delivery_writes_the_sale(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot
) -> None:
    with bot.sessions() as session, session.begin():
        draft = ListingDraft(
            place=Gazetteer.load(session).resolve_region("凤鸣镇黄龙村", None),
            product_name="年猪",
            variety="",
            quantity=Quantity(Decimal(10), "头"),
            price=Price(300000, "头"),
            supply_methods=SupplyMethod.DELIVERY,
            contact_name="黄xx",
            contact_phone="17723630188",
            household=HouseholdRef("黄某某"),
            offer=OfferKind.ADOPTION,
            expected_month=date(2027, 1, 1),
            terms="一头年猪，约200斤，腊月交付",
        )
        CatalogWriter(session).write_all([draft])
    bot.services.search.names.refresh()
    adopter = next(BUYERS)
    read_back = _order_by_chat(fake, adopter, "我要认养一头年猪", "县机关食堂")
    assert "这是认养" in read_back and "约200斤" in read_back, read_back
    order_no = read_back.rsplit("\n", 1)[1]

    wait_text(fake, CONTACT, order_no)  # the new-order push, before the contact speaks
    (asked,) = say(fake, CONTACT, "给认养户发：猪已经长到150斤了")
    assert "150斤" in (asked.text or ""), asked.text
    before = len(messages(fake, CONTACT))
    fake.send_photo(CONTACT, b"\xff\xd8\xff\xe0 a pig")
    (attached,) = wait_messages(fake, CONTACT, before + 1)[before:]
    (sent,) = press(fake, CONTACT, attached, "确认")
    assert "1" in (sent.text or ""), sent.text
    pushed = wait_text(fake, adopter, "猪已经长到150斤了")
    assert "年猪" in (pushed.text or "")
    fake.wait_for(lambda f: any(m.method == "sendPhoto" for m in f.sent_to(adopter)))
    with bot.sessions() as session:
        (update,) = session.scalars(select(AdoptionUpdate)).all()
        assert (update.text, update.recipients, update.photo_file_id is not None) == ("猪已经长到150斤了", 1, True)

    (delivered,) = say(fake, ADMIN_ID, f"订单{order_no}已送达")
    assert "已送达" in (delivered.text or ""), delivered.text
    with bot.sessions() as session:
        sale = session.scalars(select(SaleRecord).join(Order).where(Order.order_no == order_no)).one()
        assert (sale.product_name, sale.quantity, sale.amount_fen, sale.household_name) == ("年猪", 1, 300000, "黄某某")


def test_an_admin_pairs_a_firm_with_a_village_and_its_search_shows_that_village_first(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot
) -> None:
    (paired,) = say(fake, ADMIN_ID, "把云阳县爱心建材公司和龙角镇张家村结成帮扶对子")
    assert "张家村" in (paired.text or "") and "结对" in (paired.text or ""), paired.text
    firm = next(BUYERS)
    # The firm's buyer is known from its first order.
    place(bot.sessions, f"telegram:{firm}", _listing(bot, "蜂蜜", "龙角镇").id, unit="云阳县爱心建材公司")
    (found,) = say(fake, firm, "哪里有土豆")
    text = found.text or ""
    assert "已优先列出贵单位结对帮扶的张家村的产品" in text, text
    assert text.index("张家村") < text.index("泥溪镇"), text
    with bot.sessions() as session:
        pairing = session.scalars(select(Pairing).join(Buyer).where(Buyer.name == "云阳县爱心建材公司")).one()
        assert (pairing.buyer.category, pairing.ended_on) == ("爱心企业", None)
    (refused,) = say(fake, firm, "把云阳县爱心建材公司和龙角镇高家村结成帮扶对子")
    assert "管理员" in (refused.text or ""), refused.text


def test_a_union_registers_its_members_and_asks_what_is_left_of_its_budget(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot
) -> None:
    union = next(BUYERS)
    (recorded,) = say(fake, union, "县人民医院工会有120名会员")
    assert "会员120人" in (recorded.text or "") and "60,000.00元" in (recorded.text or ""), recorded.text
    # A purchase from a deep-poverty township counts (泥溪镇, fupin/data/yunyang_townships.csv), once delivered.
    place(
        bot.sessions,
        f"telegram:{union}",
        _listing(bot, "土豆", "泥溪镇").id,
        amount=100,
        unit="县人民医院工会",
        deliver_as=ADMIN,
    )
    wait_text(fake, union, "已送达")  # the delivery push, before the union speaks
    (answer,) = say(fake, union, "我们工会还剩多少额度")
    # 100斤 at 1.6元: 160元 of 60000元 spent.
    assert "160.00元" in (answer.text or "") and "59,840.00元" in (answer.text or ""), answer.text
    with bot.sessions() as session:
        (row,) = session.scalars(select(UnionMembers).join(Buyer).where(Buyer.name == "县人民医院工会")).all()
        assert row.members == 120
    (stranger,) = say(fake, next(BUYERS), "我们工会还剩多少额度")
    assert "工会" in (stranger.text or ""), stranger.text


def test_an_admin_asks_which_households_of_a_village_sold_and_how_many_gained(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot
) -> None:
    place(bot.sessions, f"telegram:{next(BUYERS)}", _listing(bot, "白菜", "龙角镇").id, amount=10, deliver_as=ADMIN)
    (sold,) = say(fake, ADMIN_ID, "张家村今年哪些贫困户卖出了产品")
    assert "王某某：10斤，9.00元" in (sold.text or ""), sold.text
    (gained,) = say(fake, ADMIN_ID, "全县有多少贫困户受益")
    assert re.search(r"受益贫困户\D*\d+", gained.text or ""), gained.text
    (refused,) = say(fake, next(BUYERS), "全县有多少贫困户受益")
    assert "管理员" in (refused.text or ""), refused.text
