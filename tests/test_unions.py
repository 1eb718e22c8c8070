"""Unions (工会): member counts, the 人均500元 budget and what counts towards it, the command line, the
September reminder, the overview, and the chat actions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.common import Services
from actions.unions import ActionSetUnionMembers, ActionUnionBudget
from fupin.catalog.search import CatalogSearch
from fupin.db import make_engine, make_session_factory
from fupin.models import (
    ORDER_SOURCE,
    REPORT_SOURCE,
    Buyer,
    Notification,
    Pairing,
    ReportVersion,
    SaleRecord,
    Township,
    UnionMembers,
    User,
    Village,
)
from fupin.orders.buyers import guess_category
from fupin.outreach.reminders.kinds import ReminderKind
from fupin.outreach.reminders.schedule import run_due
from fupin.outreach.users import bind_user, identify
from fupin.periods import Period, today
from fupin.reporting.overview import overview
from fupin.reporting.overview_workbook import write_overview_workbook
from fupin.settings import TIMEZONE, Settings
from fupin.unions.budget import union_budget, union_budgets
from fupin.unions.members import (
    MAX_MEMBERS,
    UnionError,
    check_members,
    find_union,
    latest_members,
    member_count_in,
    member_history,
    register_by_chat,
    set_members,
)
from fupin.unions.wording import budget_reply
from fupin.values import BuyerCategory, PairingSource, Role
from tests.conftest import Cli, Database

FEN = 50_000  # 500元 per member
UNION = "县人民医院工会"
OTHER_UNION = "县教委工会"


@dataclass(frozen=True)
class World:
    """Two unions, a canteen, and the places their purchases come from (ids)."""

    union: int
    other_union: int
    canteen: int
    township: int  # not deep-poverty
    paired: int  # a village of it the union helps (pairing open all year)
    ended: int  # a village whose pairing ended on 2019-06-01
    deep_village: int  # a deep-poverty village of the same township
    plain: int  # neither
    deep_township: int  # a deep-poverty township (its sales without a village)


def _villages(session: Session, count: int) -> tuple[Township, list[Village]]:
    # A township with enough villages, the first by code (the reference data flag none as deep-poverty).
    for township in session.scalars(select(Township).order_by(Township.code)):
        villages = list(
            session.scalars(select(Village).where(Village.township_id == township.id).order_by(Village.code))
        )
        if len(villages) >= count:
            return township, villages[:count]
    raise AssertionError("no township with enough villages")


def _sale(session: Session, buyer: Buyer, township_id: int, village_id: int | None, sold_on: date, fen: int,
          version: int | None = None) -> None:  # fmt: skip
    session.add(
        SaleRecord(
            township_id=township_id, village_id=village_id, buyer_id=buyer.id, buyer_name=buyer.name,
            product_name="土豆", quantity=Decimal(10), unit="斤", amount_fen=fen, sold_on=sold_on,
            source=REPORT_SOURCE if version else ORDER_SOURCE, report_version_id=version,
        )
    )  # fmt: skip


def _buyer(session: Session, name: str, category: BuyerCategory) -> Buyer:
    buyer = Buyer(name=name, category=category.value, lead_unit=category.lead_unit or "")
    session.add(buyer)
    session.flush()
    return buyer


def _pair(session: Session, buyer: Buyer, village_id: int, start: date, end: date | None = None) -> None:
    session.add(
        Pairing(buyer_id=buyer.id, village_id=village_id, started_on=start, ended_on=end, source=PairingSource.COMMAND)
    )


def _versions(session: Session, township: Township) -> tuple[int, int]:
    # Two versions of the township's 2019Q3 附件2: the first superseded by the second.
    first, second = (
        ReportVersion(kind="sales", period="2019Q3", reporter=township.name, township_id=township.id, number=n,
                      source="file")
        for n in (1, 2)
    )  # fmt: skip
    session.add_all([first, second])
    session.flush()
    first.superseded_by_id = second.id
    first.superseded_at = datetime(2019, 9, 20, tzinfo=TIMEZONE)
    return first.id, second.id


@pytest.fixture
def world(db: Database) -> World:
    """2019 purchases of both unions and a canteen, by hand (figures in the test that reads them)."""
    with db.sessions() as session, session.begin():
        township, (paired, ended, deep_village, plain) = _villages(session, 4)
        deep_village_row = session.get(Village, deep_village.id)
        assert deep_village_row is not None
        deep_village_row.deep_poverty = True
        deep_township = session.scalars(
            select(Township).where(Township.id != township.id).order_by(Township.code.desc())
        ).first()
        assert deep_township is not None
        deep_township.deep_poverty = True
        union = _buyer(session, UNION, BuyerCategory.FAMILY)
        other = _buyer(session, OTHER_UNION, BuyerCategory.FAMILY)
        canteen = _buyer(session, "县人民医院食堂", BuyerCategory.HOSPITAL)
        _pair(session, union, paired.id, date(2019, 1, 1))
        _pair(session, union, ended.id, date(2019, 1, 1), date(2019, 6, 1))
        superseded, current = _versions(session, township)
        t = township.id
        _sale(session, union, t, paired.id, date(2019, 3, 1), 10_000)  # paired
        _sale(session, union, t, ended.id, date(2019, 5, 1), 2_000)  # paired: the pairing was open then
        _sale(session, union, t, ended.id, date(2019, 7, 1), 3_000)  # other: the pairing had ended
        _sale(session, union, t, deep_village.id, date(2019, 4, 1), 4_000)  # deep-poverty village
        _sale(session, union, deep_township.id, None, date(2019, 8, 1), 5_000)  # deep-poverty township
        _sale(session, union, t, plain.id, date(2019, 8, 2), 700)  # other
        _sale(session, union, t, paired.id, date(2018, 12, 31), 7_000)  # another year
        _sale(session, union, t, paired.id, date(2019, 9, 1), 6_000, superseded)  # a superseded 附件2 row
        _sale(session, union, t, paired.id, date(2019, 9, 2), 800, current)  # the current version's row
        _sale(session, union, t, paired.id, date(2019, 10, 15), 1_000)  # paired, after September
        _sale(session, other, t, deep_village.id, date(2019, 6, 1), 30_000)  # deep: 60% of a 50,000 budget
        _sale(session, canteen, t, paired.id, date(2019, 3, 1), 99_999)  # no union
        set_members(session, union, 100, now=datetime(2019, 1, 5, tzinfo=TIMEZONE))
        set_members(session, union, 120, now=datetime(2019, 2, 5, tzinfo=TIMEZONE))
        set_members(session, other, 1, now=datetime(2019, 1, 5, tzinfo=TIMEZONE))
        return World(union.id, other.id, canteen.id, t, paired.id, ended.id, deep_village.id, plain.id,
                     deep_township.id)  # fmt: skip


# ------------------------------------------------------------------------------------------ the figures


def test_the_budget_counts_paired_and_deep_poverty_purchases_of_the_year_and_shows_the_rest_apart(
    db: Database, world: World
) -> None:
    with db.sessions() as session:
        budget = union_budget(session, world.union, 2019, per_member=FEN)
    assert budget.members == 120 and budget.budget_fen == 120 * FEN == 6_000_000
    assert budget.paired_fen == 10_000 + 2_000 + 800 + 1_000  # not the superseded row, not 2018
    assert budget.deep_fen == 4_000 + 5_000
    assert budget.counted_fen == 22_800
    assert budget.other_fen == 3_000 + 700
    assert budget.remaining_fen == 6_000_000 - 22_800
    assert budget.ratio == Decimal(22_800) / Decimal(6_000_000)
    assert budget.below_half
    with db.sessions() as session:
        september = union_budget(session, world.union, 2019, until=date(2019, 10, 1), per_member=FEN)
        earlier = union_budget(session, world.union, 2018, per_member=FEN)
    assert september.counted_fen == 21_800
    # The pairing started on 2019-01-01: a purchase there the day before is no paired village's.
    assert (earlier.paired_fen, earlier.deep_fen, earlier.other_fen) == (0, 0, 7_000)
    assert earlier.members == 100  # registered in 2019 only: the first count stands for the year before


def test_every_unions_completion_most_complete_first(db: Database, world: World) -> None:
    with db.sessions() as session:
        budgets = union_budgets(session, 2019, per_member=FEN)
    assert [(b.name, b.counted_fen, b.budget_fen) for b in budgets] == [
        (OTHER_UNION, 30_000, 50_000),
        (UNION, 22_800, 6_000_000),
    ]
    assert not budgets[0].below_half and budgets[1].below_half


def test_the_chat_answer_gives_spent_budget_remaining_and_the_others_apart(db: Database, world: World) -> None:
    with db.sessions() as session:
        text = budget_reply(union_budget(session, world.union, 2019, per_member=FEN))
    assert text.splitlines()[:6] == [
        f"{UNION}2019年消费扶贫额度：",
        "· 年度额度：60,000.00元（会员120人 × 500元）",
        "· 已用：228.00元，完成0.4%",
        "　其中结对帮扶村138.00元，深度贫困镇村90.00元",
        "· 还剩：59,772.00元",
        "另外购买其他村贫困户产品37.00元，单独列出，不计入额度。",
    ]
    assert "结对帮扶村是县里登记的本工会结对帮扶的村" in text and "深度贫困镇（村）" in text


def test_the_amount_per_member_is_a_setting() -> None:
    assert Settings().union_budget_per_member_fen == 50_000
    assert Settings.from_env({"UNION_BUDGET_PER_MEMBER_YUAN": "800"}).union_budget_per_member_fen == 80_000


# ------------------------------------------------------------------------------------------ members


def test_every_change_of_the_member_count_is_kept_and_the_latest_counts(db: Database, world: World) -> None:
    with db.sessions() as session, session.begin():
        union = session.get(Buyer, world.union)
        assert union is not None
        set_members(session, union, "85")
    with db.sessions() as session:
        assert [row.members for row in member_history(session, world.union)] == [100, 120, 85]
        latest = latest_members(session, world.union)
        assert latest is not None and latest.members == 85
        assert union_budget(session, world.union, today().year, per_member=FEN).budget_fen == 85 * FEN


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "会员人数要大于0。"),
        ("-3", "会员人数要大于0。"),
        ("1.5", "会员人数要是整数"),
        (str(MAX_MEMBERS + 1), "会员人数不能超过100000人"),
        ("很多", "没看懂会员人数"),
        (None, "没看懂会员人数"),
    ],
)
def test_a_member_count_is_a_positive_whole_number_within_bounds(value: str | None, message: str) -> None:
    with pytest.raises(UnionError, match=message):
        check_members(value)


def test_member_counts_are_read_from_what_people_say() -> None:
    said = {
        "我们工会有120名会员": 120,
        "工会会员人数改成85人": 85,
        "会员人数改为八十五": 85,
        "我们单位工会有1,200名职工": 1200,
        "工会今年有两百名会员了": 200,
        "会员数是 450": 450,
        "我们工会还剩多少额度": None,
        "我们工会有-5名会员": None,
    }
    assert {text: member_count_in(text) for text in said} == {
        text: None if n is None else Decimal(n) for text, n in said.items()
    }
    assert check_members(MAX_MEMBERS) == MAX_MEMBERS


def test_only_buyers_of_category_family_have_members(db: Database, world: World) -> None:
    with db.sessions() as session, session.begin():
        canteen = session.get(Buyer, world.canteen)
        assert canteen is not None
        with pytest.raises(UnionError, match="不是工会"):
            set_members(session, canteen, 10)
        with pytest.raises(UnionError, match="不是工会"):
            find_union(session, "县人民医院食堂")
        with pytest.raises(UnionError, match="没有找到"):
            find_union(session, "县交通局工会")
        created = find_union(session, "县交通局工会", register=True)
        assert created.category == BuyerCategory.FAMILY.value
    # A unit's union is a union, whatever the unit (its first order registers it as 家庭/工会).
    assert guess_category("县人民医院工会") is guess_category("县教委工会") is BuyerCategory.FAMILY
    with db.sessions() as session:
        assert session.scalar(select(UnionMembers).where(UnionMembers.buyer_id == world.canteen)) is None


def test_the_first_to_name_a_union_speaks_for_it_and_others_are_refused(db: Database, world: World) -> None:
    with db.sessions() as session, session.begin():
        bind_user(session, "console:admin", Role.ADMIN)
        done = register_by_chat(session, identify(session, "console:u1"), UNION, 130)
        assert (done.union.name, done.row.members, done.previous) == (UNION, 130, 120)
    with db.sessions() as session, session.begin():
        mine = register_by_chat(session, identify(session, "console:u1"), None, 131)  # no name needed now
        assert (mine.union.id, mine.previous) == (world.union, 130)
        with pytest.raises(UnionError, match="已有登记的联系人"):
            register_by_chat(session, identify(session, "console:u2"), UNION, 5)
        assert register_by_chat(session, identify(session, "console:admin"), UNION, 140).previous == 131
        with pytest.raises(UnionError, match="请说是哪个工会"):
            register_by_chat(session, identify(session, "console:admin"), None, 140)
    with db.sessions() as session:
        user = session.scalars(select(User).where(User.external_id == "u1")).one()
        assert user.buyer_id == world.union and user.role == Role.BUYER.value


# ------------------------------------------------------------------------------------------ command line


def test_the_command_line_registers_members_and_lists_the_unions(cli: Cli, tmp_path: Path) -> None:
    done = cli("unions", "set-members", UNION, "120")
    assert done.returncode == 0, done
    year = today().year
    assert done.stdout.strip() == (
        f"已登记：{UNION}会员120人。{year}年消费扶贫额度为60,000.00元（每名会员500元），已用0.00元，还剩60,000.00元。"
    )
    again = cli("unions", "set-members", UNION, "150")
    assert "会员150人（原来是120人）" in again.stdout
    assert cli("unions", "set-members", UNION, "0").stdout.strip() == "会员人数要大于0。"
    assert cli("unions", "set-members", UNION, "abc").returncode == 1
    refused = cli("unions", "set-members", "县人民医院食堂", "10")
    assert refused.returncode == 1 and "没有找到" in refused.stdout
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    try:
        with make_session_factory(engine)() as session, session.begin():
            _buyer(session, "县中医院食堂", BuyerCategory.HOSPITAL)
    finally:
        engine.dispose()
    assert "不是工会" in cli("unions", "set-members", "县中医院食堂", "10").stdout
    listed = cli("unions", "list")
    assert listed.returncode == 0
    assert listed.stdout.splitlines()[2:] == [f"{UNION}：0.00元 / 75,000.00元 / 0.0%（未过半）"]
    assert "还没有工会" in cli("unions", "list", "--year", "2001").stdout


# ------------------------------------------------------------------------------------------ reminder


def _at(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=TIMEZONE)


def _union_pushes(db: Database) -> list[Notification]:
    with db.sessions() as session:
        query = select(Notification).where(Notification.kind == ReminderKind.UNION_BUDGET.value)
        return list(session.scalars(query.order_by(Notification.id)))


def test_a_union_below_half_at_the_end_of_september_is_reminded_once(db: Database, world: World) -> None:
    with db.sessions() as session, session.begin():
        for sender, union in (("console:u1", world.union), ("console:u2", world.other_union)):
            bind_user(session, sender, Role.BUYER).buyer_id = union
        u1 = identify(session, "console:u1").user_id

    def run(now: datetime) -> list[str]:
        with db.sessions() as session, session.begin():
            written = run_due(session, now, timedelta(days=1), overview_writer=lambda *_: [])
        return [k for k in written.enqueued if k.startswith(ReminderKind.UNION_BUDGET.value)]

    assert run(_at(2019, 9, 29)) == []
    assert run(_at(2019, 9, 30, 8)) == []
    assert run(_at(2019, 9, 30)) == [f"reminder_union_budget:2019:0:u{u1}"]  # not the union above half
    assert run(_at(2019, 9, 30, 15)) == [] and run(_at(2019, 10, 1)) == []
    (push,) = _union_pushes(db)
    assert push.user_id == u1
    assert f"{UNION}：年度额度60,000.00元（会员120人），已用218.00元（0.4%），还剩59,782.00元" in push.text
    assert push.text.startswith("【工会消费扶贫额度提醒】截至2019年9月30日")


# ------------------------------------------------------------------------------------------ overview


def test_the_overview_lists_each_unions_completion_and_has_a_sheet(db: Database, world: World, tmp_path: Path) -> None:
    with db.sessions() as session:
        view = overview(session, Period(2019, 3))
    lines = view.summary_lines()
    start = next(i for i, line in enumerate(lines) if line.startswith("进家庭·工会额度"))
    assert lines[start - 1].startswith("· “五进”对接直销")
    assert lines[start + 1 : start + 3] == [
        f"· {OTHER_UNION}：300.00元 / 500.00元 / 60.0%",
        f"· {UNION}：218.00元 / 60,000.00元 / 0.4%（另购其他村产品37.00元）",
    ]
    assert "共2个工会，1个未过半" in lines[start]
    path = tmp_path / "overview.xlsx"
    write_overview_workbook(view, path)
    sheet = openpyxl.load_workbook(path)["工会"]
    rows = list(sheet.iter_rows(min_row=4, max_row=5, values_only=True))
    assert rows[1][:7] + rows[1][8:10] == (2, UNION, 120, 60000, 128, 90, 218, 59782, 37)
    assert float(rows[1][7]) == pytest.approx(218 / 60000)


# ------------------------------------------------------------------------------------------ chat


def _say(db: Database, action: Any, sender: str, text: str, entities: list[dict[str, Any]] | None = None) -> str:
    message = {"text": text, "entities": entities or [], "intent": {}}
    tracker = Tracker(sender, {}, message, [], False, None, {}, "")
    dispatcher = CollectingDispatcher()
    services = Services(sessions=db.sessions, search=CatalogSearch(db.sessions))
    events = asyncio.run(action(services).run(dispatcher, tracker, {}))
    assert events == []
    (said,) = dispatcher.messages
    return str(said.get("text") or said.get("response"))


def test_a_union_registers_its_members_and_gets_its_figures_by_chat(db: Database, world: World) -> None:
    with db.sessions() as session, session.begin():
        union = session.get(Buyer, world.union)
        assert union is not None
        _sale(session, union, world.township, world.paired, today(), 12_345)
    org = [{"entity": "org", "value": UNION}]
    set_reply = _say(db, ActionSetUnionMembers, "telegram:8801", f"{UNION}有200名会员", org)
    assert set_reply.startswith(f"已登记：{UNION}会员200人（原来是120人）。")
    answer = _say(db, ActionUnionBudget, "telegram:8801", "我们工会还剩多少额度")
    assert answer.splitlines()[:4] == [
        f"{UNION}{today().year}年消费扶贫额度：",
        "· 年度额度：100,000.00元（会员200人 × 500元）",
        "· 已用：123.45元，完成0.1%",
        "　其中结对帮扶村123.45元，深度贫困镇村0.00元",
    ]
    assert _say(db, ActionSetUnionMembers, "telegram:8801", "我们工会有很多会员") == "utter_union_members_how"
    assert "会员人数要大于0" in _say(
        db, ActionSetUnionMembers, "telegram:8801", "改一下", [{"entity": "members", "value": "0"}]
    )


def test_a_user_who_is_no_union_is_told_only_unions_have_a_budget(db: Database, world: World) -> None:
    answer = _say(db, ActionUnionBudget, "telegram:8802", "我们工会还剩多少额度")
    assert answer.startswith("只有工会才有消费扶贫额度")
    canteen = [{"entity": "org", "value": "县人民医院食堂"}]
    assert "不是工会" in _say(db, ActionUnionBudget, "telegram:8802", "县人民医院食堂还剩多少额度", canteen)
    _say(db, ActionSetUnionMembers, "telegram:8801", f"{UNION}有200名会员", [{"entity": "org", "value": UNION}])
    someone_else = _say(
        db, ActionUnionBudget, "telegram:8802", f"{UNION}还剩多少额度", [{"entity": "org", "value": UNION}]
    )
    assert someone_else == f"只有{UNION}的联系人和县里的管理员可以查看它的额度。"
