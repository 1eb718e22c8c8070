"""Quarterly forms (附件2, 附件3), submissions, the 附件2 import and the overview, on real databases."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from PIL import Image
from sqlalchemy import func, select, update

from fupin.models import Listing, Product, ReportSubmission, SaleRecord, Township, Village
from fupin.orders.buyers import find_or_register_buyer
from fupin.orders.lifecycle import change_order, place_order
from fupin.outreach.users import bind_user, identify
from fupin.periods import Period, quarter_of, today
from fupin.reporting.attachment2 import NOTES as NOTES2
from fupin.reporting.attachment2 import SEED_HEADERS as HEADERS2
from fupin.reporting.attachment3 import NOTES as NOTES3
from fupin.reporting.charts import cjk_font
from fupin.reporting.form_writers import write_purchases_form, write_sales_form
from fupin.reporting.overview import overview
from fupin.reporting.overview_workbook import write_overview
from fupin.reporting.quarter import LEAD_UNITS, lead_unit_report, township_report
from fupin.reporting.rows import is_counted
from fupin.reporting.sales import SaleDraft, record_sale
from fupin.reporting.sales_import import import_sales_report
from fupin.reporting.submissions import submit_report, submitted
from fupin.setup import seed_demo
from fupin.values import JIN, Quantity, Role, SupplyMethod
from tests.conftest import Cli, Database, sqlite_copy

Q3 = Period(2019, 3)
# The seed's headers, column by column, and the note rows under each table, as printed in the plan.
SEED_ATTACHMENT2 = ["序号", "采购单位", "销售时间", "地区", "贫困户姓名", "产品品种", "销售数量", "销售金额", "备注"]
SEED_ATTACHMENT3 = ["序号", "采购单位", "采购时间", "地区", "贫困户姓名", "产品品种", "采购数量", "采购金额", "备注"]
SEED_NOTES2 = (
    "备注： 1.各乡镇（街道）每季度末月30日前收集相关采购情况，汇总后上报县商务委。"
    "2.采购对象是合作社的要把涉及到贫困户人数填上。"
)
SEED_NOTES3 = (
    "备注： 1.各牵头单位收集汇总本系统（行业）的采购情况，于每季度末月30日前上报县商务委。"
    "2.采购对象是合作社的要把涉及到贫困户人数填上。"
)


# ------------------------------------------------------------------------------------------ fixtures


@dataclass(frozen=True)
class Sale:
    """A purchase record to put in the database directly."""

    township: str
    village: str | None
    household: str
    buyer: str
    product: str
    quantity: str
    unit: str
    fen: int
    day: date
    source: str = "report"
    poor_households: int | None = None


# Hand-checked figures below depend on exactly these rows.
SALES = [
    Sale("龙角镇", "张家村", "王某某", "县人民医院食堂", "土豆", "30", JIN, 9000, date(2019, 9, 1), "order"),
    Sale("龙角镇", None, "陈某某", "县第一中学", "白菜", "100", JIN, 9000, date(2019, 8, 15)),
    Sale("泥溪镇", "鱼鳞村", "黄某某", "威海市商务局", "黑木耳", "10", JIN, 50000, date(2019, 7, 10)),
    Sale("泥溪镇", "石蛋村", "谭某某", "张三", "土鸡", "2", "只", 24000, date(2019, 9, 30)),
    Sale("故陵镇", "红椿村", "魏某某", "梯城网市电商", "脐橙（纽荷尔）", "1000", JIN, 350000, date(2019, 8, 1)),
    Sale("故陵镇", "高坪村", "高坪村柑橘专业合作社", "重庆云阳某某食品有限公司", "柑橘", "200", JIN, 56000,
         date(2019, 7, 1), poor_households=12),
    # Outside the third quarter: Q2 counts towards the year to date, Q4 and 2018 never.
    Sale("龙角镇", "张家村", "王某某", "县人民医院食堂", "土豆", "100", JIN, 15000, date(2019, 5, 20), "order"),
    Sale("龙角镇", "张家村", "王某某", "县人民医院食堂", "土豆", "333", JIN, 99900, date(2019, 10, 1), "order"),
    Sale("泥溪镇", "鱼鳞村", "黄某某", "威海市商务局", "黑木耳", "7", JIN, 77700, date(2018, 8, 1)),
]  # fmt: skip


def add_sales(db: Database, sales: list[Sale]) -> None:
    """Write purchase records as orders and reports would have."""
    with db.sessions() as session, session.begin():
        for sale in sales:
            township = session.scalars(select(Township).where(Township.name == sale.township)).one()
            village = None
            if sale.village:
                village = session.scalars(
                    select(Village).where(Village.township_id == township.id, Village.short_name == sale.village)
                ).one()
            buyer, _created = find_or_register_buyer(session, sale.buyer)
            session.add(
                SaleRecord(
                    township_id=township.id,
                    village_id=village.id if village else None,
                    household_name=sale.household,
                    poor_households=sale.poor_households,
                    buyer_id=buyer.id,
                    buyer_name=buyer.name,
                    product_name=sale.product,
                    quantity=Decimal(sale.quantity),
                    unit=sale.unit,
                    amount_fen=sale.fen,
                    sold_on=sale.day,
                    remarks="",
                    source=sale.source,
                )
            )


def township_id(db: Database, name: str) -> int:
    with db.sessions() as session:
        return session.scalars(select(Township.id).where(Township.name == name)).one()


@pytest.fixture
def sales(db: Database) -> Database:
    """The records above, 红椿村 flagged deep-poverty, 龙角镇's contact from the demo catalogue."""
    assert seed_demo(db.sessions).ok
    add_sales(db, SALES)
    with db.sessions() as session, session.begin():
        session.execute(update(Village).where(Village.short_name == "红椿村").values(deep_poverty=True))
    return db


def records(db: Database, township: str, period: Period = Q3) -> list[tuple[object, ...]]:
    """(source, buyer, product, quantity, unit, fen, day) of a township's counted records in a quarter, sorted."""
    # Counted ones only: superseded versions' rows are kept for the history but are no figures.
    with db.sessions() as session:
        rows = session.scalars(
            select(SaleRecord)
            .join(Township, SaleRecord.township_id == Township.id)
            .where(Township.name == township, SaleRecord.sold_on >= period.start, SaleRecord.sold_on < period.end)
            .where(is_counted())
        ).all()
        return sorted(
            (r.source, r.buyer_name, r.product_name, r.quantity, r.unit, r.amount_fen, r.sold_on) for r in rows
        )


def meta_line(unit: str) -> str:
    """The 填报单位 row as the seed prints it."""
    return f"填报单位：{unit}        供货联系人姓名：李xx        联系方式：17723635558        填报时间：2019.9.28"


SEED_EXAMPLE = ("云阳县商务委", "2019.9.1", "云阳县xx乡镇xx村", "王某某", "土豆", "30斤", "90元", "")


def filled_xlsx(path: Path, rows: Sequence[tuple[object, ...]], unit: str = "龙角镇", example: bool = False) -> Path:
    """A township's 附件2 as it sends it: label, title, meta row, header, numbered rows, blank row, notes."""
    book = Workbook()
    sheet = book.active
    sheet.append(["附件2"])
    sheet.append(["乡镇（街道）贫困户产品销售情况表"])
    sheet.merge_cells("A2:I2")
    sheet.append([meta_line(unit)])
    sheet.append(SEED_ATTACHMENT2)
    for number, row in enumerate([*([SEED_EXAMPLE] if example else []), *rows], start=1):
        sheet.append([number, *row])
    sheet.append([])
    sheet.append([SEED_NOTES2])
    book.save(path)
    return path


def filled_csv(path: Path, rows: Sequence[tuple[object, ...]], unit: str = "龙角镇") -> Path:
    """The same form saved as CSV in GB18030, as Excel in Chinese saves it."""
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["乡镇（街道）贫困户产品销售情况表"])
        writer.writerow([meta_line(unit)])
        writer.writerow(SEED_ATTACHMENT2)
        for number, row in enumerate(rows, start=1):
            writer.writerow([number, *row])
        writer.writerow([])
        writer.writerow([SEED_NOTES2])
    return path


GOOD_ROWS: list[tuple[object, ...]] = [
    ("县人民医院食堂", "2019.9.3", "云阳县龙角镇张家村", "王某某", "洋芋", "50斤", "75元", ""),
    ("县第一中学", "2019年8月20日", "云阳县龙角镇永富村", "龙角镇永富村腊肉专业合作社（涉及贫困户15户）", "腊肉", "20斤",
     "900", "用于学校食堂"),
    ("张三", "2019-07-05", "", "陈某某", "红薯", "1.5公斤", "¥3.6", ""),
]  # fmt: skip


# ----------------------------------------------------------------------------------------- the forms


def test_seed_headers_and_notes_are_the_plans() -> None:
    assert HEADERS2 == SEED_ATTACHMENT2
    assert NOTES2 == SEED_NOTES2 and NOTES3 == SEED_NOTES3


def test_attachment2_has_the_seeds_layout_units_and_yuan(sales: Database, tmp_path: Path) -> None:
    out = tmp_path / "longjiao.xlsx"
    with sales.sessions() as session:
        assert write_sales_form(session, Q3, township_id(sales, "龙角镇"), out) == out
    book = load_workbook(out)
    assert book.sheetnames == ["龙角镇"]
    sheet = book["龙角镇"]
    assert sheet["A1"].value == "附件2"
    assert sheet["A2"].value == "乡镇（街道）贫困户产品销售情况表"
    assert "A2:I2" in {str(r) for r in sheet.merged_cells.ranges}
    meta = sheet["A3"].value
    assert meta.startswith("填报单位：龙角镇") and "供货联系人姓名：李xx" in meta and "联系方式：17723635558" in meta
    filled_on = today()
    assert meta.endswith(f"填报时间：{filled_on.year}.{filled_on.month}.{filled_on.day}")
    assert [c.value for c in sheet[4]] == SEED_ATTACHMENT2
    first, second, total = ([c.value for c in sheet[r]] for r in (5, 6, 7))
    assert first == [1, "县第一中学", datetime(2019, 8, 15), "云阳县龙角镇", "陈某某", "白菜", "100斤", 90, None]
    assert second == [
        2,
        "县人民医院食堂",
        datetime(2019, 9, 1),
        "云阳县龙角镇张家村",
        "王某某",
        "土豆",
        "30斤",
        90,
        None,
    ]
    assert total[0] == "合计" and total[7] == 180
    assert sheet["C5"].number_format == "yyyy.m.d"  # shows 2019.8.15 as the seed writes dates
    assert sheet["H5"].number_format == '#,##0.00"元"'  # shows 90.00元 and still sums
    assert sheet["A9"].value == SEED_NOTES2 and sheet.max_row == 9


def test_attachment2_for_all_townships_is_a_sheet_per_township(sales: Database, tmp_path: Path) -> None:
    out = tmp_path / "all.xlsx"
    with sales.sessions() as session:
        write_sales_form(session, Q3, None, out)
    book = load_workbook(out)
    assert book.sheetnames == ["龙角镇", "故陵镇", "泥溪镇"]  # by statistical code
    guling = book["故陵镇"]
    assert guling["A3"].value.startswith("填报单位：故陵镇")
    assert [c.value for c in guling[4]] == SEED_ATTACHMENT2
    households = [guling.cell(row=r, column=5).value for r in (5, 6)]
    assert households == ["高坪村柑橘专业合作社（涉及贫困户12户）", "魏某某"]  # the plan's note 2
    assert guling["H7"].value == 4060  # 560 + 3500 元


def test_empty_quarter_still_writes_a_blank_form(db: Database, tmp_path: Path) -> None:
    out = tmp_path / "none.xlsx"
    with db.sessions() as session:
        write_sales_form(session, Q3, None, out)
        write_purchases_form(session, Q3, None, tmp_path / "none3.xlsx")
    sheet = load_workbook(out).active
    assert [c.value for c in sheet[4]] == SEED_ATTACHMENT2 and sheet["A6"].value == SEED_NOTES2
    assert [c.value for c in load_workbook(tmp_path / "none3.xlsx").active[4]] == SEED_ATTACHMENT3


def test_attachment3_lists_the_lead_units_buyers_only(sales: Database, tmp_path: Path) -> None:
    out = tmp_path / "health.xlsx"
    with sales.sessions() as session:
        write_purchases_form(session, Q3, "县卫生健康委", out)
        report = lead_unit_report(session, Q3, "县卫生健康委")
    assert [(r.buyer, r.amount_fen) for r in report.rows] == [("县人民医院食堂", 9000)]
    sheet = load_workbook(out).active
    assert sheet.title == "县卫生健康委"
    assert sheet["A1"].value == "附件3"
    assert sheet["A2"].value == "牵头单位系统（行业）购买贫困户产品采购情况表"
    assert sheet["A3"].value.startswith("填报单位：县卫生健康委")
    for label in ("供货联系人姓名：", "联系方式：", "填报时间："):
        assert label in sheet["A3"].value
    assert [c.value for c in sheet[4]] == SEED_ATTACHMENT3
    assert [c.value for c in sheet[5]][1:8] == [
        "县人民医院食堂", datetime(2019, 9, 1), "云阳县龙角镇张家村", "王某某", "土豆", "30斤", 90
    ]  # fmt: skip
    assert sheet["A6"].value == "合计" and sheet["A8"].value == SEED_NOTES3


def test_attachment3_for_all_lead_units(sales: Database, tmp_path: Path) -> None:
    out = tmp_path / "leads.xlsx"
    with sales.sessions() as session:
        write_purchases_form(session, Q3, None, out)
    book = load_workbook(out)
    # The plan's order of lead units; 个人 (张三) belongs to none.
    assert book.sheetnames == ["县教委", "县卫生健康委", "县发展改革委", "县工商联", "县商务委"]
    assert book["县商务委"]["F5"].value == "脐橙（纽荷尔）" and book["县商务委"]["H5"].value == 3500


# --------------------------------------------------------------------------------------- the reports


def test_township_report_totals_and_summary(sales: Database) -> None:
    with sales.sessions() as session:
        report = township_report(session, Q3, township_id(sales, "龙角镇"))
    assert report.township == "龙角镇" and (report.contact_name, report.contact_phone) == ("李xx", "17723635558")
    assert [(r.product, r.amount_fen) for r in report.rows] == [("白菜", 9000), ("土豆", 9000)]
    assert report.total_fen == 18000
    assert [(g.name, g.rows, g.quantity_text, g.amount_fen) for g in report.by_product()] == [
        ("土豆", 1, "30斤", 9000),
        ("白菜", 1, "100斤", 9000),
    ]
    assert report.summary_lines() == [
        "龙角镇2019年第3季度贫困户产品销售情况（附件2）：共2条，合计180.00元。",
        "按产品：",
        "· 土豆：1条，30斤，90.00元",
        "· 白菜：1条，100斤，90.00元",
        "其中订单送达自动登记1条，乡镇报送1条。",
        "附件2尚未报送，截止日期2019年9月30日。",
    ]


def test_report_summary_mixes_units_and_shows_the_submission(sales: Database) -> None:
    add_sales(sales, [Sale("泥溪镇", "石蛋村", "谭某某", "张三", "土鸡", "3", JIN, 9000, date(2019, 9, 2))])
    nixi = township_id(sales, "泥溪镇")
    with sales.sessions() as session, session.begin():
        submit_report(
            session, kind="sales", period=Q3, reporter="泥溪镇", township_id=nixi, user_id=None,
            source="chat", rows=3, amount_fen=83000,
        )  # fmt: skip
    with sales.sessions() as session:
        lines = township_report(session, Q3, nixi).summary_lines()
    assert "· 土鸡：2条，3斤+2只，330.00元" in lines
    assert lines[-1].startswith("附件2已于") and lines[-1].endswith("通过对话报送，3条，合计830.00元。")


def test_lead_unit_summary_by_buyer(sales: Database) -> None:
    with sales.sessions() as session:
        lines = lead_unit_report(session, Q3, "县商务委").summary_lines()
    assert lines[:3] == [
        "县商务委2019年第3季度系统（行业）采购情况（附件3）：共1条，合计3,500.00元。",
        "按采购单位：",
        "· 梯城网市电商：1条，1000斤，3,500.00元",
    ]


def test_year_is_not_a_quarter(db: Database) -> None:
    with db.sessions() as session, pytest.raises(ValueError, match="quarter"):
        township_report(session, Period(2019), township_id(db, "龙角镇"))


# ------------------------------------------------------------------------------------ submissions


def test_submission_is_recorded_once_and_updated_on_resubmission(db: Database) -> None:
    longjiao = township_id(db, "龙角镇")
    with db.sessions() as session, session.begin():
        first = submit_report(
            session, kind="sales", period=Q3, reporter="龙角镇", township_id=longjiao, user_id=None,
            source="chat", rows=2, amount_fen=18000,
        )  # fmt: skip
        first_at = first.submitted_at
    with db.sessions() as session, session.begin():
        submit_report(
            session, kind="sales", period=Q3, reporter="龙角镇", township_id=longjiao, user_id=None,
            source="file", rows=5, amount_fen=50000,
        )  # fmt: skip
        submit_report(
            session, kind="purchases", period=Q3, reporter="县教委", township_id=None, user_id=None,
            source="file", rows=1, amount_fen=100,
        )  # fmt: skip
        submit_report(
            session, kind="sales", period=Period(2019, 2), reporter="泥溪镇", township_id=None, user_id=None,
            source="chat", rows=0, amount_fen=0,
        )  # fmt: skip
    with db.sessions() as session:
        rows = session.scalars(select(ReportSubmission).where(ReportSubmission.reporter == "龙角镇")).all()
        assert [(r.kind, r.period, r.source, r.rows, r.amount_fen) for r in rows] == [
            ("sales", "2019Q3", "file", 5, 50000)
        ]
        assert rows[0].submitted_at >= first_at
        assert submitted(session, "sales", Q3) == {"龙角镇"}
        assert submitted(session, "purchases", Q3) == {"县教委"}
        assert submitted(session, "sales", Period(2019, 2)) == {"泥溪镇"}
        assert submitted(session, "sales", Period(2019, 4)) == set()


def test_submission_rejects_unknown_kind_and_source(db: Database) -> None:
    with db.sessions() as session:
        for kind, source in (("catalog", "chat"), ("sales", "email")):
            with pytest.raises(ValueError, match="unknown"):
                submit_report(
                    session, kind=kind, period=Q3, reporter="龙角镇", township_id=None, user_id=None,
                    source=source, rows=1, amount_fen=1,
                )  # fmt: skip


# --------------------------------------------------------------------------------------- overview


def test_overview_figures_equal_hand_computed_totals(sales: Database) -> None:
    with sales.sessions() as session, session.begin():
        for kind, period, reporter in (
            ("sales", Q3, "龙角镇"),
            ("sales", Period(2019, 2), "泥溪镇"),  # another quarter's submission does not count
            ("purchases", Q3, "县卫生健康委"),
        ):
            submit_report(
                session, kind=kind, period=period, reporter=reporter, township_id=None, user_id=None,
                source="file", rows=1, amount_fen=1,
            )  # fmt: skip
    with sales.sessions() as session:
        view = overview(session, Q3)
    total, deep = view.total, view.deep
    assert (total.quarter_fen, total.year_fen) == (498000, 513000)
    assert total.annual_target_fen == 6000 * 10_000 * 100 and total.quarter_target_fen == 1500 * 10_000 * 100
    assert total.quarter_ratio == Decimal(498000) / Decimal(1500 * 10_000 * 100)
    assert total.year_ratio == Decimal(513000) / Decimal(6000 * 10_000 * 100)
    # 泥溪镇 is a deep-poverty township; 红椿村 a deep-poverty village of 故陵镇.
    assert (deep.quarter_fen, deep.year_fen, deep.annual_target_fen) == (424000, 424000, 1000 * 10_000 * 100)
    assert view.deep_share == Decimal(424000) / Decimal(498000)
    assert view.deep_share_year == Decimal(424000) / Decimal(513000)
    channels = {line.name: line for line in view.channels}
    assert [line.name for line in view.channels] == [
        "“五进”对接直销", "对口帮扶助销", "爱心企业订销", "节会推介展销", "电子商务营销", "旅游服务带销"
    ]  # fmt: skip
    figures = {name: (line.quarter_fen, line.year_fen, line.annual_target_fen) for name, line in channels.items()}
    wan = 10_000 * 100
    assert figures == {
        "“五进”对接直销": (18000, 33000, 2000 * wan),
        "对口帮扶助销": (50000, 50000, 1000 * wan),
        "爱心企业订销": (56000, 56000, 500 * wan),
        "节会推介展销": (0, 0, 500 * wan),
        "电子商务营销": (350000, 350000, 1500 * wan),
        "旅游服务带销": (0, 0, 500 * wan),
    }
    wujin = channels["“五进”对接直销"]
    assert [(p.name, p.quarter_fen, p.year_fen) for p in wujin.parts] == [
        ("进机关", 0, 0),
        ("进学校", 9000, 9000),
        ("进医院", 9000, 24000),
        ("进企业", 0, 0),
        ("进家庭", 0, 0),
    ]
    assert wujin.year_ratio == Decimal(33000) / Decimal(2000 * wan)
    assert channels["电子商务营销"].quarter_ratio == Decimal(350000) / Decimal(1500 * wan // 4)
    assert [p.name for p in channels["对口帮扶助销"].parts] == ["农货“销山东”", "农货“销主城”", "农货“销央企”"]
    assert channels["爱心企业订销"].parts == ()
    assert (view.other.quarter_fen, view.other.year_fen) == (24000, 24000)  # 个人
    townships = {t.name: (t.quarter_fen, t.year_fen, t.deep_poverty) for t in view.townships}
    assert len(townships) == 42
    assert townships["龙角镇"] == (18000, 33000, False)
    assert townships["泥溪镇"] == (74000, 74000, True)
    assert townships["故陵镇"] == (406000, 406000, False)
    assert sum(q for q, _y, _d in townships.values()) == total.quarter_fen
    assert view.submitted_townships == ["龙角镇"]
    assert "泥溪镇" in view.missing_townships and len(view.missing_townships) == 41
    units = {u.name: (u.quarter_fen, u.year_fen) for u in view.lead_units}
    assert [u.name for u in view.lead_units] == list(LEAD_UNITS) and len(LEAD_UNITS) == 10
    assert units["县卫生健康委"] == (9000, 24000) and units["县发展改革委"] == (50000, 50000)
    assert units["县商务委"] == (350000, 350000) and units["县工商联"] == (56000, 56000)
    assert view.submitted_lead_units == ["县卫生健康委"]
    assert view.missing_lead_units == [u for u in LEAD_UNITS if u != "县卫生健康委"]
    assert (view.complaints.total, view.complaints.settled_share) == (0, None)
    lines = view.summary_lines()
    assert lines[1] == "全县销售4,980.00元；本年累计5,130.00元，完成年度目标6000万元的0.0%。"
    assert lines[2].startswith("深度贫困镇村4,240.00元，占85.1%；")
    assert lines[-2].startswith("附件2已报送乡镇（街道）1个/42个；未报送：双江街道、")
    assert lines[-1].startswith(
        "附件3已报送牵头单位1个/10个；未报送：县机关事务服务中心、县教委、县国有资产管理服务中心"
    )


def test_write_overview_workbook_and_charts(sales: Database, tmp_path: Path) -> None:
    out = tmp_path / "overview"
    with sales.sessions() as session:
        paths = write_overview(session, Q3, out)
    assert [p.name for p in paths] == [
        "2019Q3消费扶贫总体情况.xlsx",
        "2019Q3各渠道完成情况.png",
        "2019Q3各乡镇销售情况.png",
    ]
    book = load_workbook(paths[0])
    assert book.sheetnames[:5] == ["总体情况", "各乡镇", "牵头单位", "质量投诉", "物流"]
    assert "受益贫困户" in book.sheetnames  # tests/test_households.py checks its cells
    summary = book["总体情况"]
    assert summary["A1"].value == "云阳县2019年第3季度消费扶贫总体情况"
    assert [c.value for c in summary[3]] == [
        "项目", "本季度", "季度目标", "季度完成率", "本年累计", "年度目标", "年度完成率", "占全县（本年累计）"
    ]  # fmt: skip
    rows = {summary.cell(row=r, column=1).value: [c.value for c in summary[r]] for r in range(4, summary.max_row + 1)}
    assert rows["全县合计"][1:7] == [4980, 15_000_000, pytest.approx(498000 / 1_500_000_000), 5130, 60_000_000,
                                  pytest.approx(513000 / 6_000_000_000)]  # fmt: skip
    assert rows["其中：深度贫困镇村"][1] == 4240 and rows["其中：深度贫困镇村"][5] == 10_000_000
    assert rows["“五进”对接直销"][4:6] == [330, 20_000_000]
    assert rows["　　进医院"][1] == 90 and rows["　　进医院"][4] == 240
    assert rows["电子商务营销"][5] == 15_000_000
    assert rows["其他（个人等，不计入六销渠道）"][1] == 240
    assert summary["D4"].number_format == "0.0%"
    townships = book["各乡镇"]
    assert [c.value for c in townships[3]][:6] == [
        "序号",
        "乡镇（街道）",
        "深度贫困镇",
        "本季度销售额",
        "本年累计",
        "附件2报送",
    ]
    by_name = {townships.cell(row=r, column=2).value: [c.value for c in townships[r]] for r in range(4, 46)}
    assert len(by_name) == 42
    assert by_name["泥溪镇"][2:6] == ["是", 740, 740, "未报送"]
    assert by_name["龙角镇"][3:5] == [180, 330]
    assert [c.value for c in book["牵头单位"][3]][:5] == ["序号", "牵头单位", "本季度采购额", "本年累计", "附件3报送"]
    # A quarter without complaints: the sheet says so (its figures with complaints: tests/test_complaints.py).
    complaints = book["质量投诉"]
    assert complaints["A1"].value == "云阳县2019年第3季度质量投诉情况"
    assert [c.value for c in complaints[3]] == [
        "序号",
        "乡镇（街道）",
        "质量",
        "数量不足",
        "以次充好",
        "未送达",
        "其他",
        "合计",
    ]
    assert [c.value for c in complaints[4]] == [None, "全县合计", 0, 0, 0, 0, 0, 0]
    for png in paths[1:]:
        with Image.open(png) as image:
            assert image.format == "PNG" and image.size[0] >= 800 and image.size[1] >= 300


def test_charts_have_a_chinese_font() -> None:
    # requirements.txt pins pylopdf-fonts-zh-cn: Noto Sans SC, registered with matplotlib at run time.
    assert cjk_font() == "Noto Sans SC"


# ------------------------------------------------------------------------------------- 附件2 import


def test_import_good_file(sales: Database, tmp_path: Path) -> None:
    path = filled_xlsx(tmp_path / "lj.xlsx", GOOD_ROWS, example=True)
    result = import_sales_report(sales.sessions, path, Q3, township_id(sales, "龙角镇"), None)
    assert result.ok, result.lines()
    # Issue #20: the file no longer deletes the sale reported before it (白菜, told in chat).
    assert (result.rows, result.added, result.matched_orders, result.replaced) == (3, 3, 0, 0)
    assert result.amount_fen == 7500 + 90000 + 360
    assert records(sales, "龙角镇") == [
        ("order", "县人民医院食堂", "土豆", 30, JIN, 9000, date(2019, 9, 1)),  # the order's record stays
        ("report", "县人民医院食堂", "土豆", 50, JIN, 7500, date(2019, 9, 3)),  # 洋芋 is 土豆
        ("report", "县第一中学", "白菜", 100, JIN, 9000, date(2019, 8, 15)),  # the chat report stays
        ("report", "县第一中学", "腊肉", 20, JIN, 90000, date(2019, 8, 20)),
        ("report", "张三", "红薯", 3, JIN, 360, date(2019, 7, 5)),  # 1.5公斤 = 3斤
    ]  # the seed's sample row (xx乡镇) is not imported
    with sales.sessions() as session:
        coop = session.scalars(select(SaleRecord).where(SaleRecord.product_name == "腊肉")).one()
        assert (coop.household_name, coop.poor_households, coop.remarks) == (
            "龙角镇永富村腊肉专业合作社",
            15,
            "用于学校食堂",
        )
        assert session.get(Village, coop.village_id).short_name == "永富村"
        submission = session.scalars(select(ReportSubmission)).one()
        assert (submission.kind, submission.period, submission.reporter, submission.source) == (
            "sales", "2019Q3", "龙角镇", "file"
        )  # fmt: skip
        assert (submission.rows, submission.amount_fen) == (3, 97860)
    assert result.lines()[0] == "✓ lj.xlsx：已导入龙角镇2019年第3季度贫困户产品销售情况（附件2），共3条，合计978.60元。"


def test_import_csv_in_gb18030(sales: Database, tmp_path: Path) -> None:
    path = filled_csv(tmp_path / "lj.csv", GOOD_ROWS[:1])
    result = import_sales_report(sales.sessions, path, Q3, township_id(sales, "龙角镇"), None)
    assert result.ok, result.lines()
    assert ("report", "县人民医院食堂", "土豆", 50, JIN, 7500, date(2019, 9, 3)) in records(sales, "龙角镇")


BAD_ROWS: list[tuple[object, ...]] = [
    ("县人民医院食堂", "2019.6.30", "云阳县龙角镇张家村", "王某某", "土豆", "30斤", "90元", ""),
    ("县人民医院食堂", "2019.9.1", "云阳县泥溪镇鱼鳞村", "黄某某", "黑木耳", "10斤", "面议", ""),
    ("县第一中学", "2019.9.2", "云阳县龙角镇永富村", "永富村腊肉专业合作社", "腊肉", "", "100元", ""),
    ("", "2019.2.30", "云阳县龙角镇张家村", "王某某", "土豆", "若干", "0", ""),
    GOOD_ROWS[0],
]


def test_import_bad_rows_reports_row_and_column_and_imports_nothing(sales: Database, tmp_path: Path) -> None:
    before = records(sales, "龙角镇")
    path = filled_xlsx(tmp_path / "bad.xlsx", BAD_ROWS)
    result = import_sales_report(sales.sessions, path, Q3, township_id(sales, "龙角镇"), None)
    assert not result.ok and not result.applied
    assert [str(issue) for issue in result.issues] == [
        "bad.xlsx 第5行，C列“销售时间”：销售时间2019.6.30不在2019年第3季度（2019.7.1—2019.9.30）内",
        "bad.xlsx 第6行，D列“地区”：地区“云阳县泥溪镇鱼鳞村”不属于龙角镇，请只填报本乡镇（街道）的销售",
        "bad.xlsx 第6行，H列“销售金额”：无法识别的销售金额“面议”（应填如 90元）",
        "bad.xlsx 第7行，E列“贫困户姓名”：采购对象是合作社的要填上涉及的贫困户人数（如 XX合作社（涉及贫困户12户））",
        "bad.xlsx 第7行，G列“销售数量”：缺少销售数量",
        "bad.xlsx 第8行，B列“采购单位”：缺少采购单位",
        "bad.xlsx 第8行，C列“销售时间”：无法识别的销售时间“2019.2.30”（应填如 2019.9.1）",
        "bad.xlsx 第8行，G列“销售数量”：无法识别的销售数量“若干”（应填如 30斤）",
        "bad.xlsx 第8行，H列“销售金额”：销售金额必须大于0（填的是“0”）",
    ]
    assert result.lines()[0] == "✗ bad.xlsx：有4行填写有误，整份文件未导入，请改正后重新发送："
    assert records(sales, "龙角镇") == before  # not even the good last row
    with sales.sessions() as session:
        assert submitted(session, "sales", Q3) == set()


def test_unreadable_files_import_nothing(sales: Database, tmp_path: Path) -> None:
    before = records(sales, "龙角镇")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    text = tmp_path / "note.txt"
    text.write_text("hello", encoding="utf-8")
    wrong = tmp_path / "wrong.xlsx"
    book = Workbook()
    book.active.append(["序号", "地区", "贫困户姓名", "产品品种", "计划销量", "销售价格（元）"])  # 附件1, not 附件2
    book.save(wrong)
    other = filled_xlsx(tmp_path / "nixi.xlsx", GOOD_ROWS, unit="泥溪镇")
    empty = filled_xlsx(tmp_path / "empty.xlsx", [], example=True)
    errors = {}
    for path in (broken, text, wrong, other, empty, tmp_path / "absent.xlsx"):
        result = import_sales_report(sales.sessions, path, Q3, township_id(sales, "龙角镇"), None)
        assert not result.ok and result.error is not None and not result.applied
        assert result.lines() == [f"✗ {result.error}（未导入任何内容）"]
        errors[path.name] = result.error
    assert "无法打开" in errors["broken.xlsx"]
    assert "不支持的文件类型.txt" in errors["note.txt"]
    assert "表头缺少列 “采购单位”、“销售时间”、“销售数量”、“销售金额”" in errors["wrong.xlsx"]
    assert errors["nixi.xlsx"] == "nixi.xlsx：填报单位是泥溪镇，不是龙角镇"
    assert "表中没有销售记录" in errors["empty.xlsx"]
    assert "找不到文件" in errors["absent.xlsx"]
    assert records(sales, "龙角镇") == before
    with sales.sessions() as session:
        assert session.scalar(select(func.count(ReportSubmission.id))) == 0


def test_resending_replaces_the_previous_file(sales: Database, tmp_path: Path) -> None:
    longjiao = township_id(sales, "龙角镇")
    assert import_sales_report(sales.sessions, filled_xlsx(tmp_path / "a.xlsx", GOOD_ROWS), Q3, longjiao, None).ok
    corrected = [("县人民医院食堂", "2019.9.3", "云阳县龙角镇张家村", "王某某", "土豆", "60斤", "90元", "")]
    again = import_sales_report(sales.sessions, filled_xlsx(tmp_path / "b.xlsx", corrected), Q3, longjiao, None)
    assert again.ok and (again.added, again.replaced) == (1, 3)
    assert records(sales, "龙角镇") == [
        ("order", "县人民医院食堂", "土豆", 30, JIN, 9000, date(2019, 9, 1)),
        ("report", "县人民医院食堂", "土豆", 60, JIN, 9000, date(2019, 9, 3)),
        ("report", "县第一中学", "白菜", 100, JIN, 9000, date(2019, 8, 15)),  # told in chat: no file replaces it
    ]
    assert records(sales, "泥溪镇")[0][0] == "report"  # other townships untouched
    assert len(records(sales, "泥溪镇")) == 2
    with sales.sessions() as session:
        rows = session.scalars(select(ReportSubmission)).all()
        assert [(r.reporter, r.rows, r.amount_fen) for r in rows] == [("龙角镇", 1, 9000)]
        # Q2 and Q4 records of the township are not the third quarter's to replace.
        assert session.scalar(select(func.count(SaleRecord.id)).where(SaleRecord.amount_fen.in_((15000, 99900)))) == 2


def test_round_trip_with_orders_and_chat_reports_counts_each_sale_once(db: Database, tmp_path: Path) -> None:
    assert seed_demo(db.sessions).ok
    quarter = quarter_of(today())
    with db.sessions() as session, session.begin():
        bind_user(session, "console:contact-lj", Role.CONTACT, township="龙角镇", display_name="李xx")
        listing = session.scalars(
            select(Listing).join(Product).where(Product.name == "土豆", Listing.listing_key.contains("500235105"))
        ).one()
        order, _quote = place_order(
            session, sender_id="console:buyer", listing_id=listing.id, quantity=Quantity(Decimal(30), JIN),
            buyer_name="县人民医院食堂", phone="17723635558", supply_method=SupplyMethod.DELIVERY,
        )  # fmt: skip
        contact = identify(session, "console:contact-lj")
        change_order(session, order.order_no, "deliver", contact)
        draft = SaleDraft("县第一中学", "白菜", Quantity(Decimal(100), JIN), 9000, today())
        record_sale(session, contact, draft)  # told the bot in chat
    longjiao = township_id(db, "龙角镇")
    before = records(db, "龙角镇", quarter)
    assert [r[0] for r in before] == ["order", "report"]
    sent = tmp_path / "from-bot.xlsx"
    with db.sessions() as session:
        write_sales_form(session, quarter, longjiao, sent)
    result = import_sales_report(db.sessions, sent, quarter, longjiao, None)
    assert result.ok, result.lines()
    # The order's record and the chat report each absorb the file's row that repeats them; nothing is replaced.
    assert (result.rows, result.matched_orders, result.added, result.replaced) == (2, 1, 0, 0)
    assert result.matched_reports == 1
    assert records(db, "龙角镇", quarter) == before  # nothing counted twice, nothing lost
    with db.sessions() as session:
        assert overview(session, quarter).total.quarter_fen == 4500 + 9000
        assert township_report(session, quarter, longjiao).summary_lines()[-1].startswith("附件2已于")


# ---------------------------------------------------------------------------------- command line


@pytest.fixture
def cli_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """The command line's SQLite file, prepared and filled with the records above."""
    with sqlite_copy(sqlite_template, tmp_path / "cli.db") as database:
        add_sales(database, SALES)
        database.engine.dispose()  # the command line opens the file itself
        yield database


def test_cli_writes_forms_and_overview(cli: Cli, cli_db: Database, tmp_path: Path) -> None:
    result = cli("report", "sales", "--quarter", "2019Q3", "--township", "龙角", "-o", "a2.xlsx")
    assert result.returncode == 0, result.stderr
    assert "已生成龙角镇2019年第3季度附件2：a2.xlsx（2条，合计180.00元）" in result.stdout
    sheet = load_workbook(tmp_path / "a2.xlsx").active
    assert sheet["A2"].value == "乡镇（街道）贫困户产品销售情况表" and [c.value for c in sheet[4]] == SEED_ATTACHMENT2
    result = cli("report", "sales", "--quarter", "2019Q3", "-o", "all.xlsx")
    assert result.returncode == 0 and load_workbook(tmp_path / "all.xlsx").sheetnames == ["龙角镇", "故陵镇", "泥溪镇"]
    result = cli("report", "purchases", "--quarter", "2019Q3", "--lead-unit", "县教委", "-o", "a3.xlsx")
    assert result.returncode == 0, result.stderr
    assert "已生成县教委2019年第3季度附件3：a3.xlsx（1条，合计90.00元）" in result.stdout
    assert [c.value for c in load_workbook(tmp_path / "a3.xlsx").active[4]] == SEED_ATTACHMENT3
    result = cli("report", "overview", "--quarter", "2019Q3", "-o", "overview")
    assert result.returncode == 0, result.stderr
    assert "全县销售4,980.00元；本年累计5,130.00元" in result.stdout
    assert sorted(p.name for p in (tmp_path / "overview").iterdir()) == sorted(
        ["2019Q3消费扶贫总体情况.xlsx", "2019Q3各渠道完成情况.png", "2019Q3各乡镇销售情况.png"]
    )


def test_cli_imports_a_townships_file(cli: Cli, cli_db: Database, tmp_path: Path) -> None:
    good = filled_xlsx(tmp_path / "good.xlsx", GOOD_ROWS)
    result = cli("report", "import", str(good), "--quarter", "2019Q3", "--township", "龙角镇")
    assert result.returncode == 0, result.stderr + result.stdout
    assert "✓ good.xlsx：已导入龙角镇2019年第3季度贫困户产品销售情况（附件2），共3条" in result.stdout
    bad = filled_xlsx(tmp_path / "bad.xlsx", BAD_ROWS)
    result = cli("report", "import", str(bad), "--quarter", "2019Q3", "--township", "龙角镇")
    assert result.returncode == 1
    assert "bad.xlsx 第6行，H列“销售金额”：无法识别的销售金额“面议”（应填如 90元）" in result.stdout
    with cli_db.sessions() as session:
        assert submitted(session, "sales", Q3) == {"龙角镇"}
    cli_db.engine.dispose()


def test_cli_import_without_township_takes_the_forms_unit(cli: Cli, cli_db: Database, tmp_path: Path) -> None:
    unnamed = filled_xlsx(tmp_path / "unnamed.xlsx", GOOD_ROWS, unit="")
    result = cli("report", "import", str(unnamed), "--quarter", "2019Q3")
    assert result.returncode == 1
    assert "unnamed.xlsx：表中没有填写填报单位，请用 --township 写明是哪个乡镇（街道）的附件2" in result.stdout
    good = filled_xlsx(tmp_path / "good.xlsx", GOOD_ROWS, unit="龙角镇")
    result = cli("report", "import", str(good), "--quarter", "2019Q3")
    assert result.returncode == 0, result.stderr + result.stdout
    assert "✓ good.xlsx：已导入龙角镇2019年第3季度贫困户产品销售情况（附件2），共3条" in result.stdout
    with cli_db.sessions() as session:
        assert submitted(session, "sales", Q3) == {"龙角镇"}
    cli_db.engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("report", "sales", "--quarter", "2019Q5", "-o", "x.xlsx"), "无法识别的季度“2019Q5”"),
        (("report", "overview", "--quarter", "2019", "-o", "out"), "无法识别的季度“2019”"),
        (("report", "sales", "--quarter", "2019Q3", "--township", "火星镇", "-o", "x.xlsx"), "云阳县没有叫“火星镇”的乡镇（街道）"),
        (("report", "purchases", "--quarter", "2019Q3", "--lead-unit", "县气象局", "-o", "x.xlsx"), "未知的牵头单位“县气象局”"),
        (("report", "import", "x.xlsx", "--quarter", "2019Q3", "--township", "火星镇"), "云阳县没有叫“火星镇”的乡镇（街道）"),
    ],
)  # fmt: skip
def test_cli_bad_input_is_a_clear_chinese_error(cli: Cli, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = cli(*args)
    assert result.returncode == 1
    assert message in result.stdout
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.xlsx").exists()
