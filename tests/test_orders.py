"""Orders: quoting, reservation, life cycle, permissions, purchase records, and no overselling."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fupin.models import Buyer, Listing, Order, Product, SaleRecord
from fupin.orders.buyers import find_or_register_buyer, guess_category
from fupin.orders.lifecycle import OrderError, change_order, orders_for, place_order, quote
from fupin.outreach.users import bind_user, identify
from fupin.setup import seed_demo
from fupin.values import BuyerCategory, OrderStatus, Quantity, Role, SupplyMethod
from tests.conftest import Database

JIN = "斤"


@pytest.fixture
def demo(db: Database) -> Database:
    """The demo catalogue, with a contact for 龙角镇 and an admin."""
    assert seed_demo(db.sessions).ok
    with db.sessions() as session, session.begin():
        bind_user(session, "console:contact-lj", Role.CONTACT, township="龙角镇", display_name="李xx")
        bind_user(session, "console:contact-nx", Role.CONTACT, township="泥溪镇")
        bind_user(session, "console:admin", Role.ADMIN)
    return db


def _potato(db: Database, township: str = "龙角镇") -> Listing:
    with db.sessions() as session:
        return session.scalars(
            select(Listing).join(Product).where(Product.name == "土豆", Listing.listing_key.contains("500235105"))
        ).one()


def _order(db: Database, sender: str = "console:buyer1", qty: str = "30", **kw: object) -> str:
    listing = _potato(db)
    with db.sessions() as session, session.begin():
        order, offer = place_order(
            session,
            sender_id=sender,
            listing_id=listing.id,
            quantity=Quantity(Decimal(qty), JIN),
            buyer_name=str(kw.get("buyer", "县人民医院食堂")),
            phone="17723635558",
            supply_method=SupplyMethod.DELIVERY,
        )
        assert offer.amount_fen == int(Decimal(qty) * 150)
        return order.order_no


def _remaining(db: Database) -> Decimal:
    return _potato(db).remaining_quantity


def test_quote_checks_stock_unit_and_method(demo: Database) -> None:
    listing = _potato(demo)
    with demo.sessions() as session:
        offer = quote(session, listing.id, Quantity(Decimal(30), JIN), SupplyMethod.PICKUP)
        assert (offer.amount_fen, offer.contact_phone, offer.place) == (4500, "17723635558", "龙角镇张家村")
        with pytest.raises(OrderError, match="只剩2000斤"):
            quote(session, listing.id, Quantity(Decimal(2001), JIN), SupplyMethod.DELIVERY)
        with pytest.raises(OrderError, match="按“斤”卖"):
            quote(session, listing.id, Quantity(Decimal(3), "箱"), SupplyMethod.DELIVERY)
        with pytest.raises(OrderError, match="只支持：送货上门、上门自提"):
            quote(session, listing.id, Quantity(Decimal(3), JIN), SupplyMethod.ECOMMERCE)
        with pytest.raises(OrderError, match="大于0"):
            quote(session, listing.id, Quantity(Decimal(0), JIN), SupplyMethod.DELIVERY)


def test_order_reserves_and_cancel_releases(demo: Database) -> None:
    order_no = _order(demo)
    assert order_no.startswith("XF") and _remaining(demo) == Decimal(1970)
    with demo.sessions() as session, session.begin():
        buyer = identify(session, "console:buyer1")
        assert [v.order_no for v in orders_for(session, buyer)] == [order_no]
        assert orders_for(session, identify(session, "console:stranger")) == []
        change_order(session, order_no, "cancel", buyer)
    assert _remaining(demo) == Decimal(2000)
    with demo.sessions() as session, session.begin(), pytest.raises(OrderError, match="已取消"):
        change_order(session, order_no, "cancel", identify(session, "console:buyer1"))


def test_contact_confirms_delivers_and_purchase_is_recorded(demo: Database) -> None:
    order_no = _order(demo)
    with demo.sessions() as session, session.begin():
        contact = identify(session, "console:contact-lj")
        assert [v.order_no for v in orders_for(session, contact)] == [order_no]
        assert change_order(session, order_no, "confirm", contact).status == OrderStatus.CONFIRMED.value
        change_order(session, order_no, "deliver", contact)
    with demo.sessions() as session:
        record = session.scalars(select(SaleRecord)).one()
        assert (record.buyer_name, record.product_name, record.quantity, record.unit) == (
            "县人民医院食堂",
            "土豆",
            30,
            JIN,
        )
        assert (record.amount_fen, record.household_name, record.remarks) == (4500, "王某某", "用于医院食堂")
        assert record.village_id is not None and record.source == "order"
    with demo.sessions() as session, session.begin():
        change_order(session, order_no, "pay", identify(session, "console:admin"))
    assert _remaining(demo) == Decimal(1970)  # delivered stock stays sold


def test_reject_releases_and_only_the_places_contact_may_act(demo: Database) -> None:
    order_no = _order(demo)
    with demo.sessions() as session, session.begin():
        for sender in ("console:contact-nx", "console:buyer1", "console:stranger"):
            with pytest.raises(OrderError, match="没有权限"):
                change_order(session, order_no, "confirm", identify(session, sender))
        change_order(session, order_no, "reject", identify(session, "console:contact-lj"))
    assert _remaining(demo) == Decimal(2000)


def test_pressing_a_button_twice_acts_once(demo: Database) -> None:
    order_no = _order(demo)
    with demo.sessions() as session, session.begin():
        change_order(session, order_no, "deliver", identify(session, "console:contact-lj"))
    with demo.sessions() as session, session.begin(), pytest.raises(OrderError, match="已送达"):
        change_order(session, order_no, "deliver", identify(session, "console:contact-lj"))
    with demo.sessions() as session:
        assert session.scalar(select(func.count(SaleRecord.id))) == 1


def test_fifty_buyers_at_once_never_oversell(demo: Database) -> None:
    # 2000 斤 in stock, 50 buyers want 100 斤 each: exactly 20 succeed.
    def attempt(index: int) -> bool:
        try:
            _order(demo, sender=f"console:b{index}", qty="100", buyer=f"县第{index}中学食堂")
            return True
        except OrderError:
            return False

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(attempt, range(50)))
    assert sum(results) == 20
    assert _remaining(demo) == Decimal(0)
    with demo.sessions() as session:
        assert session.scalar(select(func.sum(Order.quantity))) == Decimal(2000)


def test_buyers_are_matched_or_registered_with_category(demo: Database) -> None:
    assert guess_category("县人民医院食堂") is BuyerCategory.HOSPITAL
    assert guess_category("云阳中学") is BuyerCategory.SCHOOL
    assert guess_category("县商务委") is BuyerCategory.GOVERNMENT
    assert guess_category("三峡银行云阳支行") is BuyerCategory.ENTERPRISE
    assert guess_category("威海市机关事务局") is BuyerCategory.PAIRING_SHANDONG
    assert guess_category("张三") is BuyerCategory.PERSONAL
    with demo.sessions() as session, session.begin():
        buyer, created = find_or_register_buyer(session, "我们是县人民医院食堂")
        assert created and buyer.name == "县人民医院食堂" and buyer.lead_unit == "县卫生健康委"
        again, created = find_or_register_buyer(session, "人民医院食堂")
        assert not created and again.id == buyer.id
        assert session.scalar(select(func.count(Buyer.id))) == 1


def test_reimporting_the_catalogue_keeps_open_orders_reserved(demo: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fupin.catalog.files import import_catalog_files
    from tests.helpers import row, write_xlsx

    _order(demo, qty="30")
    path = write_xlsx(tmp_path / "new.xlsx", [row(quantity="500斤", price="1.5元/斤", methods="送货上门、上门自提")])
    assert import_catalog_files(demo.sessions, [path]).ok
    assert _remaining(demo) == Decimal(470)


def test_two_first_orders_of_a_new_unit_at_once_make_one_buyer(db: Database) -> None:
    # The second registration's INSERT waits for the first transaction; when that commits, the name is taken.
    # Before the fix the second raised IntegrityError and its order was lost.
    with db.sessions() as first:
        mine, created = find_or_register_buyer(first, "县林业局食堂")
        assert created
        with ThreadPoolExecutor(max_workers=1) as pool:

            def register() -> tuple[int, bool]:
                with db.sessions() as second, second.begin():
                    theirs, made = find_or_register_buyer(second, "县林业局食堂")
                    return theirs.id, made

            other = pool.submit(register)
            time.sleep(1.0)  # the other transaction reaches its INSERT and waits on this one's
            first.commit()
            other_id, other_created = other.result(timeout=60)
    assert (other_id, other_created) == (mine.id, False)
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Buyer).where(Buyer.name == "县林业局食堂")) == 1
