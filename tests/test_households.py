"""What each poor household gained (见成效): figures by hand, the workbook, the command line, the chat actions.

The data (2019, in fen): in 龙角镇张家村 王某某 sells 300斤 in Q1 (45000) and 200斤 + 20只 in Q3 (30000 + 200000,
two buyers in all), 云丰合作社 (5 poor households) 500斤 in Q3 (100000), 孙某某 (not in the catalogue) 30斤 in
Q2 (90000), and a record naming no household (5000); 赵某某 sells nothing. In 高家村, made a deep-poverty village,
李某某 sells 10斤 in Q4 (60000). In 泥溪镇 (a deep-poverty township) 鱼鳞村, 陈某某's only row belongs to a
superseded 附件2 version and 鱼鳞合作社 (poor households not given: 1) sells 50斤 (15000) in a current one.
A 2018 sale of 王某某 is outside the year.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session

import actions.households as household_actions
from actions.common import make_services
from actions.households import ActionBeneficiaries, ActionHouseholdSales
from fupin.db import make_engine, make_session_factory
from fupin.models import REPORT_SOURCE, Household, ReportVersion, SaleRecord, Township, Village
from fupin.outreach.users import bind_user
from fupin.periods import Period
from fupin.reporting.household_answers import household_sales_answer
from fupin.reporting.households import (
    HouseholdReport,
    QuarterSales,
    beneficiaries,
    counted_poor_households,
    household_report,
)
from fupin.reporting.households_workbook import write_household_workbook
from fupin.reporting.overview import overview
from fupin.reporting.overview_workbook import write_overview_workbook
from fupin.values import Quantity, Role
from tests.conftest import Cli, Database

YEAR = Period(2019)
ADMIN = "console:hh-admin"
BUYER = "console:hh-buyer"


@dataclass(frozen=True)
class Places:
    """The ids the tests scope by."""

    longjiao: int
    zhangjia: int
    gaojia: int
    nixi: int


def _village(session: Session, township: str, village: str) -> Village:
    return session.scalars(
        select(Village).join(Township).where(Township.name == township, Village.short_name == village)
    ).one()


def _household(session: Session, village: Village, name: str, poor: int | None = None) -> None:
    session.add(
        Household(
            place_key=f"{village.township.code}/{village.code}",
            name=name,
            township_id=village.township_id,
            village_id=village.id,
            is_cooperative=poor is not None or "合作社" in name,
            poor_households=poor,
        )
    )


def _sale(
    session: Session,
    village: Village,
    household: str,
    quantity: str,
    amount_fen: int,
    sold_on: date,
    buyer: str = "县人民医院食堂",
    version: ReportVersion | None = None,
    poor: int | None = None,
) -> None:
    value, unit = Decimal(quantity[:-1]), quantity[-1]
    session.add(
        SaleRecord(
            township_id=village.township_id,
            village_id=village.id,
            household_name=household,
            poor_households=poor,
            buyer_name=buyer,
            product_name="农产品",
            quantity=value,
            unit=unit,
            amount_fen=amount_fen,
            sold_on=sold_on,
            source=REPORT_SOURCE,
            report_version_id=version.id if version else None,
        )
    )


def _version(session: Session, number: int) -> ReportVersion:
    version = ReportVersion(kind="sales", period="2019Q3", reporter="泥溪镇", number=number, source="file")
    session.add(version)
    session.flush()
    return version


def populate(db: Database) -> Places:
    """The households and sales of the module docstring."""
    with db.sessions() as session, session.begin():
        zhangjia = _village(session, "龙角镇", "张家村")
        gaojia = _village(session, "龙角镇", "高家村")
        gaojia.deep_poverty = True
        yulin = _village(session, "泥溪镇", "鱼鳞村")
        for village, name, poor in (
            (zhangjia, "王某某", None),
            (zhangjia, "云丰合作社", 5),
            (zhangjia, "赵某某", None),
            (gaojia, "李某某", None),
            (yulin, "陈某某", None),
        ):
            _household(session, village, name, poor)
        session.add(  # a cooperative whose number of poor households the catalogue does not give: 1
            Household(
                place_key=f"{yulin.township.code}/{yulin.code}",
                name="鱼鳞合作社",
                township_id=yulin.township_id,
                village_id=yulin.id,
                is_cooperative=True,
            )
        )
        _sale(session, zhangjia, "王某某", "300斤", 45000, date(2019, 2, 10))
        _sale(session, zhangjia, "王某某", "200斤", 30000, date(2019, 8, 5), buyer="县教委机关食堂")
        _sale(session, zhangjia, " 王某某 ", "20只", 200000, date(2019, 8, 20))  # spaces do not matter
        _sale(session, zhangjia, "云丰合作社", "500斤", 100000, date(2019, 7, 1), buyer="县工商联", poor=5)
        _sale(session, zhangjia, "孙某某", "30斤", 90000, date(2019, 5, 5))
        _sale(session, zhangjia, "", "1斤", 5000, date(2019, 6, 1))
        _sale(session, zhangjia, "王某某", "999斤", 999900, date(2018, 12, 31))
        _sale(session, gaojia, "李某某", "10斤", 60000, date(2019, 11, 11), buyer="个人")
        old, current = _version(session, 1), _version(session, 2)
        old.superseded_by_id = current.id
        _sale(session, yulin, "陈某某", "100斤", 10000, date(2019, 8, 1), version=old)
        _sale(session, yulin, "鱼鳞合作社", "50斤", 15000, date(2019, 8, 2), version=current)
        return Places(zhangjia.township_id, zhangjia.id, gaojia.id, yulin.township_id)


@pytest.fixture
def places(db: Database) -> Places:
    """The module's data on each backend."""
    return populate(db)


def _report(db: Database, township_id: int | None = None, village_id: int | None = None) -> HouseholdReport:
    with db.sessions() as session:
        return household_report(session, YEAR, township_id, village_id)


# --- the figures ---------------------------------------------------------------------------------------------


def test_counting_rule() -> None:
    assert counted_poor_households(False, None) == 1
    assert counted_poor_households(False, 7) == 1  # a household is one household
    assert counted_poor_households(True, 5) == 5
    assert counted_poor_households(True, None) == 1


def test_quantities_of_different_units_are_never_added() -> None:
    sales = QuarterSales()
    sales.add(Quantity(Decimal(300), "斤"), 100, "A")
    sales.add(Quantity(Decimal(20), "只"), 200, "B")
    sales.add(Quantity(Decimal(200), "斤"), 300, "A")
    assert sales.quantity_text == "500斤；20只"
    assert (sales.amount_fen, len(sales.buyers), sales.rows) == (600, 2, 3)


def test_each_household_by_quarter(db: Database, places: Places) -> None:
    report = _report(db)
    assert report.quarters == (1, 2, 3, 4) and report.scope == "全县"
    by_name = {h.name: h for h in report.households}
    assert set(by_name) == {"王某某", "云丰合作社", "赵某某", "孙某某", "李某某", "陈某某", "鱼鳞合作社"}
    wang = by_name["王某某"]
    assert (wang.quarter(1).quantity_text, wang.quarter(1).amount_fen, len(wang.quarter(1).buyers)) == (
        "300斤",
        45000,
        1,
    )
    assert wang.quarter(2).rows == 0 and wang.quarter(4).rows == 0
    assert (wang.quarter(3).quantity_text, wang.quarter(3).amount_fen, len(wang.quarter(3).buyers)) == (
        "200斤；20只",
        230000,
        2,
    )
    assert (wang.total.quantity_text, wang.total.amount_fen, wang.total.buyers) == (
        "500斤；20只",
        275000,
        {"县人民医院食堂", "县教委机关食堂"},
    )  # the 2018 sale is not in 2019
    coop = by_name["云丰合作社"]
    assert (coop.is_cooperative, coop.poor_households, coop.quarter(3).amount_fen) == (True, 5, 100000)
    sun = by_name["孙某某"]
    assert (sun.in_catalogue, sun.poor_households, sun.quarter(2).amount_fen) == (False, 1, 90000)
    assert not by_name["赵某某"].sold
    assert not by_name["陈某某"].sold  # its only row is of a superseded 附件2 version
    assert (by_name["鱼鳞合作社"].poor_households, by_name["鱼鳞合作社"].total.amount_fen) == (1, 15000)
    assert by_name["李某某"].deep_poverty and by_name["陈某某"].deep_poverty and not wang.deep_poverty
    assert (report.unnamed_rows, report.unnamed_fen) == (1, 5000)
    assert [h.name for h in report.sellers] == ["王某某", "云丰合作社", "孙某某", "李某某", "鱼鳞合作社"]


def test_county_beneficiaries(db: Database, places: Places) -> None:
    figures = _report(db).figures
    total, deep = figures.total, figures.deep
    # Registered: 王1 + 云丰5 + 赵1 + 李1 + 陈1 + 鱼鳞合作社1 = 10; sold: 王1 + 云丰5 + 李1 + 鱼鳞1 (+ 孙1 outside).
    assert (total.catalogue, total.beneficiaries, total.in_catalogue, total.off_catalogue) == (10, 9, 8, 1)
    assert (total.sellers, total.amount_fen, total.share) == (5, 540000, Decimal("0.8"))
    # Deep poverty: 高家村's 李某某, 泥溪镇's 陈某某 and 鱼鳞合作社.
    assert (deep.catalogue, deep.beneficiaries, deep.in_catalogue, deep.amount_fen) == (3, 2, 2, 75000)
    assert figures.summary_line() == (
        "本年累计受益贫困户9户，占目录登记贫困户10户的80.0%（目录内8户，目录外1户）；"
        "其中深度贫困镇村2户，占目录登记贫困户3户的66.7%（合作社按带动贫困户数计）。"
    )
    with db.sessions() as session:  # the overview's year to date up to Q2: 王某某 and 孙某某 only
        early = beneficiaries(session, date(2019, 1, 1), date(2019, 7, 1))
    assert (early.total.beneficiaries, early.total.in_catalogue, early.deep.beneficiaries) == (2, 1, 0)


def test_villages_and_townships(db: Database, places: Places) -> None:
    report = _report(db)
    villages = {(v.township, v.village): v for v in report.villages}
    assert list(villages) == [("龙角镇", "张家村"), ("龙角镇", "高家村"), ("泥溪镇", "鱼鳞村")]
    zhangjia = villages[("龙角镇", "张家村")].tally
    assert (zhangjia.catalogue, zhangjia.sellers, zhangjia.beneficiaries, zhangjia.in_catalogue) == (7, 3, 7, 6)
    assert zhangjia.amount_fen == 465000
    gaojia = villages[("龙角镇", "高家村")]
    assert gaojia.deep_poverty and (gaojia.tally.catalogue, gaojia.tally.beneficiaries) == (1, 1)
    townships = {t.township: t for t in report.townships}
    longjiao, nixi = townships["龙角镇"], townships["泥溪镇"]
    assert (longjiao.tally.catalogue, longjiao.tally.beneficiaries, longjiao.tally.sellers) == (8, 8, 4)
    assert longjiao.tally.amount_fen == 525000 and not longjiao.deep_poverty
    assert nixi.deep_poverty and (nixi.tally.catalogue, nixi.tally.beneficiaries, nixi.tally.amount_fen) == (
        2,
        1,
        15000,
    )


def test_a_township_and_a_village(db: Database, places: Places) -> None:
    township = _report(db, places.longjiao)
    assert township.scope == "龙角镇" and {t.township for t in township.townships} == {"龙角镇"}
    assert (township.figures.total.catalogue, township.figures.total.beneficiaries) == (8, 8)
    assert (township.figures.deep.catalogue, township.figures.deep.beneficiaries) == (1, 1)  # 高家村
    village = _report(db, places.longjiao, places.zhangjia)
    assert village.scope == "龙角镇张家村"
    assert [h.name for h in village.sellers] == ["王某某", "云丰合作社", "孙某某"]
    assert village.figures.summary_line("") == (
        "受益贫困户7户，占目录登记贫困户7户的85.7%（目录内6户，目录外1户）（合作社按带动贫困户数计）。"
    )
    with db.sessions() as session:
        quarter = household_report(session, Period(2019, 3), places.longjiao)
    assert quarter.quarters == (3,) and [h.name for h in quarter.sellers] == ["王某某", "云丰合作社"]


def test_the_chat_answer_names_at_most_the_limit(db: Database, places: Places) -> None:
    report = _report(db)
    text = household_sales_answer(report, None, limit=2)
    lines = text.splitlines()
    assert (
        lines[0]
        == "全县2019年有5个贫困户（合作社）卖出了产品，受益贫困户9户（合作社按带动贫困户数计），合计5,400.00元："
    )
    assert lines[1] == "1. 张家村 王某某：500斤；20只，2,750.00元，采购单位2个"
    assert lines[2] == "2. 张家村 云丰合作社（合作社，带动贫困户5户）：500斤，1,000.00元，采购单位1个"
    assert lines[3] == "……还有3个未列出。"
    assert lines[4].endswith("python -m bot report households --year 2019 -o 贫困户销售情况.xlsx")


# --- the workbook, the overview and the command line ---------------------------------------------------------


def _values(sheet: Any, row: int) -> list[object]:
    return [cell.value for cell in sheet[row]]


def test_workbook_cells(db: Database, places: Places, tmp_path: Path) -> None:
    path = tmp_path / "households.xlsx"
    write_household_workbook(_report(db), path)
    book = load_workbook(path)
    assert book.sheetnames == ["贫困户", "村", "乡镇"]
    sheet = book["贫困户"]
    assert sheet["A1"].value == "云阳县2019年贫困户产品销售情况（见成效）"
    assert "受益贫困户9户" in sheet["A2"].value
    assert _values(sheet, 3)[:9] == ["序号", "乡镇（街道）", "村（社区）", "贫困户（合作社）", "类型", "计贫困户数",
                                    "深度贫困镇村", "目录登记", "第1季度"]  # fmt: skip
    assert (
        _values(sheet, 4)[8:11] == ["数量", "金额", "采购单位数"] and sheet.cell(row=3, column=21).value == "全年合计"
    )
    rows = {sheet.cell(row=r, column=4).value: _values(sheet, r) for r in range(5, 12)}
    wang = rows["王某某"]
    assert wang[:8] == [3, "龙角镇", "张家村", "王某某", "贫困户", 1, None, "是"]
    assert wang[8:11] == ["300斤", 450, 1]
    assert wang[11:14] == [None, None, None]  # nothing in Q2
    assert wang[14:17] == ["200斤；20只", 2300, 2] and wang[20:23] == ["500斤；20只", 2750, 2]
    assert sheet.cell(row=5, column=22).number_format == "#,##0.00"  # 全年 amount of the first row
    assert rows["云丰合作社"][4:6] == ["合作社", 5]
    assert rows["孙某某"][7] == "目录外" and rows["孙某某"][11:14] == ["30斤", 900, 1]
    assert rows["李某某"][6] == "是" and rows["陈某某"][20:23] == [None, None, None]
    note = sheet.cell(row=sheet.max_row, column=1).value
    assert note.startswith("注：1.贫困户按1户计；合作社按其带动（涉及）的贫困户数计，未登记户数的按1户计。")
    assert "另有1条销售记录未注明贫困户（合计50.00元）" in note
    villages = book["村"]
    assert _values(villages, 3) == ["序号", "乡镇（街道）", "村（社区）", "深度贫困镇村", "目录登记贫困户数",
                                   "有销售的贫困户（合作社）", "受益贫困户数", "其中目录内", "目录外", "受益占目录登记",
                                   "销售金额"]  # fmt: skip
    assert _values(villages, 4)[:10] == [1, "龙角镇", "张家村", None, 7, 3, 7, 6, 1, pytest.approx(6 / 7)]
    assert _values(villages, 4)[10] == 4650 and villages.cell(row=4, column=10).number_format == "0.0%"
    assert _values(villages, 5)[1:9] == ["龙角镇", "高家村", "是", 1, 1, 1, 1, 0]
    assert _values(villages, 7)[1] == "合计" and _values(villages, 7)[4:9] == [10, 5, 9, 8, 1]
    assert _values(villages, 8)[1] == "其中深度贫困镇村" and _values(villages, 8)[4:7] == [3, 2, 2]
    townships = book["乡镇"]
    assert _values(townships, 4)[:9] == [1, "龙角镇", None, 8, 4, 8, 7, 1, 0.875]
    assert _values(townships, 5)[:8] == [2, "泥溪镇", "是", 2, 1, 1, 1, 0]
    assert _values(townships, 6)[1] == "合计" and _values(townships, 6)[9] == 5400


def test_the_overview_counts_beneficiaries(db: Database, places: Places, tmp_path: Path) -> None:
    with db.sessions() as session:
        view = overview(session, Period(2019, 3))
    assert view.beneficiaries is not None
    # To the end of Q3: 王某某, 云丰合作社 (5), 孙某某 (outside), 鱼鳞合作社; 李某某 sells in Q4.
    assert (view.beneficiaries.total.beneficiaries, view.beneficiaries.total.in_catalogue) == (8, 7)
    lines = view.summary_lines()
    assert lines[3] == (
        "本年累计受益贫困户8户，占目录登记贫困户10户的70.0%（目录内7户，目录外1户）；"
        "其中深度贫困镇村1户，占目录登记贫困户3户的33.3%（合作社按带动贫困户数计）。"
    )
    assert lines[4] == "各渠道（本季度 / 本年累计 / 年度目标完成）："
    path = tmp_path / "overview.xlsx"
    write_overview_workbook(view, path)
    sheet = load_workbook(path)["受益贫困户"]
    assert sheet["A1"].value == "云阳县2019年第3季度受益贫困户情况（本年累计）"
    assert _values(sheet, 4)[:7] == ["全县合计", 10, 4, 8, 7, 1, pytest.approx(0.7)]
    assert _values(sheet, 5)[:7] == ["其中：深度贫困镇村", 3, 1, 1, 1, 0, pytest.approx(1 / 3)]


def test_cli_writes_a_townships_households(cli: Cli, tmp_path: Path) -> None:
    assert cli("db", "init").returncode == 0  # the cli fixture's database: tmp_path/cli.db
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    try:
        populate(Database(url, engine, make_session_factory(engine), "sqlite"))
    finally:
        engine.dispose()
    result = cli("report", "households", "--year", "2019", "--township", "龙角镇", "-o", "out/龙角镇.xlsx")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "龙角镇2019年受益贫困户8户，占目录登记贫困户8户的87.5%（目录内7户，目录外1户）" in result.stdout
    assert "已生成龙角镇2019年贫困户销售情况：out/龙角镇.xlsx（贫困户和合作社共5个）" in result.stdout
    book = load_workbook(tmp_path / "out" / "龙角镇.xlsx")
    assert book["贫困户"]["A1"].value == "云阳县龙角镇2019年贫困户产品销售情况（见成效）"
    assert {book["贫困户"].cell(row=r, column=2).value for r in range(5, 10)} == {"龙角镇"}
    assert cli("report", "households", "--year", "2019", "-o", "all.xlsx").returncode == 0
    assert load_workbook(tmp_path / "all.xlsx")["乡镇"].cell(row=5, column=2).value == "泥溪镇"


def test_cli_refuses_an_unknown_township(cli: Cli, tmp_path: Path) -> None:
    result = cli("report", "households", "--year", "2019", "--township", "火星镇", "-o", "x.xlsx")
    assert result.returncode == 1
    assert "云阳县没有叫“火星镇”的乡镇（街道）" in result.stdout
    assert not (tmp_path / "x.xlsx").exists()
    wrong_year = cli("report", "households", "--year", "19", "-o", "x.xlsx")
    assert wrong_year.returncode == 1 and "无法识别的年份“19”" in wrong_year.stdout


# --- the chat --------------------------------------------------------------------------------------------------


@pytest.fixture
def chat(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    """The data on SQLite with an admin and a buyer, "today" in December 2019."""
    populate(sqlite_db)
    with sqlite_db.sessions() as session, session.begin():
        bind_user(session, ADMIN, Role.ADMIN)
        bind_user(session, BUYER, Role.BUYER)
    monkeypatch.setattr(household_actions, "today", lambda: date(2019, 12, 15))
    return sqlite_db


def _ask(db: Database, action_class: type, sender: str, text: str, place: str | None = None) -> list[str]:
    entities = [{"entity": "location", "value": place}] if place else []
    tracker = Tracker(sender, {}, {"text": text, "entities": entities, "intent": {}}, [], False, None, {}, "")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action_class(make_services(db.sessions)).run(dispatcher, tracker, {}))
    assert events == []
    return [m.get("text") or m.get("response") for m in dispatcher.messages]


def test_admin_asks_which_households_of_a_village_sold(chat: Database) -> None:
    (text,) = _ask(chat, ActionHouseholdSales, ADMIN, "张家村今年哪些贫困户卖出了产品", "张家村")
    lines = text.splitlines()
    assert (
        lines[0]
        == "龙角镇张家村2019年有3个贫困户（合作社）卖出了产品，受益贫困户7户（合作社按带动贫困户数计），合计4,650.00元："
    )
    assert lines[1] == "1. 张家村 王某某：500斤；20只，2,750.00元，采购单位2个"
    assert lines[3] == "3. 张家村 孙某某：30斤，900.00元，采购单位1个，目录外"
    assert (
        lines[4]
        == "完整名单（各户按季度）：python -m bot report households --year 2019 --township 龙角镇 -o 贫困户销售情况.xlsx"
    )


def test_admin_asks_a_township_without_the_entity(chat: Database) -> None:
    (text,) = _ask(chat, ActionHouseholdSales, ADMIN, "泥溪镇有哪些贫困户卖了东西")  # the place read from the text
    assert text.startswith("泥溪镇2019年有1个贫困户（合作社）卖出了产品") and "鱼鳞合作社" in text
    (unknown,) = _ask(chat, ActionHouseholdSales, ADMIN, "火星村哪些贫困户卖了东西", "火星村")
    assert unknown.startswith("没有找到“火星村”这个乡镇或村")
    (earlier,) = _ask(chat, ActionHouseholdSales, ADMIN, "去年张家村哪些贫困户卖了东西", "张家村")
    assert earlier.startswith("龙角镇张家村2018年有1个") and "9,999.00元" in earlier


def test_admin_asks_how_many_benefited(chat: Database) -> None:
    (text,) = _ask(chat, ActionBeneficiaries, ADMIN, "全县有多少贫困户受益")
    lines = text.splitlines()
    assert lines[0] == (
        "全县2019年受益贫困户9户，占目录登记贫困户10户的80.0%（目录内8户，目录外1户）；"
        "其中深度贫困镇村2户，占目录登记贫困户3户的66.7%（合作社按带动贫困户数计）。"
    )
    assert lines[1] == "另有1条销售记录未注明贫困户（50.00元），未计入。"
    (quarter,) = _ask(chat, ActionBeneficiaries, ADMIN, "这个季度有多少户贫困户受益了")
    assert quarter.startswith("全县2019年第4季度受益贫困户1户")  # only 李某某 sells in Q4


@pytest.mark.parametrize("action_class", [ActionHouseholdSales, ActionBeneficiaries])
def test_a_buyer_is_refused(chat: Database, action_class: type) -> None:
    assert _ask(chat, action_class, BUYER, "张家村今年哪些贫困户卖出了产品", "张家村") == [
        "utter_households_admin_only"
    ]
    stranger = _ask(chat, action_class, "console:hh-nobody", "全县有多少贫困户受益")
    assert stranger == ["utter_households_admin_only"]
