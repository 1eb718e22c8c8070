"""Payment discipline (防止拖欠货款): the hold on new orders after 60 unpaid days, its lifting, the overdue report."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select, update

from bot.cli.main import main as cli
from fupin.models import Listing, Order, PaymentHoldLift, Product
from fupin.orders.lifecycle import OrderError, change_order, place_order
from fupin.orders.overdue import OverdueError, lift_hold, overdue_orders, unit_hold
from fupin.orders.rules import OrderRules
from fupin.outreach.users import bind_user, identify
from fupin.setup import seed_demo
from fupin.values import Quantity, Role, SupplyMethod
from tests.conftest import Database

HOSPITAL = "县人民医院食堂"
RULES = OrderRules(max_open_orders=0, max_share_percent=0)  # the hold alone


@pytest.fixture
def demo(db: Database) -> Database:
    """The demo catalogue with 龙角镇's contact."""
    assert seed_demo(db.sessions).ok
    with db.sessions() as session, session.begin():
        bind_user(session, "console:contact-lj", Role.CONTACT, township="龙角镇")
    return db


def _potatoes(db: Database) -> int:
    with db.sessions() as session:
        return session.scalars(
            select(Listing.id).join(Product).where(Product.name == "土豆", Listing.listing_key.contains("500235105"))
        ).one()


def _place(db: Database, sender: str, unit: str = HOSPITAL) -> str:
    with db.sessions() as session, session.begin():
        order, _offer = place_order(
            session,
            sender_id=sender,
            listing_id=_potatoes(db),
            quantity=Quantity(Decimal(10), "斤"),
            buyer_name=unit,
            phone="17723635558",
            supply_method=SupplyMethod.DELIVERY,
            rules=RULES,
        )
        return order.order_no


def _delivered(db: Database, sender: str, days_ago: int, unit: str = HOSPITAL) -> str:
    """An order of the unit placed by `sender`, delivered `days_ago` days ago and not paid."""
    order_no = _place(db, sender, unit)
    with db.sessions() as session, session.begin():
        change_order(session, order_no, "deliver", identify(session, "console:contact-lj"))
        when = datetime.now(timezone.utc) - timedelta(days=days_ago)
        session.execute(update(Order).where(Order.order_no == order_no).values(updated_at=when))
    return order_no


def test_a_unit_unpaid_sixty_days_after_delivery_may_not_order_until_it_pays(demo: Database) -> None:
    recent = _delivered(demo, "console:b1", 59)
    _place(demo, "console:b2")  # 59 days: still allowed
    old = _delivered(demo, "console:b1", 61)
    # Another canteen worker of the same unit is held back too: the unit owes.
    with pytest.raises(OrderError) as refused:
        _place(demo, "console:b3")
    assert f"{HOSPITAL}有1笔订单送达超过60天还没有付款（{old}）" in str(refused.value)
    assert recent not in str(refused.value) and "请先结清货款" in str(refused.value)
    # So is the user who placed it, ordering for another unit.
    with pytest.raises(OrderError, match=old):
        _place(demo, "console:b1", unit="县第一中学食堂")
    with demo.sessions() as session:
        assert session.scalar(select(Order).where(Order.user_id.is_(None))) is None
        assert len(session.scalars(select(Order)).all()) == 3  # nothing half-written by the refusals
    with demo.sessions() as session, session.begin():
        change_order(session, old, "pay", identify(session, "console:contact-lj"))
    _place(demo, "console:b3")


def test_an_admins_lifting_lets_the_unit_order_until_it_expires(demo: Database) -> None:
    old = _delivered(demo, "console:b1", 90)
    now = datetime.now(timezone.utc)
    with demo.sessions() as session, session.begin():
        lift = lift_hold(session, "人民医院食堂", "cli", "已承诺月底前付清", 30, now)
        assert lift.expires_at == now + timedelta(days=30)
    _place(demo, "console:b3")
    with demo.sessions() as session:
        assert unit_hold(session, HOSPITAL, None, now + timedelta(days=29), 60) is None
        later = unit_hold(session, HOSPITAL, None, now + timedelta(days=31), 60)
        assert later is not None and old in later
        (row,) = session.scalars(select(PaymentHoldLift)).all()
        assert (row.actor, row.reason) == ("cli", "已承诺月底前付清")


def test_a_lifting_needs_a_known_unit_a_reason_and_a_sensible_term(demo: Database) -> None:
    now = datetime.now(timezone.utc)
    with demo.sessions() as session, session.begin():
        with pytest.raises(OverdueError, match="没有找到采购单位“县不存在单位”"):
            lift_hold(session, "县不存在单位", "cli", "原因", 30, now)
        with pytest.raises(OverdueError, match="请写明解除原因"):
            lift_hold(session, HOSPITAL, "cli", "  ", 30, now)
        with pytest.raises(OverdueError, match="1到366天"):
            lift_hold(session, HOSPITAL, "cli", "原因", 0, now)


def test_the_hold_is_off_at_zero_days(demo: Database) -> None:
    _delivered(demo, "console:b1", 400)
    with demo.sessions() as session:
        assert unit_hold(session, HOSPITAL, None, datetime.now(timezone.utc), 0) is None


def test_the_overdue_report_lists_by_buyer_lead_unit_and_township(
    demo: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hospital = _delivered(demo, "console:b1", 45)
    school = _delivered(demo, "console:b2", 31, unit="县第一中学食堂")
    _delivered(demo, "console:b3", 10)  # not overdue yet
    with demo.sessions() as session:
        listed = overdue_orders(session, datetime.now(timezone.utc), 30)
    assert [(o.order_no, o.buyer, o.lead_unit, o.township, o.days) for o in listed] == [
        (hospital, HOSPITAL, "县卫生健康委", "龙角镇", 45),
        (school, "县第一中学食堂", "县教委", "龙角镇", 31),
    ]
    monkeypatch.setenv("DATABASE_URL", demo.url)
    out = tmp_path / "overdue.xlsx"
    assert cli(["report", "overdue", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "送达超过30天未付款的订单2笔，合计30元" in printed and str(out) in printed
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["明细", "按采购单位", "按牵头单位", "按乡镇"]
    rows = list(book["明细"].iter_rows(values_only=True))
    assert rows[0][:4] == ("订单号", "采购单位", "牵头单位", "乡镇") and rows[1][0] == hospital
    by_lead = list(book["按牵头单位"].iter_rows(values_only=True))
    assert ("县卫生健康委", 1, 15.0) in by_lead and ("县教委", 1, 15.0) in by_lead
    by_township = list(book["按乡镇"].iter_rows(values_only=True))
    assert ("龙角镇", 2, 30.0) in by_township
    assert cli(["report", "overdue", "--days", "60", "-o", str(tmp_path / "none.xlsx")]) == 0
    assert "没有送达超过60天未付款的订单" in capsys.readouterr().out


def test_lifting_a_hold_from_the_command_line(
    demo: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _delivered(demo, "console:b1", 70)
    monkeypatch.setenv("DATABASE_URL", demo.url)
    assert cli(["buyers", "lift-hold", HOSPITAL, "--days", "15", "--reason", "财政资金月底到位"]) == 0
    assert f"已解除{HOSPITAL}的欠款限制" in capsys.readouterr().out
    _place(demo, "console:b9")
    assert cli(["buyers", "lift-hold", "县不存在单位", "--reason", "x"]) == 1
    assert "没有找到采购单位" in capsys.readouterr().out
