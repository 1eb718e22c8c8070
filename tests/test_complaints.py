"""Quality complaints (质量投诉): who may file about which orders, every move and its refusal, the event rows,
the pushes, the daily reminder, the county's list (command line and workbook) and the overview's figures."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select, update

from fupin.complaints.filing import file_complaint
from fupin.complaints.handling import answer, close, escalate, settle, take_up
from fupin.complaints.pushes import ComplaintOp, complaint_action, parse_complaint_action
from fupin.complaints.queries import complaint_figures, complaints_for
from fupin.complaints.states import ComplaintError, find_complaint
from fupin.models import Complaint, ComplaintEvent, Listing, Notification, Order, Product
from fupin.orders.lifecycle import change_order, place_order
from fupin.orders.rules import OrderRules
from fupin.outreach.registration import issue_code, redeem_code
from fupin.outreach.reminders.config import ReminderConfig
from fupin.outreach.reminders.kinds import ReminderKind
from fupin.outreach.reminders.schedule import run_due
from fupin.outreach.users import bind_user, identify
from fupin.periods import Period
from fupin.reporting.overview import overview
from fupin.reporting.overview_workbook import write_overview
from fupin.settings import TIMEZONE, Settings
from fupin.setup import seed_demo
from fupin.values import ComplaintCategory, ComplaintStatus, OrderStatus, Quantity, Role, SupplyMethod
from tests.conftest import Cli, Database

BUYER = "telegram:9100"
OTHER_BUYER = "telegram:9101"
CONTACT = "telegram:9001"  # 龙角镇's township-level contact: answers for the potatoes of 张家村
NIXI_CONTACT = "telegram:9002"  # 泥溪镇's: nothing to do with 龙角镇's orders
MARKET = "telegram:9003"
ADMIN = "telegram:9004"
LEAD = "telegram:9005"
RULES = OrderRules(max_open_orders=0, max_share_percent=0)
NUMBER = re.compile(r"^TS\d{6}[2-9A-HJKMNP-Z]{4}$")


@pytest.fixture
def demo(db: Database) -> Database:
    """The demo catalogue with a contact of 龙角镇 and of 泥溪镇, a market-supervision user, an admin, a lead unit."""
    assert seed_demo(db.sessions).ok
    with db.sessions() as session, session.begin():
        bind_user(session, CONTACT, Role.CONTACT, township="龙角镇", display_name="李联系")
        bind_user(session, NIXI_CONTACT, Role.CONTACT, township="泥溪镇")
        bind_user(session, MARKET, Role.MARKET, display_name="市场监管王")
        bind_user(session, ADMIN, Role.ADMIN)
        bind_user(session, LEAD, Role.LEAD, lead_unit="县教委")
    return db


def _potatoes(db: Database) -> int:
    with db.sessions() as session:
        return session.scalars(
            select(Listing.id).join(Product).where(Product.name == "土豆", Listing.listing_key.contains("500235105"))
        ).one()


def _order(db: Database, status: OrderStatus = OrderStatus.DELIVERED, sender: str = BUYER) -> str:
    """An order of 10斤 of 龙角镇's potatoes by `sender`, brought to `status` the way people do it."""
    with db.sessions() as session, session.begin():
        order, _offer = place_order(
            session,
            sender_id=sender,
            listing_id=_potatoes(db),
            quantity=Quantity(Decimal(10), "斤"),
            buyer_name="县人民医院食堂",
            phone="17723635558",
            supply_method=SupplyMethod.DELIVERY,
            rules=RULES,
        )
        order_no = order.order_no
    steps = {
        OrderStatus.CONFIRMED: ["confirm"],
        OrderStatus.DELIVERED: ["confirm", "deliver"],
        OrderStatus.PAID: ["confirm", "deliver", "pay"],
        OrderStatus.REJECTED: ["reject"],
    }
    with db.sessions() as session, session.begin():
        if status is OrderStatus.CANCELLED:
            change_order(session, order_no, "cancel", identify(session, sender))
        elif status is OrderStatus.EXPIRED:
            session.execute(update(Order).where(Order.order_no == order_no).values(status=status.value))
        for step in steps.get(status, []):
            change_order(session, order_no, step, identify(session, CONTACT))
    return order_no


def _file(
    db: Database,
    order_no: str,
    sender: str = BUYER,
    category: ComplaintCategory | str = ComplaintCategory.QUALITY,
    text: str = "土豆有一半是烂的",
    photo: str | None = None,
) -> str:
    with db.sessions() as session, session.begin():
        return file_complaint(session, order_no, identify(session, sender), category, text, photo).complaint_no


def _act(db: Database, sender: str, action: str, number: str, note: str = "") -> ComplaintStatus:
    """One move by `sender`, committed; the complaint's status after it."""
    with db.sessions() as session, session.begin():
        actor = identify(session, sender)
        if action == "take":
            done = take_up(session, number, actor)
        elif action == "answer":
            done = answer(session, number, actor, note)
        elif action == "settle":
            done = settle(session, number, actor)
        elif action == "escalate":
            done = escalate(session, number, actor, note)
        else:
            done = close(session, number, actor, note)
        return ComplaintStatus(done.status)


def _refused(db: Database, sender: str, action: str, number: str, note: str = "x") -> str:
    """The Chinese reason a move is refused; asserts it changed nothing."""
    before = _state(db, number)
    with pytest.raises(ComplaintError) as refused:
        _act(db, sender, action, number, note)
    assert _state(db, number) == before
    return str(refused.value)


def _state(db: Database, number: str) -> tuple[str, int | None, int]:
    """(status, handler, number of events) as stored."""
    with db.sessions() as session:
        complaint = session.scalars(select(Complaint).where(Complaint.complaint_no == number)).one()
        events = session.scalars(select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint.id)).all()
        return complaint.status, complaint.handler_user_id, len(events)


def _uid(db: Database, sender: str) -> int:
    with db.sessions() as session:
        user_id = identify(session, sender).user_id
        assert user_id is not None
        return user_id


def _pushes(db: Database, kind: str) -> list[Notification]:
    with db.sessions() as session:
        return list(session.scalars(select(Notification).where(Notification.kind == kind).order_by(Notification.id)))


def _events(db: Database, number: str) -> list[tuple[str | None, str, int | None, str]]:
    with db.sessions() as session:
        complaint = session.scalars(select(Complaint).where(Complaint.complaint_no == number)).one()
        return [(e.from_status, e.to_status, e.actor_user_id, e.note) for e in complaint.events]


# ----------------------------------------------------------------------------------------------- filing


def test_the_buyer_files_a_complaint_and_contacts_market_staff_and_admins_are_told(demo: Database) -> None:
    order_no = _order(demo)
    before = datetime.now(timezone.utc)
    number = _file(demo, order_no, category="数量不足", text="  说好10斤，只有8斤  ", photo="AgACAgUAAxkBAAIB")
    with demo.sessions() as session:
        complaint = session.scalars(select(Complaint)).one()
        assert NUMBER.match(complaint.complaint_no) and complaint.complaint_no == number
        assert number[2:8] == f"{datetime.now(TIMEZONE):%y%m%d}"
        assert complaint.order.order_no == order_no and complaint.user_id == _uid(demo, BUYER)
        assert (complaint.category, complaint.text, complaint.photo_file_id) == (
            "数量不足",
            "说好10斤，只有8斤",
            "AgACAgUAAxkBAAIB",
        )
        assert (complaint.status, complaint.handler_user_id) == ("待处理", None)
        (event,) = complaint.events
        assert (event.from_status, event.to_status, event.actor_user_id) == (None, "待处理", _uid(demo, BUYER))
        assert before <= event.at <= datetime.now(timezone.utc) and event.at == complaint.created_at
    pushes = _pushes(demo, "complaint_new")
    assert {p.user_id for p in pushes} == {_uid(demo, CONTACT), _uid(demo, MARKET), _uid(demo, ADMIN)}
    for push in pushes:
        assert json.loads(push.buttons) == [["受理", f"complaint:take:{number}"]]
        assert push.dedupe_key == f"complaint_new:{number}:{push.user_id}"
        assert f"新的质量投诉 投诉 {number}（订单 {order_no}，县人民医院食堂 土豆10斤，龙角镇张家村）" in push.text
        assert "【数量不足】说好10斤，只有8斤（附照片）" in push.text and "17723635558" not in push.text


def test_only_the_orders_buyer_or_an_admin_may_complain(demo: Database) -> None:
    order_no = _order(demo)
    for sender in (OTHER_BUYER, CONTACT, MARKET, LEAD, "telegram:never-seen"):
        with pytest.raises(ComplaintError, match="只有下这个订单的采购方（或县里的管理员）可以投诉"):
            _file(demo, order_no, sender=sender)
    number = _file(demo, order_no, sender=ADMIN)  # on the buyer's behalf, by phone
    with demo.sessions() as session:
        assert session.scalars(select(Complaint.user_id)).all() == [_uid(demo, ADMIN)]
    # The admin who filed it hears nothing of their own complaint; the buyer may still settle it.
    assert _uid(demo, ADMIN) not in {p.user_id for p in _pushes(demo, "complaint_new")}
    assert _act(demo, BUYER, "settle", number) is ComplaintStatus.CLOSED


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (OrderStatus.PENDING, "还在等供货方确认，还没有发货；不想要了可以取消订单"),
        (OrderStatus.CANCELLED, "已经取消了，没有发货"),
        (OrderStatus.REJECTED, "已被供货方拒绝，没有发货"),
        (OrderStatus.EXPIRED, "供货方没有按时确认，已经过期，没有发货"),
    ],
)
def test_no_complaint_about_goods_never_sent(demo: Database, status: OrderStatus, reason: str) -> None:
    order_no = _order(demo, status)
    with pytest.raises(ComplaintError) as refused:
        _file(demo, order_no)
    assert str(refused.value) == f"订单 {order_no} {reason}，不能投诉质量问题。"
    with demo.sessions() as session:
        assert session.scalars(select(Complaint)).all() == [] and _pushes(demo, "complaint_new") == []


@pytest.mark.parametrize("status", [OrderStatus.CONFIRMED, OrderStatus.DELIVERED, OrderStatus.PAID])
def test_a_confirmed_delivered_or_paid_order_may_be_complained_about(demo: Database, status: OrderStatus) -> None:
    number = _file(demo, _order(demo, status), category=ComplaintCategory.NOT_DELIVERED, text="约好昨天送，没送到")
    assert _state(demo, number) == ("待处理", None, 1)


def test_one_open_complaint_per_order(demo: Database) -> None:
    order_no = _order(demo)
    first = _file(demo, order_no)
    with pytest.raises(ComplaintError) as refused:
        _file(demo, order_no.lower(), category="以次充好", text="还有好多小土豆")
    assert f"订单 {order_no} 已有投诉 {first} 还没有结案" in str(refused.value)
    _act(demo, CONTACT, "take", first)
    _act(demo, CONTACT, "answer", first, "已处理：补发10斤")  # 已解决 is not closed: the buyer confirms or escalates
    with pytest.raises(ComplaintError, match=first):
        _file(demo, order_no)
    _act(demo, BUYER, "settle", first)
    second = _file(demo, order_no, category="其他", text="补发的也有烂的")  # closed: a new complaint may be filed
    assert second != first and _state(demo, second) == ("待处理", None, 1)
    other = _file(demo, _order(demo))  # another order of the same buyer is another matter
    assert _state(demo, other)[0] == "待处理"


def test_two_complaints_about_one_order_at_the_same_moment_make_one(demo: Database) -> None:
    order_no = _order(demo)

    def attempt(n: int) -> str:
        try:
            return "filed " + _file(demo, order_no, text=f"第{n}次：烂了")
        except ComplaintError as exc:
            return str(exc)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(attempt, range(4)))
    filed = [r.removeprefix("filed ") for r in results if r.startswith("filed ")]
    assert len(filed) == 1, results
    assert all(f"已有投诉 {filed[0]} 还没有结案" in r for r in results if not r.startswith("filed "))
    with demo.sessions() as session:
        assert session.scalars(select(Complaint.complaint_no)).all() == filed
        assert len(session.scalars(select(ComplaintEvent)).all()) == 1


def test_what_a_complaint_must_say(demo: Database) -> None:
    order_no = _order(demo)
    with pytest.raises(ComplaintError, match="请写明投诉内容"):
        _file(demo, order_no, text="   ")
    with pytest.raises(ComplaintError, match=r"投诉内容.*最多500字"):
        _file(demo, order_no, text="烂" * 501)
    with pytest.raises(ComplaintError, match="投诉类别应为：质量、数量不足、以次充好、未送达、其他"):
        _file(demo, order_no, category="太贵了")
    with pytest.raises(ComplaintError, match="照片无法识别"):
        _file(demo, order_no, photo="x" * 201)
    with pytest.raises(ComplaintError, match="没有找到订单 XF000"):
        _file(demo, "XF000")
    assert len(_file(demo, order_no, text="烂" * 500)) == 12


# ------------------------------------------------------------------------------------------ transitions


def test_taken_up_answered_and_settled_with_every_event_and_push(demo: Database) -> None:
    order_no = _order(demo)
    number = _file(demo, order_no)
    buyer, contact, market = _uid(demo, BUYER), _uid(demo, CONTACT), _uid(demo, MARKET)
    assert _act(demo, CONTACT, "take", number) is ComplaintStatus.IN_HAND
    assert _state(demo, number) == ("处理中", contact, 2)
    assert _act(demo, CONTACT, "answer", number, " 已处理：补发10斤 ") is ComplaintStatus.RESOLVED
    assert _state(demo, number) == ("已解决", contact, 3)
    assert _act(demo, BUYER, "settle", number) is ComplaintStatus.CLOSED
    assert _events(demo, number) == [
        (None, "待处理", buyer, ""),
        ("待处理", "处理中", contact, ""),
        ("处理中", "已解决", contact, "已处理：补发10斤"),
        ("已解决", "已结案", buyer, ""),
    ]
    with demo.sessions() as session:
        complaint = session.scalars(select(Complaint)).one()
        times = [e.at for e in complaint.events]
        assert times == sorted(times) and complaint.updated_at == times[-1] and complaint.open_order_id is None
    status = _pushes(demo, "complaint_status")
    # Taking up: the buyer and market staff hear it, the contact who took it does not.
    taken = [p for p in status if "受理" in p.text and "处理结果" not in p.text]
    assert {p.user_id for p in taken} == {buyer, market}
    assert (
        next(p for p in taken if p.user_id == buyer).text == f"您的投诉 {number} 已由供货联系人李联系受理，正在处理。"
    )
    # The answer: the buyer gets it with the two buttons; market staff are told, without buttons.
    (to_buyer,) = [p for p in status if p.user_id == buyer and "处理结果" in p.text]
    assert "已处理：补发10斤" in to_buyer.text
    assert json.loads(to_buyer.buttons) == [
        ["确认解决", f"complaint:settle:{number}"],
        ["不满意，升级", f"complaint:escalate:{number}"],
    ]
    (to_market,) = [p for p in status if p.user_id == market and "答复" in p.text]
    assert f"投诉 {number} 已由供货联系人李联系答复：已处理：补发10斤。等采购方确认。" in to_market.text
    assert order_no in to_market.text and json.loads(to_market.buttons) == []
    # Settling: the handler and market staff, never the buyer who settled.
    settled = [p for p in status if "已结案" in p.text]
    assert {p.user_id for p in settled} == {contact, market}
    assert all(f"采购方已确认投诉 {number} 的问题解决，已结案。" in p.text for p in settled)
    # Keys name the complaint and the event: one push per (event, recipient); 泥溪镇's contact gets none.
    with demo.sessions() as session:
        event_ids = {str(e.id) for e in session.scalars(select(ComplaintEvent))}
    keys = [re.fullmatch(rf"complaint_status:{number}:e(\d+):(\d+)", p.dedupe_key or "") for p in status]
    assert all(
        k is not None and k[1] in event_ids and int(k[2]) == p.user_id for k, p in zip(keys, status, strict=True)
    )
    assert len({p.dedupe_key for p in status}) == len(status) == 2 + 2 + 2
    assert _uid(demo, NIXI_CONTACT) not in {p.user_id for p in _pushes(demo, "complaint_new") + status}


def test_escalated_to_market_staff_who_take_it_up_and_close_it(demo: Database) -> None:
    number = _file(demo, _order(demo))
    buyer, contact, market = _uid(demo, BUYER), _uid(demo, CONTACT), _uid(demo, MARKET)
    _act(demo, CONTACT, "take", number)
    _act(demo, CONTACT, "answer", number, "已退款5元")
    assert _act(demo, BUYER, "escalate", number, "只退5元不够") is ComplaintStatus.ESCALATED
    escalated = [p for p in _pushes(demo, "complaint_status") if "已升级到县市场监管" in p.text]
    assert {p.user_id for p in escalated} == {contact, market}
    (to_market,) = [p for p in escalated if p.user_id == market]
    assert "采购方对投诉" in to_market.text and "只退5元不够" in to_market.text
    assert json.loads(to_market.buttons) == [["受理", f"complaint:take:{number}"]]
    # Escalated: the county's to take up, not the contact's.
    assert "已升级到县市场监管，由市场监管人员受理" in _refused(demo, CONTACT, "take", number)
    assert _act(demo, MARKET, "take", number) is ComplaintStatus.IN_HAND
    assert _state(demo, number) == ("处理中", market, 5)
    assert _act(demo, MARKET, "close", number, "经核实属实，已责令补发并退款") is ComplaintStatus.CLOSED
    assert [e[:3] for e in _events(demo, number)] == [
        (None, "待处理", buyer),
        ("待处理", "处理中", contact),
        ("处理中", "已解决", contact),
        ("已解决", "已升级", buyer),
        ("已升级", "处理中", market),
        ("处理中", "已结案", market),
    ]
    closed = [p for p in _pushes(demo, "complaint_status") if "结论" in p.text]
    assert {p.user_id for p in closed} == {buyer, contact}
    to_buyer = next(p for p in closed if p.user_id == buyer)
    assert to_buyer.text == f"您的投诉 {number} 已由县市场监管人员结案。结论：经核实属实，已责令补发并退款"


def test_the_buyer_may_escalate_before_any_answer_and_an_admin_may_close_at_once(demo: Database) -> None:
    waiting = _file(demo, _order(demo))
    assert _act(demo, BUYER, "escalate", waiting) is ComplaintStatus.ESCALATED  # nobody took it up
    assert _events(demo, waiting)[-1] == ("待处理", "已升级", _uid(demo, BUYER), "")
    in_hand = _file(demo, _order(demo))
    _act(demo, CONTACT, "take", in_hand)
    assert _act(demo, BUYER, "escalate", in_hand, "两天了还没人来") is ComplaintStatus.ESCALATED
    fresh = _file(demo, _order(demo))
    assert _act(demo, ADMIN, "close", fresh, "采购方电话撤回投诉") is ComplaintStatus.CLOSED
    assert _act(demo, MARKET, "close", waiting, "已调解") is ComplaintStatus.CLOSED


def test_the_handler_hears_of_changes_made_by_others(demo: Database) -> None:
    number = _file(demo, _order(demo))
    admin = _uid(demo, ADMIN)
    _act(demo, ADMIN, "take", number)  # an admin handles it: admins hear of changes only as its handler
    assert _state(demo, number) == ("处理中", admin, 2)
    _act(demo, CONTACT, "answer", number, "已退款50元")  # the listing's contact answers for the handler
    (to_handler,) = [p for p in _pushes(demo, "complaint_status") if p.user_id == admin]
    assert to_handler.text.startswith(f"投诉 {number} 已由供货联系人李联系答复：已退款50元。")
    with demo.sessions() as session:
        complaint = session.scalars(select(Complaint)).one()
        assert complaint.handler_user_id == admin  # answering does not take the complaint over


def test_every_refused_move_says_why_and_changes_nothing(demo: Database) -> None:
    number = _file(demo, _order(demo))
    # Who may take it up: the listing's contacts, market staff, admins.
    for sender in (BUYER, OTHER_BUYER, NIXI_CONTACT, LEAD, "telegram:never-seen"):
        assert _refused(demo, sender, "take", number) == "您没有权限处理这个投诉。"
    assert "还没有人受理，请先受理再答复处理结果" in _refused(demo, CONTACT, "answer", number)
    assert _refused(demo, CONTACT, "settle", number) == "只有投诉的采购方可以确认解决。"
    assert _refused(demo, MARKET, "escalate", number) == "只有投诉的采购方可以升级投诉。"
    for sender in (CONTACT, BUYER, LEAD):
        assert _refused(demo, sender, "close", number) == "只有县市场监管人员或县里的管理员可以结案。"
    assert "请写明结案结论" in _refused(demo, MARKET, "close", number, " ")
    _act(demo, CONTACT, "take", number)
    assert _refused(demo, MARKET, "take", number) == f"投诉 {number} 现在是“处理中”，不能再受理。"  # pressed twice
    assert _refused(demo, CONTACT, "take", number) == f"投诉 {number} 现在是“处理中”，不能再受理。"
    assert "请写明处理结果" in _refused(demo, CONTACT, "answer", number, "  ")
    assert "最多500字" in _refused(demo, CONTACT, "answer", number, "补" * 501)
    assert _refused(demo, BUYER, "answer", number) == "您没有权限处理这个投诉。"
    _act(demo, CONTACT, "answer", number, "已处理：补发10斤")
    assert _refused(demo, CONTACT, "answer", number) == f"投诉 {number} 现在是“已解决”，不能再答复。"
    _act(demo, BUYER, "escalate", number)
    assert _refused(demo, BUYER, "escalate", number) == f"投诉 {number} 现在是“已升级”，不能再升级。"
    _act(demo, BUYER, "settle", number)  # the buyer may settle at any stage before it is closed
    for action, verb in (("take", "受理"), ("answer", "答复"), ("settle", "确认解决"), ("escalate", "升级")):
        sender = {"take": MARKET, "answer": MARKET}.get(action, BUYER)
        assert _refused(demo, sender, action, number) == f"投诉 {number} 现在是“已结案”，不能再{verb}。"
    assert _refused(demo, MARKET, "close", number) == f"投诉 {number} 现在是“已结案”，不能再结案。"
    with pytest.raises(ComplaintError, match="没有找到投诉 TS000"):
        _act(demo, MARKET, "take", "TS000")


def test_a_button_pressed_twice_at_once_acts_once(demo: Database) -> None:
    number = _file(demo, _order(demo))
    with demo.sessions() as first:
        stale = find_complaint(first, number)  # the first press read 待处理 …
        first.commit()
        _act(demo, MARKET, "take", number)  # … the second press took it up meanwhile
        with pytest.raises(ComplaintError, match="刚刚已被处理"):
            take_up(first, number, identify(first, CONTACT))  # the first press's read is stale: no row matches
        assert stale.status == "待处理"
        first.rollback()
    assert _state(demo, number) == ("处理中", _uid(demo, MARKET), 2)


def test_complaint_actions_round_trip() -> None:
    assert complaint_action(ComplaintOp.TAKE, "TS261204K7QM") == "complaint:take:TS261204K7QM"
    assert parse_complaint_action("complaint:settle:TS261204K7QM") == (ComplaintOp.SETTLE, "TS261204K7QM")
    for other in ("order:confirm:XF1", "complaint:take:", "complaint:delete:TS1", "complaint:", "rpt:submit:2026Q4"):
        assert parse_complaint_action(other) is None


# --------------------------------------------------------------------------------------------- the role


def test_market_staff_are_invited_like_the_other_roles(demo: Database, cli: Cli) -> None:
    with demo.sessions() as session, session.begin():
        invitation = issue_code(session, Role.MARKET, display_name="县市场监管局张")
        assert invitation.scope == "全县市场监管人员"
    with demo.sessions() as session, session.begin():
        user, scope = redeem_code(session, "telegram:9300", invitation.code)
        assert (Role(user.role), user.township_id, scope) == (Role.MARKET, None, "全县市场监管人员")
    with demo.sessions() as session:
        assert identify(session, "telegram:9300").is_market
    made = cli("users", "invite", "--role", "market")
    assert made.returncode == 0 and "全县市场监管人员" in made.stdout and "/register" in made.stdout
    listed = cli("users", "invite", "--list")
    assert "全县市场监管人员" in listed.stdout


# ------------------------------------------------------------------------------------------- reminders


def _aged(db: Database, number: str, days: float, now: datetime) -> None:
    """Make a complaint (and its events) as old as `days` at `now`."""
    when = now - timedelta(days=days)
    with db.sessions() as session, session.begin():
        complaint = session.scalars(select(Complaint).where(Complaint.complaint_no == number)).one()
        session.execute(update(Complaint).where(Complaint.id == complaint.id).values(created_at=when, updated_at=when))
        session.execute(update(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint.id).values(at=when))


def _remind(db: Database, now: datetime, config: ReminderConfig | None = None) -> list[str]:
    with db.sessions() as session, session.begin():
        written = run_due(session, now, config=config or ReminderConfig(), overview_writer=lambda *_a: [])
    return [k for k in written.enqueued if k.startswith(ReminderKind.COMPLAINT_OPEN.value)]


def test_an_unhandled_complaint_is_reminded_once_a_day_after_three_days(demo: Database) -> None:
    nine = datetime.now(TIMEZONE).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=1)
    waiting = _file(demo, _order(demo))  # nobody took it up: the listing's contacts are reminded
    taken = _file(demo, _order(demo))
    _act(demo, MARKET, "take", taken)  # the handler is reminded, not the contacts
    young = _file(demo, _order(demo))
    _aged(demo, waiting, 3.5, nine)
    _aged(demo, taken, 4.2, nine)
    _aged(demo, young, 2.9, nine)  # not yet three days
    contact, market = _uid(demo, CONTACT), _uid(demo, MARKET)
    day = f"{nine:%Y-%m-%d}"
    assert sorted(_remind(demo, nine)) == sorted(
        f"reminder_complaint_open:{day}:0:u{user}" for user in (contact, market)
    )
    sent = {p.user_id: p.text for p in _pushes(demo, ReminderKind.COMPLAINT_OPEN.value)}
    assert waiting in sent[contact] and taken not in sent[contact] and young not in sent[contact]
    assert taken in sent[market] and waiting not in sent[market]
    assert (
        "【质量投诉处理提醒】以下1件质量投诉提出已超过3天" in sent[contact] and "【质量】待处理，已3天" in sent[contact]
    )
    # Once a day: not again at noon, again the next morning (the young one too, now past three days).
    assert _remind(demo, nine + timedelta(hours=3)) == []
    assert sorted(_remind(demo, nine + timedelta(days=1))) == sorted(
        f"reminder_complaint_open:{nine + timedelta(days=1):%Y-%m-%d}:0:u{user}" for user in (contact, market)
    )
    latest = {p.user_id: p.text for p in _pushes(demo, ReminderKind.COMPLAINT_OPEN.value)}  # the last of each
    assert young in latest[contact] and "以下2件" in latest[contact]
    # Answered (已解决) or closed: no more reminders.
    _act(demo, MARKET, "answer", taken, "已责令补发")
    _act(demo, MARKET, "close", waiting, "已调解")
    _act(demo, BUYER, "settle", young)
    assert _remind(demo, nine + timedelta(days=2)) == []


def test_the_complaint_reminder_follows_the_setting(demo: Database) -> None:
    nine = datetime.now(TIMEZONE).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=1)
    number = _file(demo, _order(demo))
    _aged(demo, number, 1.5, nine)
    settings = Settings.from_env({"COMPLAINT_REMIND_DAYS": "1"})
    assert settings.complaint_remind_days == 1 and Settings.from_env({}).complaint_remind_days == 3
    assert _remind(demo, nine) == []  # the default: three days
    assert _remind(demo, nine, ReminderConfig.from_settings(settings)) == [
        f"reminder_complaint_open:{nine:%Y-%m-%d}:0:u{_uid(demo, CONTACT)}"
    ]
    off = ReminderConfig(complaint_remind_days=0)
    assert _remind(demo, nine + timedelta(days=5), off) == []


# -------------------------------------------------------------------------------------- list and figures


def test_the_list_by_status_and_township(demo: Database) -> None:
    old = _file(demo, _order(demo), category="数量不足", text="少了两斤")
    closed = _file(demo, _order(demo))
    _act(demo, CONTACT, "take", closed)
    _act(demo, CONTACT, "answer", closed, "已退款50元")
    _act(demo, BUYER, "settle", closed)
    now = datetime.now(timezone.utc)
    _aged(demo, old, 5.5, now)
    with demo.sessions() as session:
        everything = complaints_for(session, open_only=False, township=None, now=now)
        open_only = complaints_for(session, open_only=True, township="龙角", now=now)
        elsewhere = complaints_for(session, open_only=False, township="泥溪镇")
        with pytest.raises(ComplaintError, match="云阳县没有叫“火星镇”的乡镇"):
            complaints_for(session, open_only=False, township="火星镇")
    assert [v.number for v in everything] == [old, closed] and elsewhere == []
    assert [v.number for v in open_only] == [old]
    first, second = everything
    assert (first.buyer, first.township, first.village, first.product) == ("县人民医院食堂", "龙角镇", "张家村", "土豆")
    assert (first.category, first.status, first.days_open, first.handler, first.last_note) == (
        ComplaintCategory.SHORT,
        ComplaintStatus.OPEN,
        5,
        "",
        "",
    )
    assert (second.status, second.handler, second.last_note, second.days_open) == (
        ComplaintStatus.CLOSED,
        "李联系",
        "已退款50元",
        0,
    )


def test_the_command_line_lists_complaints_and_writes_the_workbook(
    demo: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli.main import main as cli

    waiting = _file(demo, _order(demo), category="以次充好", text="大小混装")
    closed = _file(demo, _order(demo))
    _act(demo, MARKET, "close", closed, "经核实不属实")
    monkeypatch.setenv("DATABASE_URL", demo.url)
    if demo.backend != "sqlite":
        pytest.skip("the command line is tested on the SQLite file")
    assert cli(["complaints", "list"]) == 0
    printed = capsys.readouterr().out
    assert "质量投诉2件" in printed and waiting in printed and closed in printed and "经核实不属实" in printed
    assert cli(["complaints", "list", "--open", "--township", "龙角镇"]) == 0
    printed = capsys.readouterr().out
    assert "龙角镇未结案的质量投诉1件" in printed and waiting in printed and closed not in printed
    assert cli(["complaints", "list", "--township", "泥溪镇"]) == 0
    assert "泥溪镇没有质量投诉" in capsys.readouterr().out
    out = tmp_path / "投诉.xlsx"
    assert cli(["complaints", "list", "-o", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["明细", "按乡镇按类别"]
    rows = list(book["明细"].iter_rows(values_only=True))
    assert rows[0][:9] == ("投诉编号", "订单号", "采购单位", "乡镇", "村", "产品", "类别", "状态", "投诉时间")
    assert [(r[0], r[6], r[7]) for r in rows[1:]] == [(waiting, "以次充好", "待处理"), (closed, "质量", "已结案")]
    assert rows[2][-2:] == ("经核实不属实", "土豆有一半是烂的")
    summary = list(book["按乡镇按类别"].iter_rows(values_only=True))
    assert summary[0] == ("乡镇", "质量", "数量不足", "以次充好", "未送达", "其他", "合计")
    assert summary[1:] == [("龙角镇", 1, 0, 1, 0, 0, 2), ("合计", 1, 0, 1, 0, 0, 2)]


def test_an_unknown_township_is_a_clear_error(sqlite_db: Database, cli: Cli, tmp_path: Path) -> None:
    result = cli("complaints", "list", "--township", "火星镇")
    assert result.returncode == 2
    assert "云阳县没有叫“火星镇”的乡镇（街道）" in result.stdout
    assert not (tmp_path / "x.xlsx").exists()


def test_the_quarters_figures_by_township_and_category_and_settled_in_three_days(demo: Database) -> None:
    now = datetime.now(timezone.utc)
    quick = _file(demo, _order(demo))
    _act(demo, CONTACT, "take", quick)
    _act(demo, CONTACT, "answer", quick, "已退款50元")  # 已解决 counts as settled
    slow = _file(demo, _order(demo), category="数量不足", text="少了")
    _act(demo, MARKET, "close", slow, "已调解")
    open_one = _file(demo, _order(demo), category="数量不足", text="少了很多")
    with demo.sessions() as session, session.begin():
        slow_id = session.scalars(select(Complaint.id).where(Complaint.complaint_no == slow)).one()
        # Filed five days before it was closed: not within three days.
        session.execute(update(Complaint).where(Complaint.id == slow_id).values(created_at=now - timedelta(days=5)))
    today = now.astimezone(TIMEZONE).date()
    with demo.sessions() as session:
        figures = complaint_figures(session, today - timedelta(days=30), today + timedelta(days=1))
        nothing = complaint_figures(session, date(2019, 7, 1), date(2019, 10, 1))
    assert figures.total == 3 and open_one
    assert [
        (t.township, t.by_category[ComplaintCategory.QUALITY], t.by_category[ComplaintCategory.SHORT])
        for t in figures.townships
    ] == [("龙角镇", 1, 2)]
    assert figures.settled_in_time == 1 and figures.settled_share == Decimal(1) / Decimal(3)
    assert figures.summary_line() == "质量投诉3件（质量1件、数量不足2件），3天内解决1件，占33.3%。"
    assert (nothing.total, nothing.settled_share, nothing.townships) == (0, None, [])


def test_the_overview_counts_the_quarters_complaints(demo: Database, tmp_path: Path) -> None:
    number = _file(demo, _order(demo), category="未送达", text="没送到")
    _act(demo, CONTACT, "take", number)
    _act(demo, CONTACT, "answer", number, "已补送")
    today = datetime.now(TIMEZONE).date()
    period = Period(today.year, (today.month - 1) // 3 + 1)
    with demo.sessions() as session:
        view = overview(session, period)
        paths = write_overview(session, period, tmp_path)
    assert view.complaints.total == 1 and view.complaints.settled_in_time == 1
    assert "质量投诉1件（未送达1件），3天内解决1件，占100.0%。" in view.summary_lines()
    book = openpyxl.load_workbook(paths[0])
    assert book.sheetnames[:5] == ["总体情况", "各乡镇", "牵头单位", "质量投诉", "物流"]
    assert "受益贫困户" in book.sheetnames  # tests/test_households.py checks its cells
    rows = list(book["质量投诉"].iter_rows(values_only=True))
    assert ("序号", "乡镇（街道）", "质量", "数量不足", "以次充好", "未送达", "其他", "合计") in rows
    assert (1, "龙角镇", 0, 0, 0, 1, 0, 1) in rows
    assert any(r[0] == "3天内解决（已解决或已结案）" and r[-1] == 1 for r in rows)
    with demo.sessions() as session:
        previous = overview(session, period.previous())
    assert previous.complaints.total == 0 and not any("质量投诉" in line for line in previous.summary_lines())
