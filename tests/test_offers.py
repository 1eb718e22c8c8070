"""Pre-orders (预售) and adoptions (认养): the 附件1 markers, the expected harvest, the harvest filling pre-orders
in placing order (whole, in part, not at all) with every movement a ledger row, adoption updates and their pushes."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from fupin.catalog import ledger
from fupin.catalog.files import import_catalog_file
from fupin.catalog.search import CatalogSearch
from fupin.logistics.records import ShipmentInput
from fupin.models import AdoptionUpdate, Listing, MoveKind, Notification, Order, Product, SaleRecord, StockMove, User
from fupin.offers.adoption import adopters, send_update
from fupin.offers.expected import announce_expected, parse_expected
from fupin.offers.harvest import confirm_harvest, preview
from fupin.offers.moves import OfferError
from fupin.offers.terms import find_month, read_remark
from fupin.offers.wording import offer_line
from fupin.orders.lifecycle import change_order, place_order, quote
from fupin.orders.shipping import deliver
from fupin.outreach.users import bind_user, identify
from fupin.periods import today
from fupin.values import Carrier, OfferKind, Price, Quantity, Role, SupplyMethod
from tests.conftest import Database
from tests.helpers import row, write_xlsx

CONTACT = "telegram:9301"  # 龙角镇's township contact
OTHER_CONTACT = "telegram:9302"  # 泥溪镇's
ADMIN = "telegram:9303"
JIN = "斤"
PIG_TERMS = "一头年猪，约200斤，腊月交付"


@pytest.fixture
def people(db: Database) -> Database:
    """Contacts of 龙角镇 and 泥溪镇, and an admin."""
    with db.sessions() as session, session.begin():
        bind_user(session, CONTACT, Role.CONTACT, township="龙角镇", display_name="李xx")
        bind_user(session, OTHER_CONTACT, Role.CONTACT, township="泥溪镇")
        bind_user(session, ADMIN, Role.ADMIN)
    return db


def _import(db: Database, tmp_path: Path, rows: list[tuple[str, ...]], name: str = "龙角镇.xlsx"):  # type: ignore[no-untyped-def]
    path = write_xlsx(tmp_path / name, rows)
    with db.sessions() as session, session.begin():
        return import_catalog_file(session, path)


ORANGES = row(product="脐橙", quantity="5000斤", price="3元/斤", remarks="预售，12月上市")
PIGS = row(product="年猪", household="张某某", quantity="10头", price="3000元/头", remarks=f"认养：{PIG_TERMS}")


def _listing(db: Database, product: str) -> int:
    with db.sessions() as session:
        return session.scalars(select(Listing.id).join(Product).where(Product.name == product)).one()


def _order(db: Database, listing_id: int, qty: int, buyer: str, unit: str = JIN) -> str:
    with db.sessions() as session, session.begin():
        order, _quote = place_order(
            session,
            sender_id=buyer,
            listing_id=listing_id,
            quantity=Quantity(Decimal(qty), unit),
            buyer_name=f"县第{buyer[-1]}中学食堂",
            phone="17723635558",
            supply_method=SupplyMethod.DELIVERY,
        )
        return order.order_no


def _figures(db: Database, listing_id: int) -> tuple[Decimal, Decimal, Decimal]:
    """available, held by open orders, planned — each also the sum of the listing's moves."""
    with db.sessions() as session:
        assert ledger.mismatches(session) == []
        now = ledger.figures(session, listing_id)
        return now.available, now.held, now.planned


def _moves(db: Database, listing_id: int) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    with db.sessions() as session:
        rows = session.execute(
            select(StockMove.kind, StockMove.quantity, StockMove.reserved_change, StockMove.planned_change)
            .where(StockMove.listing_id == listing_id)
            .order_by(StockMove.id)
        ).all()
        return [(k, q, r, p) for k, q, r, p in rows]


def _orders(db: Database, numbers: list[str]) -> list[tuple[str, Decimal, int, Decimal]]:
    """(status, quantity, amount in fen, held) of each order, in the order given."""
    with db.sessions() as session:
        found = {o.order_no: o for o in session.scalars(select(Order).where(Order.order_no.in_(numbers)))}
        return [(found[n].status, found[n].quantity, found[n].amount_fen, found[n].reserved_quantity) for n in numbers]


def _pushes(db: Database, external_id: str) -> list[Notification]:
    with db.sessions() as session:
        return list(
            session.scalars(
                select(Notification).join(User).where(User.external_id == external_id).order_by(Notification.id)
            )
        )


def _harvest(db: Database, listing_id: int, qty: int, sender: str = CONTACT):  # type: ignore[no-untyped-def]
    with db.sessions() as session, session.begin():
        return confirm_harvest(session, identify(session, sender), listing_id, Quantity(Decimal(qty), JIN))


# --- 附件1: the 备注 markers -----------------------------------------------------------------------------


def test_a_remark_marks_a_pre_order_or_an_adoption_and_a_bad_month_is_a_row_error(
    people: Database, tmp_path: Path
) -> None:
    bad = row(product="柚子", quantity="100斤", price="2元/斤", remarks="预售，13月上市")
    no_month = row(product="李子", quantity="100斤", price="2元/斤", remarks="预售")
    report = _import(people, tmp_path, [ORANGES, PIGS, bad, no_month, row()])
    assert report.created == 3
    december = find_month("12月", today())
    assert december is not None
    with people.sessions() as session:
        oranges = session.get(Listing, _listing(people, "脐橙"))
        pigs = session.get(Listing, _listing(people, "年猪"))
        potatoes = session.get(Listing, _listing(people, "土豆"))
        assert oranges is not None and pigs is not None and potatoes is not None
        assert (oranges.offer, oranges.expected_month, oranges.remaining_quantity) == (
            "预售",
            december.month,
            Decimal(5000),
        )
        assert (pigs.offer, pigs.terms, pigs.unit, pigs.expected_month) == ("认养", PIG_TERMS, "头", december.month)
        assert (potatoes.offer, potatoes.expected_month, potatoes.terms) == ("现货", None, "")
        assert oranges.remarks == "预售,12月上市"  # kept (folded as every remark): the county export re-imports it
    reasons = [(issue.row, issue.column, issue.reason) for issue in report.issues]
    # The sheet's rows 7 and 8 (title, meta and header above the numbered rows), in column J.
    assert reasons[0][:2] == (7, "J列“备注”") and "13月" in reasons[0][2] and "预售，12月上市" in reasons[0][2]
    assert reasons[1][:2] == (8, "J列“备注”") and "没有写上市月份" in reasons[1][2]
    # The search tags them.
    views = {v.product: v for v in CatalogSearch(people.sessions).search(place="龙角镇", limit=10).listings}
    assert views["脐橙"].offer_tag == f"预售·{december.month.month}月上市"
    assert views["年猪"].offer_tag == "认养" and views["土豆"].offer_tag == ""


def test_reading_remarks_and_months() -> None:
    on = date(2026, 11, 5)
    assert find_month("明年3月上市", on).month == date(2027, 3, 1)  # type: ignore[union-attr]
    assert find_month("10月上市", on).month == date(2027, 10, 1)  # type: ignore[union-attr]  # past: next year's
    assert find_month("十一月", on).month == date(2026, 11, 1)  # type: ignore[union-attr]
    assert find_month("认养期3个月", on) is None
    assert read_remark("中蜂土蜂蜜", on) is None
    adoption = read_remark(f"认养：{PIG_TERMS}", on)
    assert (
        adoption is not None and adoption.offer is OfferKind.ADOPTION and adoption.expected_month == date(2026, 12, 1)
    )


def test_a_file_sent_again_keeps_a_pre_order_and_never_reopens_a_harvest(people: Database, tmp_path: Path) -> None:
    _import(people, tmp_path, [ORANGES, row()])
    oranges = _listing(people, "脐橙")
    _harvest(people, oranges, 3000)
    _import(people, tmp_path, [ORANGES, row()])  # the township sends the same file next month
    with people.sessions() as session:
        listing = session.get(Listing, oranges)
        assert listing is not None and listing.offer == "现货"


# --- the expected harvest ----------------------------------------------------------------------------------


def test_parsing_an_expected_harvest_and_its_problems() -> None:
    on = date(2026, 11, 5)
    said = parse_expected("脐橙12月上市，预计5000斤，预订价3元一斤", on=on)
    assert said.ok and said.product == "脐橙" and said.month == date(2026, 12, 1)
    assert said.quantity == Quantity(Decimal(5000), JIN) and said.price is not None and said.price.fen == 300
    bad = parse_expected("脐橙13月上市", on=on)
    assert not bad.ok and any("13月" in p for p in bad.problems) and any("预计数量" in p for p in bad.problems)
    assert not parse_expected("预计5000斤", on=on).ok


def test_a_contact_turns_a_listing_into_a_pre_order_and_changes_it(people: Database, tmp_path: Path) -> None:
    _import(people, tmp_path, [row(product="脐橙", quantity="300斤", price="3.5元/斤")])
    oranges = _listing(people, "脐橙")
    said = parse_expected("脐橙12月上市，预计5000斤，预订价3元一斤")
    with people.sessions() as session, session.begin():
        done = announce_expected(session, identify(session, CONTACT), said)
    assert (done.listing_id, done.created) == (oranges, False)
    assert "已登记预售" in done.text and "5000斤" in done.text
    assert _figures(people, oranges) == (Decimal(5000), Decimal(0), Decimal(5000))  # plan raised to cover it
    first = _order(people, oranges, 1200, "telegram:9401")
    # A lower expectation: available is what is expected less what is pre-ordered.
    with people.sessions() as session, session.begin():
        announce_expected(session, identify(session, CONTACT), parse_expected("脐橙12月上市，预计4000斤"))
    assert _figures(people, oranges) == (Decimal(2800), Decimal(1200), Decimal(5000))
    kinds = [m[0] for m in _moves(people, oranges)]
    assert kinds == ["plan", "expected", "reserve", "expected"]
    with people.sessions() as session:
        listing = session.get(Listing, oranges)
        assert listing is not None and (listing.offer, listing.price_fen) == ("预售", 300)
        order = session.scalars(select(Order).where(Order.order_no == first)).one()
        assert order.offer == "预售"


def test_a_new_pre_order_listing_and_the_refusals(people: Database, tmp_path: Path) -> None:
    _import(people, tmp_path, [row()])
    with people.sessions() as session, session.begin():
        done = announce_expected(
            session, identify(session, CONTACT), parse_expected("核桃9月上市，预计800斤，预订价15元一斤")
        )
    assert done.created
    assert _figures(people, done.listing_id) == (Decimal(800), Decimal(0), Decimal(800))
    with people.sessions() as session:
        listing = session.get(Listing, done.listing_id)
        assert listing is not None and listing.offer == "预售" and listing.contact is not None
        assert listing.township.name == "龙角镇" and listing.contact.name == "李xx"
    with people.sessions() as session, session.begin():
        with pytest.raises(OfferError, match="供货联系人"):
            announce_expected(session, identify(session, "telegram:9499"), parse_expected("核桃9月上市，预计800斤"))
        with pytest.raises(OfferError, match="预订价"):
            announce_expected(session, identify(session, CONTACT), parse_expected("花椒9月上市，预计100斤"))
        with pytest.raises(OfferError, match="上市月份"):
            announce_expected(session, identify(session, CONTACT), parse_expected("核桃预计800斤"))


# --- the harvest ---------------------------------------------------------------------------------------------


def test_the_harvest_fills_pre_orders_in_placing_order_partly_fills_one_and_releases_the_rest(
    people: Database, tmp_path: Path
) -> None:
    _import(people, tmp_path, [ORANGES])
    oranges = _listing(people, "脐橙")
    numbers = [
        _order(people, oranges, qty, buyer)
        for qty, buyer in (
            (2000, "telegram:9401"),
            (1500, "telegram:9402"),
            (1000, "telegram:9403"),
            (400, "telegram:9404"),
        )
    ]
    change_order_as(people, numbers[0], "confirm", CONTACT)
    assert _figures(people, oranges) == (Decimal(100), Decimal(4900), Decimal(5000))
    with people.sessions() as session:
        said = preview(session, oranges, Quantity(Decimal(4200), JIN))
    assert "4个预订中2个全部满足，1个部分满足，1个未满足" in said and "剩余0斤" in said
    result = _harvest(people, oranges, 4200)
    assert [f.order_no for f in result.filled] == numbers[:2]
    assert [(f.order_no, f.filled, f.amount_fen) for f in result.partly] == [(numbers[2], Decimal(700), 210000)]
    assert [f.order_no for f in result.unfilled] == [numbers[3]]
    assert result.left == Quantity(Decimal(0), JIN)
    assert _orders(people, numbers) == [
        ("已确认", Decimal(2000), 600000, Decimal(2000)),
        ("待确认", Decimal(1500), 450000, Decimal(1500)),
        ("待确认", Decimal(700), 210000, Decimal(700)),
        ("未满足", Decimal(400), 120000, Decimal(0)),
    ]
    # available 0, held 2000 + 1500 + 700, plan unchanged (5000 covers 4200 promised)
    assert _figures(people, oranges) == (Decimal(0), Decimal(4200), Decimal(5000))
    assert _moves(people, oranges) == [
        ("plan", Decimal(5000), Decimal(0), Decimal(5000)),
        ("reserve", Decimal(-2000), Decimal(2000), Decimal(0)),
        ("reserve", Decimal(-1500), Decimal(1500), Decimal(0)),
        ("reserve", Decimal(-1000), Decimal(1000), Decimal(0)),
        ("reserve", Decimal(-400), Decimal(400), Decimal(0)),
        ("release", Decimal(300), Decimal(-300), Decimal(0)),  # the partly filled order's 300斤
        ("release", Decimal(400), Decimal(-400), Decimal(0)),  # the unfilled order
        ("harvest", Decimal(-800), Decimal(0), Decimal(0)),  # 100 expected left + 700 released → 0 on sale
    ]
    with people.sessions() as session:
        listing = session.get(Listing, oranges)
        assert listing is not None and listing.offer == "现货"
    # Every buyer hears what happened to their order; the contact who confirmed it gets the reply, not a push.
    assert "已经收获，可以供货了" in _pushes(people, "9401")[-1].text
    assert "已经收获" in _pushes(people, "9402")[-1].text
    partly = _pushes(people, "9403")[-1].text
    assert "只能满足700斤" in partly and "金额改为2100元" in partly and f"取消订单{numbers[2]}" in partly
    assert "没能满足" in _pushes(people, "9404")[-1].text and "未满足" in _pushes(people, "9404")[-1].text
    assert all(p.kind != "harvest_summary" for p in _pushes(people, "9301"))
    # The partly filled buyer cancels: the 700斤 come back for sale.
    change_order_as(people, numbers[2], "cancel", "telegram:9403")
    assert _figures(people, oranges) == (Decimal(700), Decimal(3500), Decimal(5000))
    # An order placed now is goods in hand.
    later = _order(people, oranges, 100, "telegram:9405")
    with people.sessions() as session:
        assert session.scalars(select(Order.offer).where(Order.order_no == later)).one() == "现货"


def change_order_as(db: Database, order_no: str, action: str, sender: str) -> None:
    with db.sessions() as session, session.begin():
        change_order(session, order_no, action, identify(session, sender))


def test_a_bigger_harvest_fills_everything_and_raises_the_plan(people: Database, tmp_path: Path) -> None:
    _import(people, tmp_path, [ORANGES])
    oranges = _listing(people, "脐橙")
    first = _order(people, oranges, 2000, "telegram:9401")
    cancelled = _order(people, oranges, 500, "telegram:9402")
    change_order_as(people, cancelled, "cancel", "telegram:9402")  # a cancelled pre-order is not filled
    result = _harvest(people, oranges, 6000, sender=ADMIN)
    assert [f.order_no for f in result.filled] == [first] and not result.partly and not result.unfilled
    assert _figures(people, oranges) == (Decimal(4000), Decimal(2000), Decimal(6000))
    assert _moves(people, oranges)[-1] == ("harvest", Decimal(1000), Decimal(0), Decimal(1000))
    # The admin confirmed it: the township's contact gets the summary.
    summary = [p.text for p in _pushes(people, "9301") if p.kind == "harvest_summary"]
    assert summary and "实际收获6000斤" in summary[0] and "剩余可售4000斤" in summary[0]


def test_a_harvest_after_a_sold_out_holds_the_filled_orders_again(people: Database, tmp_path: Path) -> None:
    from fupin.catalog.stock import StockChange, StockKind, apply

    _import(people, tmp_path, [ORANGES])
    oranges = _listing(people, "脐橙")
    numbers = [_order(people, oranges, 1000, "telegram:9401"), _order(people, oranges, 1000, "telegram:9402")]
    with people.sessions() as session, session.begin():
        apply(session, identify(session, CONTACT), StockChange(oranges, StockKind.SOLD_OUT))
    assert _figures(people, oranges) == (Decimal(0), Decimal(0), Decimal(5000))
    _harvest(people, oranges, 1500)
    assert _orders(people, numbers) == [
        ("待确认", Decimal(1000), 300000, Decimal(1000)),
        ("待确认", Decimal(500), 150000, Decimal(500)),
    ]
    assert _figures(people, oranges) == (Decimal(0), Decimal(1500), Decimal(5000))
    assert _moves(people, oranges)[-1] == ("harvest", Decimal(0), Decimal(1500), Decimal(0))


def test_who_may_confirm_a_harvest_and_of_what(people: Database, tmp_path: Path) -> None:
    _import(people, tmp_path, [ORANGES, row()])
    with people.sessions() as session, session.begin():
        nobody = identify(session, OTHER_CONTACT)
        with pytest.raises(OfferError, match="自己负责"):
            confirm_harvest(session, nobody, _listing(people, "脐橙"), Quantity(Decimal(10), JIN))
        with pytest.raises(OfferError, match="不是预售"):
            confirm_harvest(session, identify(session, CONTACT), _listing(people, "土豆"), Quantity(Decimal(10), JIN))
        with pytest.raises(OfferError, match="按“斤”"):
            confirm_harvest(session, identify(session, CONTACT), _listing(people, "脐橙"), Quantity(Decimal(10), "箱"))


# --- the order form's quote -----------------------------------------------------------------------------------


def test_the_quote_says_pre_order_or_adoption(people: Database, tmp_path: Path) -> None:
    _import(people, tmp_path, [ORANGES, PIGS])
    december = find_month("12月", today())
    assert december is not None
    with people.sessions() as session:
        orange = quote(session, _listing(people, "脐橙"), Quantity(Decimal(30), JIN), SupplyMethod.DELIVERY)
        pig = quote(session, _listing(people, "年猪"), Quantity(Decimal(1), "头"), SupplyMethod.DELIVERY)
    assert orange.offer is OfferKind.PRE_ORDER and orange.expected_month == december.month
    line = offer_line("脐橙", orange.offer, orange.expected_month, orange.terms)
    assert line.startswith(f"这是预订：脐橙预计{december.month.year}年12月上市")
    assert offer_line("年猪", pig.offer, pig.expected_month, pig.terms) == f"这是认养：{PIG_TERMS}"
    assert pig.amount_fen == 300000


# --- adoptions --------------------------------------------------------------------------------------------------


def test_an_adoption_update_reaches_every_adopter_with_its_photo(people: Database, tmp_path: Path) -> None:
    _import(people, tmp_path, [PIGS, row()])
    pigs = _listing(people, "年猪")
    kept = _order(people, pigs, 1, "telegram:9401", unit="头")
    _order(people, pigs, 2, "telegram:9402", unit="头")
    gone = _order(people, pigs, 1, "telegram:9403", unit="头")
    change_order_as(people, gone, "cancel", "telegram:9403")
    _order(people, pigs, 1, "console:adopter", unit="头")  # an adopter the outbox cannot reach
    with people.sessions() as session, session.begin():
        assert len(adopters(session, pigs)) == 3
        update = send_update(session, identify(session, CONTACT), None, "猪已经长到150斤了", "AgACAgUAAxkBAAIB")
        update_id, recipients = update.id, update.recipients
    assert recipients == 2
    for buyer in ("9401", "9402"):
        (push,) = [p for p in _pushes(people, buyer) if p.kind == "adoption_update"]
        assert push.text == "【认养进展】您认养的龙角镇张家村年猪：猪已经长到150斤了（附照片）"
        assert json.loads(push.attachments) == ["photo:AgACAgUAAxkBAAIB"]
    assert not [p for p in _pushes(people, "9403") if p.kind == "adoption_update"]
    with people.sessions() as session:
        stored = session.get(AdoptionUpdate, update_id)
        assert stored is not None and (stored.listing_id, stored.text, stored.photo_file_id, stored.recipients) == (
            pigs,
            "猪已经长到150斤了",
            "AgACAgUAAxkBAAIB",
            2,
        )
    # A text-only update by product name; a contact of elsewhere, or a listing that is no adoption, is refused.
    with people.sessions() as session, session.begin():
        again = send_update(session, identify(session, CONTACT), "年猪", "下周开始育肥")
        assert again.recipients == 2 and again.photo_file_id is None
        with pytest.raises(OfferError, match="没有认养产品"):
            send_update(session, identify(session, OTHER_CONTACT), None, "猪已经长到150斤了")
        with pytest.raises(OfferError, match="没有认养产品"):
            send_update(session, identify(session, CONTACT), "土豆", "长得很好")
        with pytest.raises(OfferError, match="认养产品的供货联系人"):
            send_update(session, identify(session, "telegram:9401"), None, "长得很好")
    # Delivery at the end writes the sale record as for any order.
    with people.sessions() as session, session.begin():
        deliver(session, kept, identify(session, CONTACT), ShipmentInput(Carrier.SELF))
    with people.sessions() as session:
        sale = session.scalars(select(SaleRecord).join(Order).where(Order.order_no == kept)).one()
        assert (sale.product_name, sale.quantity, sale.unit, sale.amount_fen) == ("年猪", Decimal(1), "头", 300000)
        assert ledger.mismatches(session) == []
    with people.sessions() as session:
        moves = session.scalars(select(StockMove.kind).where(StockMove.listing_id == pigs)).all()
        assert MoveKind.DELIVER.value in moves


def test_a_pre_sale_takes_no_stock_count_and_its_pre_orders_never_expire(people: Database, tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    from fupin.catalog.stock import StockError, StockKind, plan
    from fupin.orders.expiry import expire_unconfirmed
    from fupin.orders.rules import OrderRules

    _import(people, tmp_path, [ORANGES])
    oranges = _listing(people, "脐橙")
    number = _order(people, oranges, 100, "telegram:9411")
    with people.sessions() as session:
        for kind in (StockKind.SET, StockKind.ADD):
            with pytest.raises(StockError, match=r"预售产品.*实际收获"):
                plan(session, oranges, kind, Quantity(Decimal(4200), JIN), None)
        # A price change or 卖完了 (no more pre-orders taken) are still the contact's to make.
        assert plan(session, oranges, StockKind.SOLD_OUT, None, None).kind is StockKind.SOLD_OUT
    later = datetime.now(timezone.utc) + timedelta(days=90)
    with people.sessions() as session, session.begin():
        assert expire_unconfirmed(session, later, OrderRules()) == []
        order = session.scalars(select(Order).where(Order.order_no == number)).one()
        assert (order.status, order.reserved_quantity) == ("待确认", Decimal(100))


def test_the_order_form_says_what_can_still_be_pre_ordered_or_adopted() -> None:
    from fupin.offers.wording import available_phrase

    left = Quantity(Decimal(5000), JIN)
    assert available_phrase(OfferKind.PRE_ORDER, date(2026, 12, 1), "", left) == "预售（12月上市），还可预订5000斤"
    pigs = Quantity(Decimal(8), "头")
    assert available_phrase("认养", date(2027, 1, 1), PIG_TERMS, pigs) == f"认养（{PIG_TERMS}），还可认养8头"
    assert available_phrase(OfferKind.IN_HAND, None, "", left) == "还剩5000斤"


def test_a_month_named_from_today() -> None:
    on = date(2026, 12, 5)
    assert find_month("下个月就熟了", on).month == date(2027, 1, 1)  # type: ignore[union-attr]
    assert find_month("下下个月上市", on).month == date(2027, 2, 1)  # type: ignore[union-attr]
    assert find_month("本月底上市", on).month == date(2026, 12, 1)  # type: ignore[union-attr]
    assert find_month("再过一个月就能摘了", on).month == date(2027, 1, 1)  # type: ignore[union-attr]
    assert find_month("两个月后出栏", on).month == date(2027, 2, 1)  # type: ignore[union-attr]
    said = parse_expected("我们村的脐橙下个月就熟了，估计有六千斤，想先接预订，两块八一斤", "脐橙", on)
    assert said.ok and (said.month, said.quantity, said.price) == (
        date(2027, 1, 1),
        Quantity(Decimal(6000), JIN),
        Price(280, JIN),
    )
    later = parse_expected("黄龙村脐橙再过一个月就能摘了，估摸五千来斤，有要的先报名，三块一斤", "脐橙", on)
    assert later.ok and (later.month, later.quantity, later.price) == (
        date(2027, 1, 1),
        Quantity(Decimal(5000), JIN),
        Price(300, JIN),
    )
