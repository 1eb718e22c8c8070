"""Private data kept private: household names and buyers' phones by role, and the purge of old personal data."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from actions.common import Services
from actions.search import ActionSearchProducts
from bot.scheduler import privacy_purge_job
from fupin.catalog.search import CatalogSearch
from fupin.db import make_engine, make_session_factory
from fupin.maintenance.privacy import EVENTS, PHONE_REMOVED, months_before, purge, start_of
from fupin.models import Buyer, Listing, Notification, Order, Product, Village, utcnow
from fupin.orders.lifecycle import change_order, place_order
from fupin.outreach.users import bind_user, identify
from fupin.periods import quarter_of, today
from fupin.reporting.overview import overview
from fupin.reporting.quarter import lead_unit_report, township_report
from fupin.settings import TIMEZONE, Settings
from fupin.setup import seed_demo
from fupin.values import OrderStatus, Quantity, Role, SupplyMethod
from tests.conftest import Cli, Database

CONTACT = "telegram:61001"  # 龙角镇's supply contact
BUYER = "telegram:61002"
PHONES = {"paid": "13900000001", "cancelled": "13900000002", "rejected": "13900000003"}
OPEN_PHONE = "13900000004"  # delivered, not yet paid: the order is still open
RECENT_PHONE = "13900000005"  # paid, but after the purge date
OLD = datetime(2024, 3, 1, tzinfo=TIMEZONE)
BEFORE = datetime(2025, 1, 1, tzinfo=TIMEZONE)


@pytest.fixture
def demo(db: Database) -> Database:
    """The demo catalogue with a Telegram contact for 龙角镇 and a Telegram buyer."""
    assert seed_demo(db.sessions).ok
    with db.sessions() as session, session.begin():
        bind_user(session, CONTACT, Role.CONTACT, township="龙角镇")
        bind_user(session, BUYER, Role.BUYER)
    return db


def _potato(session: Session) -> int:
    return session.scalars(
        select(Listing.id).join(Product).join(Village).where(Product.name == "土豆", Village.short_name == "张家村")
    ).one()


def _order(db: Database, phone: str, unit: str = "县人民医院食堂") -> str:
    with db.sessions() as session, session.begin():
        order, _quote = place_order(
            session,
            sender_id=BUYER,
            listing_id=_potato(session),
            quantity=Quantity(Decimal(10), "斤"),
            buyer_name=unit,
            phone=phone,
            supply_method=SupplyMethod.DELIVERY,
        )
        return order.order_no


def _change(db: Database, order_no: str, *actions: str) -> None:
    for action in actions:
        actor = BUYER if action == "cancel" else CONTACT
        with db.sessions() as session, session.begin():
            change_order(session, order_no, action, identify(session, actor))


def _age(db: Database, order_no: str, when: datetime) -> None:
    with db.sessions() as session, session.begin():
        session.execute(update(Order).where(Order.order_no == order_no).values(updated_at=when, created_at=when))
        session.execute(update(Buyer).values(created_at=when))
        # Its pushes were written while it changed.
        session.execute(
            update(Notification)
            .where(Notification.dedupe_key.contains(f":{order_no}:"))
            .values(created_at=when)
            .execution_options(synchronize_session=False)
        )


# --- who sees what ---------------------------------------------------------------------------------------


def _search_answer(db: Database, sender: str) -> str:
    tracker = Tracker(
        sender,
        {},
        {
            "text": "张家村的土豆",
            "entities": [{"entity": "product", "value": "土豆"}, {"entity": "location", "value": "张家村"}],
        },
        [],
        False,
        None,
        {},
        "",
    )
    dispatcher = CollectingDispatcher()
    services = Services(sessions=db.sessions, search=CatalogSearch(db.sessions))
    asyncio.run(ActionSearchProducts(services).run(dispatcher, tracker, {}))
    return "\n".join(str(m.get("text")) for m in dispatcher.messages)


def test_a_search_answer_names_the_household_only_for_its_contacts_and_admins(demo: Database) -> None:
    with demo.sessions() as session, session.begin():
        bind_user(session, "console:admin", Role.ADMIN)
        bind_user(session, "console:nx", Role.CONTACT, township="泥溪镇")
    anonymous = _search_answer(demo, "console:someone")
    # Place, product, stock, price, supply methods and the collective's contact: for everyone.
    for part in ("龙角镇张家村", "土豆", "剩2000斤", "1.5元/斤", "送货上门", "李xx 17723635558"):
        assert part in anonymous, anonymous
    assert "王某某" not in anonymous
    assert "王某某" not in _search_answer(demo, "console:nx")  # another township's contact
    assert "王某某" not in _search_answer(demo, BUYER)
    assert "龙角镇张家村 王某某 土豆" in _search_answer(demo, CONTACT)
    assert "龙角镇张家村 王某某 土豆" in _search_answer(demo, "console:admin")


def test_pushes_carry_the_buyer_phone_to_the_listing_contacts_only(demo: Database) -> None:
    order_no = _order(demo, PHONES["paid"])
    _change(demo, order_no, "confirm")
    with demo.sessions() as session:
        contact = identify(session, CONTACT).user_id
        buyer = identify(session, BUYER).user_id
        pushes = session.execute(select(Notification.user_id, Notification.text)).all()
    to_contact = [text for user_id, text in pushes if user_id == contact]
    to_buyer = [text for user_id, text in pushes if user_id == buyer]
    assert to_contact and all(PHONES["paid"] in text for text in to_contact)
    assert to_buyer and not any(PHONES["paid"] in text for text in to_buyer)  # nothing the buyer lacks
    assert {user_id for user_id, _text in pushes} == {contact, buyer}


# --- the purge -------------------------------------------------------------------------------------------


def _figures(session: Session) -> tuple[object, ...]:
    period = quarter_of(today())
    township_id = session.get(Listing, _potato(session)).township_id  # type: ignore[union-attr]
    return (
        overview(session, period),
        township_report(session, period, township_id),
        lead_unit_report(session, period, "县卫生健康委"),
    )


def _events(db: Database, *stamps: datetime) -> None:
    EVENTS.metadata.create_all(db.engine)  # Rasa's table (the SQL tracker store creates it on first use)
    with db.engine.begin() as connection:
        connection.execute(insert(EVENTS), [{"sender_id": BUYER, "timestamp": stamp.timestamp()} for stamp in stamps])


def _phones(db: Database) -> dict[str, str]:
    with db.sessions() as session:
        return dict(session.execute(select(Order.order_no, Order.phone)).all())


def test_purge_removes_old_conversations_and_closed_orders_phones_and_keeps_every_figure(demo: Database) -> None:
    paid = _order(demo, PHONES["paid"])
    cancelled = _order(demo, PHONES["cancelled"])
    rejected = _order(demo, PHONES["rejected"])
    unpaid = _order(demo, OPEN_PHONE)
    recent = _order(demo, RECENT_PHONE, unit="县第一中学")
    _change(demo, paid, "confirm", "deliver", "pay")
    _change(demo, cancelled, "cancel")
    _change(demo, rejected, "reject")
    _change(demo, unpaid, "confirm", "deliver")
    _change(demo, recent, "confirm", "deliver", "pay")
    for order_no in (paid, cancelled, rejected, unpaid):
        _age(demo, order_no, OLD)
    _events(demo, OLD, BEFORE - timedelta(seconds=1), BEFORE + timedelta(days=1))
    with demo.sessions() as session:
        figures = _figures(session)
    with demo.sessions() as session:
        assert any(PHONES["paid"] in text for text in session.scalars(select(Notification.text)))

    with demo.sessions() as session, session.begin():
        result = purge(session, BEFORE)
    assert (result.events, result.orders) == (2, 3)
    assert result.pushes >= 3  # the new-order pushes to the contact at least

    phones = _phones(demo)
    assert (phones[paid], phones[cancelled], phones[rejected]) == ("", "", "")
    assert (phones[unpaid], phones[recent]) == (OPEN_PHONE, RECENT_PHONE)  # open, or too recent
    with demo.sessions() as session:
        texts = list(session.scalars(select(Notification.text)))
        left = session.scalars(select(EVENTS.c.timestamp)).all()
        buyers = dict(session.execute(select(Buyer.name, Buyer.phone)).all())
        assert _figures(session) == figures  # forms and overview unchanged
    assert not any(phone in text for text in texts for phone in PHONES.values())
    assert any(PHONE_REMOVED in text for text in texts)
    assert any(OPEN_PHONE in text for text in texts)
    assert left == [(BEFORE + timedelta(days=1)).timestamp()]
    # The unit still has an open order with its phone; the school's order is recent.
    assert buyers == {"县人民医院食堂": PHONES["paid"], "县第一中学": RECENT_PHONE}

    with demo.sessions() as session, session.begin():
        assert purge(session, BEFORE).orders == 0  # nothing left to do a second time


def test_a_units_phone_goes_once_no_order_keeps_one(demo: Database) -> None:
    order_no = _order(demo, PHONES["cancelled"])
    _change(demo, order_no, "cancel")
    _age(demo, order_no, OLD)
    with demo.sessions() as session, session.begin():
        assert purge(session, BEFORE).buyers == 1
    with demo.sessions() as session:
        assert session.scalars(select(Buyer.phone)).all() == [""]


def test_purge_without_a_conversation_table_and_with_a_naive_date(demo: Database) -> None:
    with demo.sessions() as session, session.begin():
        assert purge(session, BEFORE).events == 0
        with pytest.raises(ValueError, match="aware"):
            purge(session, datetime(2025, 1, 1))


def test_privacy_purge_command(cli: Cli, tmp_path: Path) -> None:
    assert cli("db", "init").returncode == 0
    database = Database(
        f"sqlite:///{tmp_path / 'cli.db'}", engine := make_engine(f"sqlite:///{tmp_path / 'cli.db'}"),
        make_session_factory(engine), "sqlite",
    )  # fmt: skip
    try:
        assert seed_demo(database.sessions).ok
        with database.sessions() as session, session.begin():
            bind_user(session, CONTACT, Role.CONTACT, township="龙角镇")
        order_no = _order(database, PHONES["cancelled"])
        _change(database, order_no, "cancel")
        _age(database, order_no, OLD)
        _events(database, OLD)
        done = cli("privacy", "purge", "--before", "2025-01-01")
        assert done.returncode == 0, done
        assert "已清除2025-01-01之前的个人信息" in done.stdout
        assert "删除对话记录1条" in done.stdout and "清除已结束订单的采购方电话1个" in done.stdout
        assert _phones(database) == {order_no: ""}
    finally:
        engine.dispose()
    assert cli("privacy", "purge", "--before", "2025-13-01").returncode == 2  # not a date


def test_the_monthly_job_purges_what_is_older_than_the_retention(
    demo: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    if demo.backend != "sqlite":
        pytest.skip("the job reads DATABASE_URL; one backend is enough")
    order_no = _order(demo, PHONES["paid"])
    _change(demo, order_no, "cancel")
    _age(demo, order_no, utcnow() - timedelta(days=30 * 25))
    kept = _order(demo, RECENT_PHONE)
    _change(demo, kept, "cancel")
    _age(demo, kept, utcnow() - timedelta(days=30 * 23))
    monkeypatch.setenv("DATABASE_URL", demo.url)
    monkeypatch.delenv("PRIVACY_RETENTION_MONTHS", raising=False)
    with caplog.at_level(logging.INFO, logger="fupin.maintenance.privacy"):
        result = privacy_purge_job()
    assert result.orders == 1 and "privacy purge" in caplog.text
    assert _phones(demo) == {order_no: "", kept: RECENT_PHONE}


def test_retention_setting_and_months() -> None:
    assert Settings().privacy_retention_months == 24
    assert Settings.from_env({"PRIVACY_RETENTION_MONTHS": "6"}).privacy_retention_months == 6
    assert months_before(datetime(2026, 3, 31, 12, tzinfo=TIMEZONE), 1) == datetime(2026, 2, 28, 12, tzinfo=TIMEZONE)
    assert months_before(datetime(2026, 1, 15, tzinfo=TIMEZONE), 24) == datetime(2024, 1, 15, tzinfo=TIMEZONE)
    assert start_of(date(2025, 1, 1)) == BEFORE
    assert "PRIVACY_RETENTION_MONTHS=24" in (Path(__file__).parent.parent / ".env.example").read_text(encoding="utf-8")


def test_an_order_closed_today_is_not_purged_before_the_retention(demo: Database) -> None:
    order_no = _order(demo, PHONES["paid"])
    _change(demo, order_no, "cancel")
    with demo.sessions() as session, session.begin():
        assert purge(session, months_before(utcnow(), 24)).orders == 0
    assert _phones(demo)[order_no] == PHONES["paid"]
    with demo.sessions() as session:
        assert session.scalars(select(Order.status)).one() == OrderStatus.CANCELLED.value
