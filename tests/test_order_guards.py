"""Orders that cannot double or linger (issue #20): one order per confirmed read-back, caps on unconfirmed
orders, expiry of orders nobody confirms, and every cancellation told to those who did not make it."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from rasa.shared.core.events import SlotSet
from sqlalchemy import func, select, update

from bot.scheduler import expire_orders_job
from fupin.models import Listing, Notification, Order, Product, User, utcnow
from fupin.orders.buyers import find_or_register_buyer
from fupin.orders.expiry import expire_unconfirmed
from fupin.orders.lifecycle import DuplicateOrder, OrderError, change_order, place_order
from fupin.orders.rules import OrderRules
from fupin.outreach.users import bind_user, identify
from fupin.settings import Settings
from fupin.setup import seed_demo
from fupin.values import OrderStatus, Quantity, Role, SupplyMethod
from tests.conftest import Database
from tests.e2e import CONTACT_LJ, Bot, Said

CONTACT = "telegram:701"
ADMIN = "telegram:702"
BUYER = "telegram:801"
RULES = OrderRules()


@pytest.fixture
def demo(db: Database) -> Database:
    """The demo catalogue, a Telegram contact for 龙角镇 and a Telegram admin (both can get pushes)."""
    assert seed_demo(db.sessions).ok
    with db.sessions() as session, session.begin():
        bind_user(session, CONTACT, Role.CONTACT, township="龙角镇", display_name="李xx")
        bind_user(session, ADMIN, Role.ADMIN)
    return db


def _potato(db: Database) -> Listing:
    with db.sessions() as session:
        return session.scalars(
            select(Listing).join(Product).where(Product.name == "土豆", Listing.listing_key.contains("500235105"))
        ).one()


def _place(
    db: Database, qty: str = "10", sender: str = BUYER, key: str | None = None, rules: OrderRules | None = RULES
) -> str:
    with db.sessions() as session, session.begin():
        order, _offer = place_order(
            session,
            sender_id=sender,
            listing_id=_potato(db).id,
            quantity=Quantity(Decimal(qty), "斤"),
            buyer_name="县人民医院食堂",
            phone="17723635558",
            supply_method=SupplyMethod.DELIVERY,
            request_key=key,
            rules=rules,
        )
        return order.order_no


def _orders(db: Database) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(Order)) or 0


def _pushed_to(db: Database, order_no: str, status: OrderStatus) -> set[str]:
    with db.sessions() as session:
        rows = session.execute(
            select(User.channel, User.external_id)
            .join(Notification, Notification.user_id == User.id)
            .where(Notification.dedupe_key.like(f"order_status:{order_no}:{status.name}:%"))
        )
        return {f"{channel}:{external}" for channel, external in rows}


def test_the_same_confirmation_twice_places_one_order(demo: Database) -> None:
    # Today's main: the second confirmation (after a crash lost the answer) recorded a second order.
    first = _place(demo, key="readback-1")
    with pytest.raises(DuplicateOrder, match=f"订单{first}已经下好了") as caught:
        _place(demo, key="readback-1")
    assert caught.value.order_no == first
    assert _orders(demo) == 1 and _potato(demo).remaining_quantity == Decimal(1990)  # 10斤 reserved, not 20
    _place(demo, key="readback-2")  # a new read-back is a new order
    assert _orders(demo) == 2


def test_two_confirmations_at_once_place_one_order(demo: Database) -> None:
    # Both pass the first look-up; the unique key decides, and the loser's reservation is rolled back.
    with demo.sessions() as session, session.begin():
        find_or_register_buyer(session, "县人民医院食堂")  # a known buyer, as after the first order
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def confirm() -> None:
        barrier.wait()
        try:
            outcomes.append(_place(demo, key="same-press"))
        except DuplicateOrder as exc:
            outcomes.append(f"dup:{exc.order_no}")

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    placed = [o for o in outcomes if not o.startswith("dup:")]
    assert len(outcomes) == 2 and len(placed) == 1
    assert all(o in (placed[0], f"dup:{placed[0]}") for o in outcomes)
    assert _orders(demo) == 1 and _potato(demo).remaining_quantity == Decimal(1990)


def test_a_stranger_cannot_hoard_a_listing(demo: Database) -> None:
    # Today's main: one sender could reserve the whole 2000斤, as often as they liked.
    with pytest.raises(OrderError, match=r"50%（1000斤）"):
        _place(demo, qty="1001")
    _place(demo, qty="600")
    # 600斤 waiting of (1400 left + 600 own) = 2000 available: 400 more reaches the half, 401 passes it.
    with pytest.raises(OrderError, match="您已有600斤在等确认"):
        _place(demo, qty="401")
    _place(demo, qty="400")
    assert _potato(demo).remaining_quantity == Decimal(1000)


def test_a_buyer_may_have_only_so_many_unconfirmed_orders(demo: Database) -> None:
    numbers = [_place(demo) for _ in range(RULES.max_open_orders)]
    with pytest.raises(OrderError, match="3个订单在等供货方确认"):
        _place(demo)
    assert _orders(demo) == 3
    _place(demo, sender="telegram:802")  # another buyer is not held back
    with demo.sessions() as session, session.begin():
        change_order(session, numbers[0], "confirm", identify(session, CONTACT))
    _place(demo)  # a confirmed order is no longer waiting
    assert _place(demo, rules=None)  # county staff and imports place without caps


def test_an_order_nobody_confirms_expires_releases_its_stock_and_tells_both_sides(demo: Database) -> None:
    # Today's main: an unconfirmed order held its stock forever.
    old, fresh = _place(demo), _place(demo)
    with demo.sessions() as session, session.begin():
        session.execute(
            update(Order).where(Order.order_no == old).values(created_at=utcnow() - timedelta(days=3, minutes=1))
        )
    with demo.sessions() as session, session.begin():
        assert expire_unconfirmed(session, utcnow(), RULES) == [old]
    with demo.sessions() as session, session.begin():
        assert expire_unconfirmed(session, utcnow(), RULES) == []  # a second run finds nothing
        statuses = dict(session.execute(select(Order.order_no, Order.status)).all())
    assert statuses == {old: OrderStatus.EXPIRED.value, fresh: OrderStatus.PENDING.value}
    assert _potato(demo).remaining_quantity == Decimal(1990)
    assert _pushed_to(demo, old, OrderStatus.EXPIRED) == {BUYER, CONTACT}
    with demo.sessions() as session:
        texts = session.scalars(select(Notification.text).where(Notification.dedupe_key.like(f"%{old}:EXPIRED%")))
        assert all("3天内没有确认，已自动过期" in text for text in texts)
    with demo.sessions() as session, session.begin(), pytest.raises(OrderError, match="已过期"):
        change_order(session, old, "confirm", identify(session, CONTACT))  # too late to confirm


def test_every_cancellation_is_told_to_those_who_did_not_make_it(demo: Database) -> None:
    # Today's main: a contact's or an admin's cancellation was never told to the buyer.
    by_buyer, by_contact, by_admin = _place(demo), _place(demo), _place(demo)
    with demo.sessions() as session, session.begin():
        change_order(session, by_buyer, "cancel", identify(session, BUYER))
        change_order(session, by_contact, "cancel", identify(session, CONTACT))
        change_order(session, by_admin, "cancel", identify(session, ADMIN))
    assert _pushed_to(demo, by_buyer, OrderStatus.CANCELLED) == {CONTACT}
    assert _pushed_to(demo, by_contact, OrderStatus.CANCELLED) == {BUYER}
    assert _pushed_to(demo, by_admin, OrderStatus.CANCELLED) == {BUYER, CONTACT}
    with demo.sessions() as session:
        told = session.scalars(
            select(Notification.text).join(User).where(User.external_id == "801", Notification.kind == "order_status")
        ).all()
    assert any(f"您的订单 {by_contact}" in t and "已被供货方取消" in t for t in told)
    assert any(f"您的订单 {by_admin}" in t and "已被县里的管理员取消" in t for t in told)
    assert _potato(demo).remaining_quantity == Decimal(2000)


def test_the_settings_name_the_rules() -> None:
    env = {
        "READBACK_TTL_MINUTES": "10",
        "ORDER_CONFIRM_DAYS": "5",
        "MAX_OPEN_ORDERS_PER_BUYER": "2",
        "MAX_SHARE_OF_LISTING_PERCENT": "0",
    }
    rules = OrderRules.from_settings(Settings.from_env(env))
    assert rules == OrderRules(timedelta(minutes=10), timedelta(days=5), 2, 0)
    assert OrderRules.from_settings(Settings.from_env({})) == OrderRules()


def test_the_hourly_job_expires_orders(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    assert seed_demo(sqlite_db.sessions).ok
    order_no = _place(sqlite_db)
    with sqlite_db.sessions() as session, session.begin():
        session.execute(update(Order).values(created_at=utcnow() - timedelta(days=2)))
    monkeypatch.setenv("DATABASE_URL", sqlite_db.url)
    monkeypatch.setenv("ORDER_CONFIRM_DAYS", "3")
    assert expire_orders_job() == []
    monkeypatch.setenv("ORDER_CONFIRM_DAYS", "1")
    assert expire_orders_job() == [order_no]
    assert _potato(sqlite_db).remaining_quantity == Decimal(2000)


# --- through the dialogue (trained model, actions in process) ------------------------------------------


def _to_the_read_back(bot: Bot, sender: str) -> Said:
    potato = _listing_in(bot)
    bot.say(sender, f'/order_product{{"listing_id": "{potato.id}"}}')
    bot.say(sender, "10斤")
    bot.say(sender, "县人民医院食堂")
    choose = bot.say(sender, "17723635558")
    summary = bot.say(sender, choose.payload("送货上门"))
    assert "请核对订单" in summary.text
    return summary


def _listing_in(bot: Bot) -> Listing:
    with bot.sessions() as session:
        return session.scalars(
            select(Listing).join(Product).where(Product.name == "土豆", Listing.listing_key.contains("500235105"))
        ).one()


def _bot_orders(bot: Bot) -> int:
    with bot.sessions() as session:
        return session.scalar(select(func.count()).select_from(Order)) or 0


def _set_pending(bot: Bot, sender: str, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    tracker = bot.run(bot.trackers.retrieve(sender))
    assert tracker is not None
    tracker.update(SlotSet("pending", change(dict(tracker.get_slot("pending")))))
    bot.run(bot.trackers.save(tracker))


@pytest.mark.usefixtures("fresh_bot")
def test_confirming_again_after_the_answer_was_lost_places_one_order(bot: Bot) -> None:
    # Today's main: killed after the order's commit but before the conversation was saved, the restarted
    # bot still held the read-back, and the buyer's second 确认下单 recorded a second order.
    sender = "console:guard-canteen"
    _to_the_read_back(bot, sender)
    before = copy.deepcopy(bot.run(bot.trackers.retrieve(sender)))
    assert "下单成功" in bot.say(sender, "确认").text
    bot.run(bot.trackers.save(before))  # the conversation as a crash right after the commit leaves it
    again = bot.say(sender, "确认")
    assert "已经下好了" in again.text and "下单成功" not in again.text
    assert _bot_orders(bot) == 1 and _listing_in(bot).remaining_quantity == Decimal(1990)


@pytest.mark.usefixtures("fresh_bot")
def test_an_expired_read_back_is_read_back_afresh(bot: Bot) -> None:
    sender = "console:guard-late"
    _to_the_read_back(bot, sender)
    aged = (utcnow() - timedelta(minutes=31)).isoformat()
    _set_pending(bot, sender, lambda pending: {**pending, "shown_at": aged})
    late = bot.say(sender, "确认")
    assert "确认已过期（超过30分钟），请重新确认：" in late.text and "请核对订单" in late.text
    assert _bot_orders(bot) == 0
    assert "下单成功" in bot.say(sender, "确认").text
    assert _bot_orders(bot) == 1


@pytest.mark.usefixtures("fresh_bot")
def test_a_stock_read_back_does_not_survive_into_a_new_session(bot: Bot) -> None:
    # Today's main: a stock read-back left on Monday was applied by a "好的" on Friday.
    assert "剩余数量改为200斤" in bot.say(CONTACT_LJ, "腊肉还剩两百斤").text
    bot.say(CONTACT_LJ, "/session_start")
    assert "已更新" not in bot.say(CONTACT_LJ, "确认").text
    with bot.sessions() as session:
        bacon = session.scalars(select(Listing).join(Product).where(Product.name == "腊肉")).first()
        assert bacon is not None and bacon.remaining_quantity == Decimal(800)
