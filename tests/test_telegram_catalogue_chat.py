"""The county's vocabulary and a contact's stock history by chat, end to end (issues #19 and #20).

The real python-telegram-bot Application against the fake Bot API, the trained model and the actions in
process; the database is checked afterwards. The vocabulary is global, so this module starts from the seeded
database and puts it back when it is done.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fupin.catalog.listings import CatalogWriter, HouseholdRef, ListingDraft
from fupin.catalog.vocabulary import remove_product_alias
from fupin.models import Listing, Order, Product, ProductAlias, StockMove, Village, VocabularyChange
from fupin.orders.lifecycle import place_order
from fupin.outreach.users import bind_user
from fupin.places import Gazetteer
from fupin.values import JIN, Price, Quantity, Role, SupplyMethod, format_decimal
from harness.fake_telegram import FakeTelegram
from harness.telegram_app import ADMIN_ID, RunningBot
from tests.e2e import Bot
from tests.telegram_chat import press, say, titles, wait_text, with_bot

# Telegram user ids of this module only.
CONTACT = 40001  # 龙角镇's supply contact
BUYERS = iter(range(40100, 40200))  # a new buyer for each conversation


@pytest.fixture(scope="module")
def telegram(bot: Bot, fake: FakeTelegram) -> Iterator[RunningBot]:
    """The bot by long polling on the seeded database, with 龙角镇's contact; the database put back afterwards."""
    bot.reset()
    with bot.sessions() as session, session.begin():
        bind_user(session, f"telegram:{CONTACT}", Role.CONTACT, township="龙角镇", display_name="李xx")
    try:
        with with_bot(bot, fake, rate_limit_burst=1000, rate_limit_per_minute=6000) as running:
            yield running
    finally:
        bot.reset()


def _new_listing(bot: Bot, product: str, household: str, region: str = "龙角镇张家村") -> int:
    """A listing written as an import before issue #19 would have written it (a variety as a product)."""
    with bot.sessions() as session, session.begin():
        draft = ListingDraft(
            place=Gazetteer.load(session).resolve_region(region, None),
            product_name=product,
            variety="",
            quantity=Quantity(Decimal(600), JIN),
            price=Price(800, JIN),
            supply_methods=SupplyMethod.DELIVERY,
            contact_name="李xx",
            contact_phone="17723635558",
            household=HouseholdRef(household),
        )
        CatalogWriter(session).write_all([draft])
        listing_id = session.scalars(
            select(Listing.id).where(Listing.listing_key.contains(household)).order_by(Listing.id.desc())
        ).first()
    assert listing_id is not None
    bot.services.search.names.refresh()  # as an import through the bot does
    return listing_id


def _changes(bot: Bot) -> list[tuple[str, str, str, str]]:
    with bot.sessions() as session:
        rows = session.execute(
            select(VocabularyChange.kind, VocabularyChange.product, VocabularyChange.name, VocabularyChange.actor)
        )
        return [(kind, product, name, actor) for kind, product, name, actor in rows]


def _owner(bot: Bot, alias: str) -> str | None:
    with bot.sessions() as session:
        return session.scalar(select(Product.name).join(ProductAlias).where(ProductAlias.alias == alias))


def test_an_alias_set_by_chat_is_found_by_a_buyer_without_retraining(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot
) -> None:
    # The shipped list has 奇异果 = 猕猴桃: here the county has not entered it yet.
    with bot.sessions() as session, session.begin():
        if _owner(bot, "奇异果"):
            remove_product_alias(session, "奇异果", "test")
    _new_listing(bot, "猕猴桃", "词表测试户甲")
    buyer = next(BUYERS)
    (unknown,) = say(fake, buyer, "哪里有奇异果")
    assert "目录里暂时没有奇异果" in (unknown.text or ""), unknown.text

    (readback,) = say(fake, ADMIN_ID, "把奇异果设为猕猴桃的别名")
    assert "将把“奇异果”设为“猕猴桃”的别名" in (readback.text or "") and titles(readback) == ["确认修改", "不改了"]
    assert _owner(bot, "奇异果") is None  # nothing before the confirmation
    (done,) = press(fake, ADMIN_ID, readback, "确认修改")
    assert "已把“奇异果”设为“猕猴桃”的别名" in (done.text or "")
    assert _owner(bot, "奇异果") == "猕猴桃"
    assert ("alias_added", "猕猴桃", "奇异果", f"telegram:{ADMIN_ID}") in _changes(bot)

    # The same model, no retraining: the live vocabulary makes 奇异果 the 猕猴桃 listing.
    (found,) = say(fake, buyer, "哪里有奇异果")
    assert "猕猴桃" in (found.text or "") and "龙角镇张家村" in (found.text or ""), found.text
    assert "目录里暂时没有" not in (found.text or "")


def test_a_merge_by_chat_moves_the_listing_and_its_order(telegram: RunningBot, fake: FakeTelegram, bot: Bot) -> None:
    listing_id = _new_listing(bot, "红心猕猴桃", "词表测试户乙", region="泥溪镇鱼鳞村")
    with bot.sessions() as session, session.begin():
        order, _quote = place_order(
            session,
            sender_id=f"telegram:{next(BUYERS)}",
            listing_id=listing_id,
            quantity=Quantity(Decimal(20), JIN),
            buyer_name="县人民医院食堂",
            phone="17723635558",
            supply_method=SupplyMethod.DELIVERY,
        )
        order_no = order.order_no

    (readback,) = say(fake, ADMIN_ID, "红心猕猴桃合并到猕猴桃，品种红心")
    text = readback.text or ""
    assert "将把“红心猕猴桃”合并到“猕猴桃”，品种“红心”" in text and "目录1条（连同订单1个）" in text, text
    (done,) = press(fake, ADMIN_ID, readback, "确认修改")
    assert "转过去目录1条、订单1个、销售记录0条" in (done.text or ""), done.text

    with bot.sessions() as session:
        listing = session.get(Listing, listing_id)
        assert listing is not None and (listing.product.name, listing.variety) == ("猕猴桃", "红心")
        assert listing.remaining_quantity == Decimal(580)  # the order still holds its 20斤
        assert session.scalars(select(Order.listing_id).where(Order.order_no == order_no)).one() == listing_id
        assert session.scalar(select(Product.id).where(Product.name == "红心猕猴桃")) is None
    assert _owner(bot, "红心猕猴桃") == "猕猴桃"
    assert ("merged", "猕猴桃", "红心猕猴桃", f"telegram:{ADMIN_ID}") in _changes(bot)


def test_a_buyer_is_refused_and_nothing_changes(telegram: RunningBot, fake: FakeTelegram, bot: Bot) -> None:
    listing_id = _new_listing(bot, "金果", "词表测试户丙")
    before = _changes(bot)
    buyer = next(BUYERS)
    for text in ("把金果并入猕猴桃", "把藤梨设为猕猴桃的别名", "删除别名洋芋"):
        (refused,) = say(fake, buyer, text)
        assert "只有县里的管理员" in (refused.text or ""), (text, refused.text)
        assert not titles(refused)  # nothing to confirm
    (nothing,) = say(fake, buyer, "确认")
    assert "没有需要确认" in (nothing.text or ""), nothing.text
    with bot.sessions() as session:
        listing = session.get(Listing, listing_id)
        assert listing is not None and listing.product.name == "金果"
    assert _owner(bot, "藤梨") is None and _owner(bot, "洋芋") == "土豆"
    assert _changes(bot) == before


def test_a_contact_sees_an_orders_reservation_in_the_stock_history(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot
) -> None:
    with bot.sessions() as session, session.begin():
        potato = session.scalars(
            select(Listing.id).join(Product).join(Village).where(Product.name == "土豆", Village.short_name == "张家村")
        ).one()
        order, _quote = place_order(
            session,
            sender_id=f"telegram:{next(BUYERS)}",
            listing_id=potato,
            quantity=Quantity(Decimal(30), JIN),
            buyer_name="县第一中学",
            phone="17723630000",
            supply_method=SupplyMethod.DELIVERY,
        )
        order_no = order.order_no
    wait_text(fake, CONTACT, order_no)  # the new-order push first, so it is not taken for the answer
    with bot.sessions() as session:
        available = session.get(Listing, potato).remaining_quantity  # type: ignore[union-attr]
        held = session.scalar(select(func.sum(StockMove.reserved_change)).where(StockMove.listing_id == potato))

    (history,) = say(fake, CONTACT, "土豆的库存记录")
    lines = (history.text or "").splitlines()
    assert lines[0].startswith(f"#{potato} 龙角镇张家村 王某某 土豆 库存记录"), history.text
    (reserved,) = [line for line in lines if f"订单{order_no}预订" in line]
    balance = f"预订 可售-30 预订+30 → 可售{format_decimal(available)} 已预订{format_decimal(held)}"
    assert balance in reserved, reserved
    assert lines.index(reserved) == _last_of(lines, potato)  # the newest move ends the listing's block

    (refused,) = say(fake, next(BUYERS), "土豆的库存记录")
    assert "才能查看库存记录" in (refused.text or "") and order_no not in (refused.text or "")


def _last_of(lines: list[str], listing_id: int) -> int:
    # The index of the last line of a listing's block (its newest move): blocks are separated by a blank line.
    start = next(i for i, line in enumerate(lines) if line.startswith(f"#{listing_id} "))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip()), len(lines))
    return end - 1
