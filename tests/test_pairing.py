"""百企帮百村: the pairing register, its import, search order and marks, the figures, the workbook, the reminder."""

from __future__ import annotations

import asyncio
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

from actions.common import make_services
from actions.pairing import ActionSetPairing
from actions.search import ActionSearchProducts, listing_text
from fupin.catalog.search import CatalogSearch
from fupin.models import ORDER_SOURCE, REPORT_SOURCE, Buyer, Notification, Pairing, SaleRecord, User, Village
from fupin.orders.buyers import buyer_of_user
from fupin.outreach.reminders.kinds import ReminderKind
from fupin.outreach.reminders.pairing import month_before
from fupin.outreach.reminders.schedule import run_due
from fupin.outreach.users import bind_user, identify
from fupin.pairing.chat import PairingRequest, pairing_request_in
from fupin.pairing.figures import pairing_figures
from fupin.pairing.importing import import_pairing_file
from fupin.pairing.register import (
    PairingError,
    add_pairing,
    end_pairing,
    open_pairings,
    paired_village_ids,
    pairing_views,
)
from fupin.pairing.workbook import NOT_PAIRED, write_pairing_report
from fupin.periods import Period
from fupin.reporting.overview import overview
from fupin.reporting.overview_workbook import write_overview_workbook
from fupin.settings import TIMEZONE
from fupin.values import BuyerCategory, PairingSource, Role
from tests.conftest import Cli, Database
from tests.reminder_data import listing, township_id

FIRM = "云阳县某某食品有限公司"
OTHER_FIRM = "云阳县好味餐饮有限公司"
UNION = "县交通局工会"
TODAY = date(2019, 12, 1)


def village(session: Session, township: str, short_name: str) -> Village:
    """A village of the reference data."""
    found = session.scalar(
        select(Village).where(Village.township_id == township_id(session, township), Village.short_name == short_name)
    )
    assert found is not None, short_name
    return found


def some_village(session: Session, township: str, skip: int = 0) -> Village:
    """The n-th village of a township by code."""
    query = select(Village).where(Village.township_id == township_id(session, township)).order_by(Village.code)
    return list(session.scalars(query))[skip]


def buyer(session: Session, name: str, category: BuyerCategory) -> Buyer:
    """A registered buyer."""
    row = Buyer(name=name, category=category.value, lead_unit=category.lead_unit or "")
    session.add(row)
    session.flush()
    return row


def buyer_user(session: Session, external_id: str, of: Buyer | None) -> User:
    """A chat user bound to a buying unit."""
    row = User(channel="telegram", external_id=external_id, role=Role.BUYER.value, buyer_id=of.id if of else None)
    session.add(row)
    session.flush()
    return row


def sale(session: Session, of: Buyer, where: Village, fen: int, on: date, source: str = ORDER_SOURCE) -> None:
    """A counted purchase record of the buyer from a village."""
    session.add(
        SaleRecord(
            township_id=where.township_id,
            village_id=where.id,
            buyer_id=of.id,
            buyer_name=of.name,
            product_name="土豆",
            quantity=Decimal(10),
            unit="斤",
            amount_fen=fen,
            sold_on=on,
            source=source,
        )
    )
    session.flush()


# --- the register and its import -----------------------------------------------------------------------------


def _register(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["序号", "企业名称", "乡镇", "村", "结对时间", "联系电话"])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_an_import_keeps_good_rows_and_names_each_bad_cell(db: Database, tmp_path: Path) -> None:
    with db.sessions() as session, session.begin():
        buyer(session, "县人民医院食堂", BuyerCategory.HOSPITAL)
        nixi = some_village(session, "泥溪镇").short_name
    path = _register(
        tmp_path / "结对名单.xlsx",
        [
            [1, FIRM, "龙角镇", "张家村", "2019-07-01", "023-55123456"],
            [2, FIRM, "龙角镇", "张家村", "", ""],
            [3, OTHER_FIRM, "龙角镇", "不存在村", "", ""],
            [4, OTHER_FIRM, "火星镇", "张家村", "", ""],
            [5, "", "龙角镇", "张家村", "", ""],
            [6, "县人民医院食堂", "龙角镇", "张家村", "", ""],
            [7, OTHER_FIRM, "泥溪镇", nixi, "2019年13月1日", ""],
            [8, OTHER_FIRM, "", "龙角镇", "", "12345"],
            [9, UNION, "", "龙角镇张家村", "2019/9/1", ""],
        ],
    )
    with db.sessions() as session, session.begin():
        report = import_pairing_file(session, path, TODAY)
    reasons = {(issue.row, issue.column): issue.reason for issue in report.issues}
    assert reasons == {
        (3, "D列“村”"): f"{FIRM}与龙角镇张家村的结对与第2行重复",
        (4, "D列“村”"): "龙角镇没有“不存在村”这个村（社区）",
        (5, "C列“乡镇”"): "未知的乡镇（街道）：火星镇",
        (6, "B列“企业名称”"): "缺少企业名称",
        (7, "B列“企业名称”"): "“县人民医院食堂”登记的类别是医院，只有爱心企业和工会可以登记结对帮扶村",
        (8, "E列“结对时间”"): "无法识别的结对时间“2019年13月1日”（应填如 2019-09-01）",
        (9, "D列“村”"): "“龙角镇”是乡镇（街道），请写明结对的村（社区），如 龙角镇张家村",
        (9, "F列“联系电话”"): "联系电话“12345”不是有效的手机或座机号码",
    }
    assert report.applied and (report.opened, report.unchanged) == (2, 0)
    assert report.lines()[1] == f"  新登记采购单位：{FIRM}（爱心企业）、{UNION}（家庭/工会）"
    assert "  - 结对名单.xlsx 第4行，D列“村”：龙角镇没有“不存在村”这个村（社区）" in report.lines()
    with db.sessions() as session:
        views = pairing_views(session)
        assert [(v.buyer, v.category, v.place, v.started_on, v.source) for v in views] == [
            (FIRM, "爱心企业", "龙角镇张家村", date(2019, 7, 1), PairingSource.IMPORT.value),
            (UNION, "家庭/工会", "龙角镇张家村", date(2019, 9, 1), PairingSource.IMPORT.value),
        ]
        firm = session.scalar(select(Buyer).where(Buyer.name == FIRM))
        assert firm is not None and firm.phone == "02355123456"
    # Imported again: nothing new, both rows already in force.
    good = _register(tmp_path / "again.xlsx", [[1, FIRM, "龙角镇", "张家村", "2019-07-01", ""]])
    with db.sessions() as session, session.begin():
        again = import_pairing_file(session, good, TODAY)
    assert (again.opened, again.unchanged, again.issues) == (0, 1, [])


def test_a_strict_import_with_a_bad_row_writes_nothing(db: Database, tmp_path: Path) -> None:
    path = _register(
        tmp_path / "r.xlsx", [[1, FIRM, "龙角镇", "张家村", "", ""], [2, OTHER_FIRM, "", "不存在村", "", ""]]
    )
    with db.sessions() as session, session.begin():
        report = import_pairing_file(session, path, TODAY, strict=True)
    assert not report.applied and len(report.issues) == 1
    with db.sessions() as session:
        assert session.scalar(select(Pairing)) is None and session.scalar(select(Buyer)) is None


def test_pairings_open_end_and_reopen(db: Database) -> None:
    with db.sessions() as session, session.begin():
        change = add_pairing(session, FIRM, "龙角镇张家村", date(2019, 7, 1), PairingSource.COMMAND)
        assert change.buyer_created and change.opened
        firm_id, zhangjia = change.pairing.buyer_id, change.pairing.village_id
        assert not add_pairing(session, FIRM, "张家村", date(2019, 8, 1), PairingSource.CHAT).opened
        assert paired_village_ids(session, firm_id, date(2019, 6, 30)) == set()
        assert paired_village_ids(session, firm_id, date(2019, 7, 1)) == {zhangjia}
        end_pairing(session, FIRM, "龙角镇张家村", date(2019, 10, 1))
        assert open_pairings(session, firm_id, date(2019, 9, 30))[0].village_id == zhangjia
        assert open_pairings(session, firm_id, date(2019, 10, 1)) == []
        with pytest.raises(PairingError, match="没有与龙角镇张家村结对"):
            end_pairing(session, FIRM, "龙角镇张家村", date(2019, 11, 1))
        with pytest.raises(PairingError, match="请写明结对的村"):
            add_pairing(session, FIRM, "龙角镇", date(2019, 7, 1), PairingSource.COMMAND)
        with pytest.raises(PairingError, match="没有登记"):
            add_pairing(session, "从没听说公司", "张家村", date(2019, 7, 1), PairingSource.CHAT, create_buyer=False)
        reopened = add_pairing(session, FIRM, "张家村", date(2020, 1, 1), PairingSource.COMMAND)
        assert reopened.opened and reopened.pairing.ended_on is None
        assert session.scalars(select(Pairing)).all() == [reopened.pairing]  # one row per buyer and village


# --- search ---------------------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(db: Database) -> dict[str, int]:
    """Three 土豆 listings: 张家村 (oldest), another 龙角镇 village (freshest), a 泥溪镇 one (deep township)."""
    base = datetime(2019, 9, 1, 9, tzinfo=TIMEZONE)
    with db.sessions() as session, session.begin():
        zhangjia = village(session, "龙角镇", "张家村")
        other = next(v for v in session.scalars(select(Village).where(Village.township_id == zhangjia.township_id))
                     if v.id != zhangjia.id)  # fmt: skip
        nixi = some_village(session, "泥溪镇")
        ids = {
            "zhangjia": listing(session, "龙角镇", base, village_id=zhangjia.id).id,
            "other": listing(session, "龙角镇", base + timedelta(days=2), village_id=other.id).id,
            "nixi": listing(session, "泥溪镇", base + timedelta(days=1), village_id=nixi.id).id,
        }
        firm = buyer(session, FIRM, BuyerCategory.CHARITY_FIRM)
        buyer_user(session, "501", firm)
        union = buyer(session, UNION, BuyerCategory.FAMILY)
        buyer_user(session, "601", union)
        buyer_user(session, "701", None)
        other.deep_poverty = True  # a deep-poverty village in a township that is not
        ids["other_village"] = other.id
    return ids


def _search(db: Database, sender: str | None) -> tuple[list[int], str, list[str]]:
    search = CatalogSearch(db.sessions)
    with db.sessions() as session:
        viewer = identify(session, sender) if sender else None
    result = search.search(product="土豆", viewer=viewer)
    return [v.listing_id for v in result.listings], result.note, [listing_text(i, v) for i, v in
                                                                   enumerate(result.listings, 1)]  # fmt: skip


def test_a_paired_firm_sees_its_village_first_and_is_told(db: Database, catalogue: dict[str, int]) -> None:
    ids, note, _texts = _search(db, "telegram:501")
    # Before any pairing: deep-poverty places first (泥溪镇, the deep village), then the freshest.
    assert ids == [catalogue["other"], catalogue["nixi"], catalogue["zhangjia"]] and note == ""
    with db.sessions() as session, session.begin():
        add_pairing(session, FIRM, "龙角镇张家村", date(2019, 1, 1), PairingSource.COMMAND)
    ids, note, texts = _search(db, "telegram:501")
    assert ids == [catalogue["zhangjia"], catalogue["other"], catalogue["nixi"]]
    assert note == "已优先列出贵单位结对帮扶的张家村的产品。"
    assert "（结对帮扶村）" in texts[0] and "（深度贫困地区）" in texts[1] and "（深度贫困地区）" in texts[2]
    # Someone else, or nobody, sees the usual order and marks.
    for sender in ("telegram:701", None):
        ids, note, texts = _search(db, sender)
        assert ids == [catalogue["other"], catalogue["nixi"], catalogue["zhangjia"]] and note == ""
        assert "结对" not in "".join(texts) and "（深度贫困地区）" in texts[0]


def test_a_union_sees_its_paired_and_deep_poverty_villages_marked(db: Database, catalogue: dict[str, int]) -> None:
    with db.sessions() as session, session.begin():
        add_pairing(session, UNION, "龙角镇张家村", date(2019, 1, 1), PairingSource.COMMAND)
        assert buyer_of_user(session, identify(session, "telegram:601").user_id or 0) is not None
    ids, note, texts = _search(db, "telegram:601")
    assert ids == [catalogue["zhangjia"], catalogue["other"], catalogue["nixi"]]
    assert note.startswith("已优先列出贵单位结对帮扶的张家村的产品。标“结对帮扶村”“深度贫困村”的")
    assert "（结对帮扶村）" in texts[0] and "深度贫困" not in texts[0]
    assert "（深度贫困村）" in texts[1] and "（深度贫困镇）" in texts[2]


# --- figures, the workbooks, the overview ---------------------------------------------------------------------


@pytest.fixture
def purchases(db: Database) -> None:
    """FIRM paired with 张家村 from 7-1 (bought there in Q2 before, twice in Q3, once in Q4, elsewhere once);
    OTHER_FIRM paired with a 泥溪镇 village from 5-1 to 10-15, never bought there."""
    with db.sessions() as session, session.begin():
        firm = buyer(session, FIRM, BuyerCategory.CHARITY_FIRM)
        other = buyer(session, OTHER_FIRM, BuyerCategory.CHARITY_FIRM)
        buyer_user(session, "501", firm)
        buyer_user(session, "502", other)
        zhangjia, nixi, elsewhere = (
            village(session, "龙角镇", "张家村"),
            some_village(session, "泥溪镇"),
            some_village(session, "龙角镇"),
        )
        add_pairing(session, FIRM, "龙角镇张家村", date(2019, 7, 1), PairingSource.COMMAND)
        add_pairing(session, OTHER_FIRM, f"泥溪镇{nixi.short_name}", date(2019, 5, 1), PairingSource.COMMAND)
        end_pairing(session, OTHER_FIRM, f"泥溪镇{nixi.short_name}", date(2019, 10, 15))
        sale(session, firm, zhangjia, 9900, date(2019, 6, 30))  # before the pairing: not counted
        sale(session, firm, zhangjia, 10000, date(2019, 7, 10))
        sale(session, firm, zhangjia, 5050, date(2019, 8, 1), REPORT_SOURCE)
        sale(session, firm, elsewhere, 3000, date(2019, 8, 2))  # another village: not counted
        sale(session, firm, zhangjia, 2000, date(2019, 11, 1))
        sale(session, other, elsewhere, 7000, date(2019, 8, 3))  # not its paired village


def test_figures_count_purchases_from_the_paired_village_while_paired(db: Database, purchases: None) -> None:
    with db.sessions() as session:
        q3 = pairing_figures(session, Period(2019, 3))
        q2 = pairing_figures(session, Period(2019, 2))
        q1 = pairing_figures(session, Period(2019, 1))
    assert sorted((line.pairing.buyer, line.purchases, line.amount_fen) for line in q3.lines) == sorted(
        [(FIRM, 2, 15050), (OTHER_FIRM, 0, 0)]
    )
    assert q3.amount_fen == 15050 and q3.without_purchases == [OTHER_FIRM]
    assert [line.pairing.buyer for line in q2.lines] == [OTHER_FIRM] and q2.amount_fen == 0
    assert q1.lines == []


def test_the_year_workbook_has_quarters_as_columns(db: Database, purchases: None, tmp_path: Path) -> None:
    out = tmp_path / "pairing.xlsx"
    with db.sessions() as session:
        write_pairing_report(session, 2019, out)
    book = openpyxl.load_workbook(out)
    sheet = book["百企帮百村"]
    assert sheet["A1"].value == "云阳县2019年“百企帮百村”结对采购情况"
    header = [c.value for c in sheet[3]]
    assert header[7:13] == ["第1季度", "第2季度", "第3季度", "第4季度", "全年合计", "采购笔数"]
    rows = {sheet.cell(row=r, column=2).value: [c.value for c in sheet[r]] for r in range(4, sheet.max_row + 1)}
    firm, other, total = rows[FIRM], rows[OTHER_FIRM], rows["合计"]
    assert firm[3] == "张家村" and firm[5].date() == date(2019, 7, 1) and firm[6] in ("", None)
    assert firm[7:9] == [NOT_PAIRED, NOT_PAIRED] and firm[12] == 3
    assert [Decimal(str(v)) for v in firm[9:12]] == [Decimal("150.5"), Decimal("20"), Decimal("170.5")]
    assert other[6].date() == date(2019, 10, 15)
    assert other[7] == NOT_PAIRED and [Decimal(str(v)) for v in other[8:12]] == [0, 0, 0, 0] and other[12] == 0
    assert [Decimal(str(v)) for v in total[7:12]] == [0, 0, Decimal("150.5"), Decimal("20"), Decimal("170.5")]
    none = book["未从结对村采购"]
    assert [[c.value for c in row] for row in none.iter_rows(min_row=2)] == [
        ["第2季度", OTHER_FIRM, other[2] + other[3]],
        ["第3季度", OTHER_FIRM, other[2] + other[3]],
        ["第4季度", OTHER_FIRM, other[2] + other[3]],
    ]


def test_the_overview_lists_pairings_under_the_firms_channel(db: Database, purchases: None, tmp_path: Path) -> None:
    with db.sessions() as session:
        view = overview(session, Period(2019, 3))
    lines = view.summary_lines()
    channel = next(i for i, line in enumerate(lines) if line.startswith("· 爱心企业订销"))
    assert lines[channel + 1] == "  百企帮百村：结对2对（2家企业），本季度从结对村采购150.50元。"
    assert lines[channel + 2] == f"  · {FIRM} — 龙角镇张家村：2笔，150.50元"
    assert lines[channel + 3] == f"  本季度未从结对村采购：{OTHER_FIRM}"
    out = tmp_path / "overview.xlsx"
    write_overview_workbook(view, out)
    sheet = openpyxl.load_workbook(out)["百企帮百村"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    by_firm = {row[1]: row for row in rows if row[1]}
    assert by_firm[FIRM][2:4] == ["龙角镇", "张家村"] and by_firm[FIRM][6] == 2
    assert Decimal(str(by_firm[FIRM][7])) == Decimal("150.5") and by_firm[OTHER_FIRM][6] == 0
    assert by_firm["合计"][6] == 2 and Decimal(str(by_firm["合计"][7])) == Decimal("150.5")
    assert any(row[0] and str(row[0]).startswith("本季度未从结对村采购的企业（1家）") for row in rows)


# --- the reminder -----------------------------------------------------------------------------------------------


def test_month_before_the_deadline() -> None:
    assert month_before(Period(2019, 1).deadline) == date(2019, 2, 28)
    assert month_before(Period(2020, 1).deadline) == date(2020, 2, 29)
    assert month_before(Period(2019, 3).deadline) == date(2019, 8, 30)
    assert month_before(date(2019, 1, 15)) == date(2018, 12, 15)


def _run(db: Database, now: datetime) -> list[str]:
    with db.sessions() as session, session.begin():
        result = run_due(session, now, timedelta(days=1), overview_writer=lambda *_args: [])
    return [key for key in result.enqueued if key.startswith(ReminderKind.PAIRING.value)]


def test_a_firm_that_bought_nothing_there_is_reminded_once(db: Database, purchases: None) -> None:
    with db.sessions() as session:
        other_user = session.scalar(select(User.id).where(User.external_id == "502"))
    # A month before 2019Q3's deadline (9-30): only OTHER_FIRM has bought nothing from its village.
    assert _run(db, datetime(2019, 8, 29, 9, 30, tzinfo=TIMEZONE)) == []
    due = datetime(2019, 8, 30, 9, 30, tzinfo=TIMEZONE)
    assert _run(db, due) == [f"reminder_pairing:2019Q3:0:u{other_user}"]
    assert _run(db, due + timedelta(hours=2)) == []
    assert _run(db, due + timedelta(days=1)) == []
    with db.sessions() as session:
        (push,) = session.scalars(select(Notification).where(Notification.kind == ReminderKind.PAIRING.value))
    assert push.user_id == other_user and push.text.startswith(f"【百企帮百村提醒】{OTHER_FIRM}（结对：泥溪镇")
    assert "2019年第3季度还没有从结对村采购" in push.text and "2019年9月30日截止" in push.text


# --- the command line -------------------------------------------------------------------------------------------


def test_the_command_line_adds_lists_ends_imports_and_reports(cli: Cli, tmp_path: Path) -> None:
    added = cli("pairing", "add", "--buyer", FIRM, "--village", "龙角镇张家村", "--since", "2019-07-01")
    assert added.returncode == 0, added.stdout
    assert added.stdout.splitlines() == [f"已登记爱心企业：{FIRM}", f"{FIRM} — 龙角镇张家村：已结对（2019-07-01起）"]
    assert cli("pairing", "add", "--buyer", FIRM, "--village", "龙角镇").returncode == 1
    listed = cli("pairing", "list")
    assert listed.stdout.splitlines() == ["结对帮扶1对：", f"  {FIRM}（爱心企业） — 龙角镇张家村，2019-07-01起至今"]
    ended = cli("pairing", "end", "--buyer", FIRM, "--village", "张家村", "--on", "2020-01-01")
    assert ended.stdout.strip() == f"{FIRM} — 龙角镇张家村：结对于2020-01-01结束"
    assert cli("pairing", "list").stdout.strip() == "目前没有在册的结对帮扶。"
    assert "已结束" in cli("pairing", "list", "--all").stdout
    bad = _register(tmp_path / "bad.xlsx", [[1, OTHER_FIRM, "龙角镇", "不存在村", "", ""]])
    imported = cli("pairing", "import", str(bad))
    assert imported.returncode == 1 and "第2行，D列“村”：龙角镇没有“不存在村”这个村（社区）" in imported.stdout
    out = tmp_path / "pairing.xlsx"
    report = cli("report", "pairing", "--year", "2019", "-o", str(out))
    assert report.returncode == 0 and report.stdout.strip() == (
        f"已生成2019年百企帮百村结对采购情况：{out}（结对1对，从结对村采购0.00元）"
    )
    assert openpyxl.load_workbook(out)["百企帮百村"].cell(row=4, column=2).value == FIRM


# --- chat -------------------------------------------------------------------------------------------------------


def _tracker(text: str, sender: str, entities: list[dict[str, Any]] | None = None) -> Tracker:
    latest = {"text": text, "entities": entities or [], "intent": {"name": "x"}}
    return Tracker(sender, {}, latest, [], False, None, {}, "action_listen")


def _act(action: Any, current: Tracker) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, current, {}))
    return dispatcher.messages


@pytest.mark.parametrize(
    ("text", "firm", "village"),
    [
        ("把云阳县某某食品有限公司和龙角镇张家村结成帮扶对子", "云阳县某某食品有限公司", "龙角镇张家村"),
        ("重庆三峡农业开发有限公司与张家村结对帮扶", "重庆三峡农业开发有限公司", "张家村"),
        ("让云阳县天成建材公司跟双江街道石云村结成对子", "云阳县天成建材公司", "双江街道石云村"),
        ("云阳县众鑫商贸有限公司和龙角镇张家村建立帮扶关系", "云阳县众鑫商贸有限公司", "龙角镇张家村"),
    ],
)
def test_a_pairing_sentence_names_the_firm_and_the_village(text: str, firm: str, village: str) -> None:
    assert pairing_request_in(text) == PairingRequest(firm, village)
    assert pairing_request_in("哪里有土豆") is None


def test_only_an_admin_pairs_in_chat_and_a_paired_firm_is_told_in_search(
    db: Database, catalogue: dict[str, int]
) -> None:
    services = make_services(db.sessions)
    with db.sessions() as session, session.begin():
        bind_user(session, "telegram:901", Role.ADMIN)
        bind_user(session, "telegram:902", Role.CONTACT, township="龙角镇")
    text = f"把{FIRM}和龙角镇张家村结成帮扶对子"
    for sender in ("telegram:501", "telegram:902", "telegram:999"):
        (refused,) = _act(ActionSetPairing(services), _tracker(text, sender))
        assert refused["text"].startswith("只有县里的管理员可以登记结对帮扶")
    with db.sessions() as session:
        assert session.scalar(select(Pairing)) is None
    (done,) = _act(ActionSetPairing(services), _tracker(text, "telegram:901"))
    assert done["text"].startswith(f"已登记：{FIRM}与龙角镇张家村结对帮扶，")
    with db.sessions() as session:
        (pairing,) = session.scalars(select(Pairing))
        assert pairing.source == PairingSource.CHAT.value and pairing.user_id is not None
    (again,) = _act(ActionSetPairing(services), _tracker(text, "telegram:901"))
    assert "已经结对" in again["text"]
    (how,) = _act(ActionSetPairing(services), _tracker("登记结对帮扶", "telegram:901"))
    assert how["response"] == "utter_pairing_how"
    found = _act(
        ActionSearchProducts(services), _tracker("哪里有土豆", "telegram:501", [{"entity": "product", "value": "土豆"}])
    )
    lines = found[0]["text"].splitlines()
    assert (
        lines[0] == "已优先列出贵单位结对帮扶的张家村的产品。" and "张家村" in lines[2] and "（结对帮扶村）" in lines[3]
    )
