"""附件1 import and export: real-world file shapes, every bad-row case, re-import, round trip."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from fupin.catalog.files import export_catalog, import_catalog_files
from fupin.models import CatalogImport, Household, Listing, Product, SupplyContact
from fupin.setup import seed_demo
from fupin.values import SupplyMethod
from tests.conftest import Database
from tests.helpers import GOOD_ROW, HEADERS, row, write_csv, write_xlsx


def _listings(db: Database) -> list[Listing]:
    with db.sessions() as session:
        return list(session.scalars(select(Listing).order_by(Listing.id)))


def _count(db: Database, model: type) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_real_world_shapes_import(db: Database, tmp_path: Path) -> None:
    rows = [
        ("云阳县龙角镇张家村", "王某某", "土豆", "３０斤", "3元/斤", "送货上门、上门自提", "", "李xx 17723635558", ""),
        ("", "陈某某", "红薯", "300公斤", "¥2.8/斤", "送货上门", "", "李xx 177 2363 5558", ""),
        (
            "龙角镇高家村",
            "刘某某",
            "蜂蜜",
            "2吨",
            "3.5",
            "电商",
            "https://shop.example/1",
            "高xx 17723630101",
            "土蜂蜜",
        ),
        (
            "云阳县龙角镇永富村",
            "永富村养殖专业合作社（涉及贫困户12户）",
            "土鸡",
            "80只",
            "120元/只",
            "送货上门，上门自提",
            "",
            "周xx（177-2363-0102）",
            "",
        ),
        ("张家村", "王某某", "脐橙（纽荷尔）", "500", "3元/斤", "电商/送货上门", "", "李xx 17723635558", ""),
    ]
    # 地区 of rows 1-2 merged, as townships often do; a blank row in between; notes at the bottom.
    path = write_xlsx(tmp_path / "龙角镇.xlsx", rows, merges=["B5:B6"], blank_rows_after=[3])
    report = import_catalog_files(db.sessions, [path])
    assert report.ok, report.lines()
    assert report.files[0].created == 5
    with db.sessions() as session:
        listings = {(lst.product.name, lst.variety): lst for lst in session.scalars(select(Listing)).all()}
        potato = listings[("土豆", "")]
        assert potato.planned_quantity == Decimal(30) and potato.unit == "斤"
        assert potato.supply_methods == SupplyMethod.DELIVERY | SupplyMethod.PICKUP
        assert potato.village is not None and potato.village.short_name == "张家村"
        sweet = listings[("红薯", "")]
        assert sweet.village is not None and sweet.village.short_name == "张家村"  # from the merged cell
        assert sweet.planned_quantity == Decimal(600) and sweet.price_fen == 280
        honey = listings[("蜂蜜", "")]
        assert honey.planned_quantity == Decimal(4000) and honey.price_fen == 350
        assert honey.shop_url == "https://shop.example/1"
        chicken = listings[("土鸡", "")]
        assert (chicken.unit, chicken.price_fen) == ("只", 12000)
        assert chicken.household is not None and chicken.household.is_cooperative
        assert chicken.household.poor_households == 12
        assert chicken.contact is not None and chicken.contact.phone == "17723630102"
        orange = listings[("脐橙", "纽荷尔")]
        assert orange.planned_quantity == Decimal(500) and orange.unit == "斤"
        record = session.scalars(select(CatalogImport)).one()
        assert (record.filled_by_unit, record.filled_by, record.filler_phone) == ("龙角镇", "张xx", "02355123456")
        assert record.filled_on is not None and record.filled_on.isoformat() == "2026-11-01"


def test_csv_in_utf8_and_gb18030(sqlite_db: Database, tmp_path: Path) -> None:
    for encoding in ("utf-8-sig", "gb18030"):
        path = write_csv(tmp_path / f"{encoding}.csv", [GOOD_ROW], encoding=encoding)
        report = import_catalog_files(sqlite_db.sessions, [path])
        assert report.ok, report.lines()
    assert _count(sqlite_db, Listing) == 1  # the second file updated the same listing


BAD_ROWS = [
    (row(product=""), "D列“产品品种”", "缺少产品品种"),
    (row(quantity="0斤"), "E列“计划销量”", "计划销量必须大于0"),
    (row(quantity="-5斤"), "E列“计划销量”", "无法识别的计划销量"),
    (row(quantity="很多"), "E列“计划销量”", "无法识别的计划销量"),
    (row(region="云阳县xx乡镇xx村"), "B列“地区”", "没有“xx乡镇xx村”"),
    (row(region="云阳县龙角镇不存在村"), "B列“地区”", "龙角镇没有“不存在村”这个村"),
    (row(price="面议"), "F列“销售价格（元）”", "无法识别的价格“面议”"),
    (row(price="120元/只"), "F列“销售价格（元）”", "不一致"),
    (row(contact="李xx 1772363555"), "I列“供货联系人及联系方式”", "联系电话格式不正确"),
    (row(contact="李xx"), "I列“供货联系人及联系方式”", "缺少供货联系人的联系电话"),
    (row(methods="空运"), "G列“供货方式”", "未知的供货方式：空运"),
]


@pytest.mark.parametrize(("bad", "column", "reason"), BAD_ROWS)
def test_each_bad_row_is_reported_with_row_column_and_reason(
    db: Database, tmp_path: Path, bad: tuple[str, ...], column: str, reason: str
) -> None:
    good = row(product="红薯")
    path = write_xlsx(tmp_path / "龙角镇.xlsx", [good, bad])
    report = import_catalog_files(db.sessions, [path])
    assert not report.ok
    (issue,) = report.files[0].issues
    assert issue.file == "龙角镇.xlsx"
    assert issue.row == 6  # title, meta, header come first; the bad row is the second data row
    assert issue.column == column
    assert reason in issue.reason
    # The good row of the same file is kept; the bad one wrote nothing.
    (listing,) = _listings(db)
    assert listing.planned_quantity == Decimal(30)
    assert _count(db, Household) == 1


def test_strict_mode_keeps_nothing_from_a_file_with_a_bad_row(sqlite_db: Database, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [GOOD_ROW, row(price="面议")])
    report = import_catalog_files(sqlite_db.sessions, [path], strict=True)
    assert not report.ok and not report.files[0].applied
    assert _count(sqlite_db, Listing) == 0
    assert _count(sqlite_db, CatalogImport) == 0


def test_duplicate_rows_in_one_file_are_rejected(sqlite_db: Database, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [GOOD_ROW, GOOD_ROW])
    report = import_catalog_files(sqlite_db.sessions, [path])
    (issue,) = report.files[0].issues
    assert issue.row == 6 and "与第5行重复" in issue.reason
    assert _count(sqlite_db, Listing) == 1


def test_reimport_updates_instead_of_duplicating(db: Database, tmp_path: Path) -> None:
    first = write_xlsx(tmp_path / "v1.xlsx", [GOOD_ROW, row(product="红薯")])
    assert import_catalog_files(db.sessions, [first]).ok
    second = write_xlsx(tmp_path / "v2.xlsx", [row(quantity="50斤", price="3.5元/斤"), row(product="红苕")])
    report = import_catalog_files(db.sessions, [second])
    assert report.ok
    assert (report.files[0].created, report.files[0].updated) == (0, 2)  # 红苕 is an alias of 红薯
    listings = _listings(db)
    assert len(listings) == 2
    potato = next(lst for lst in listings if lst.price_fen == 350)
    assert potato.planned_quantity == Decimal(50) and potato.remaining_quantity == Decimal(50)
    assert _count(db, SupplyContact) == 1 and _count(db, Household) == 1


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"PK\x03\x04 this is not really a zip", "无法打开"),
        (b"\x00\x01\x02garbage", "无法打开"),
    ],
)
def test_unreadable_file_imports_nothing(sqlite_db: Database, tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(content)
    good = write_xlsx(tmp_path / "good.xlsx", [GOOD_ROW])
    report = import_catalog_files(sqlite_db.sessions, [path, good])
    assert report.files[0].error is not None and reason in report.files[0].error
    assert report.files[1].ok  # one broken file never stops the others
    assert _count(sqlite_db, Listing) == 1


def test_wrong_headers_and_wrong_type_are_file_errors(sqlite_db: Database, tmp_path: Path) -> None:
    headers = [h for h in HEADERS if h != "供货方式"]
    missing = write_xlsx(tmp_path / "missing.xlsx", [GOOD_ROW[:5] + GOOD_ROW[6:]], headers=headers)
    other = tmp_path / "notes.txt"
    other.write_text("hello", encoding="utf-8")
    nothing = write_xlsx(tmp_path / "nothing.xlsx", [], headers=["甲", "乙", "丙"])
    report = import_catalog_files(sqlite_db.sessions, [missing, other, tmp_path / "absent.xlsx", nothing])
    errors = [f.error for f in report.files]
    assert errors[0] is not None and "表头缺少列 “供货方式”" in errors[0]
    assert errors[1] is not None and "不支持的文件类型.txt" in errors[1]
    assert errors[2] is not None and "找不到文件" in errors[2]
    assert errors[3] is not None and "找不到" in errors[3] and "表头行" in errors[3]
    assert _count(sqlite_db, Listing) == 0


def test_export_round_trip(db: Database, tmp_path: Path) -> None:
    assert seed_demo(db.sessions).ok
    before = _snapshot(db)
    out = tmp_path / "county.xlsx"
    with db.sessions() as session:
        assert export_catalog(session, out) == len(before)
    sheet = load_workbook(out).active
    assert sheet["A1"].value == "云阳县贫困户农特产品供应目录"
    assert [c.value for c in sheet[3]][:3] == ["序号", "乡镇（街道）", "地区"]
    assert "供货联系人\n及联系方式" in [c.value for c in sheet[3]]
    report = import_catalog_files(db.sessions, [out])
    assert report.ok, report.lines()
    assert (report.files[0].created, report.files[0].updated) == (0, len(before))
    assert _snapshot(db) == before


def _snapshot(db: Database) -> set[tuple[object, ...]]:
    with db.sessions() as session:
        return {
            (
                lst.listing_key,
                lst.product.name,
                lst.variety,
                lst.unit,
                lst.planned_quantity,
                lst.remaining_quantity,
                lst.price_fen,
                lst.supply_methods,
                lst.shop_url,
                lst.contact.phone if lst.contact else None,
                lst.household.poor_households if lst.household else None,
                lst.remarks,
            )
            for lst in session.scalars(select(Listing))
        }


def test_demo_catalogue_loads_with_real_places_and_aliases(db: Database) -> None:
    report = seed_demo(db.sessions)
    assert report.ok, [str(i) for i in report.issues]
    assert report.created >= 25
    with db.sessions() as session:
        names = set(session.scalars(select(Product.name)))
    assert {"土豆", "红薯", "脐橙", "蜂蜜", "黑木耳", "腊肉"} <= names
    assert "洋芋" not in names  # the demo's 洋芋 row is stored under 土豆
    again = seed_demo(db.sessions)
    assert again.created == 0 and again.updated == report.created


@pytest.mark.parametrize(
    ("written", "product", "variety"),
    [
        ("红心猕猴桃", "猕猴桃", "红心"),
        ("高山土豆", "土豆", "高山"),
        ("黄心洋芋", "土豆", "黄心"),
        ("九叶青花椒", "花椒", "九叶"),
        ("农家老腊肉", "腊肉", "农家"),
        ("土鸡蛋", "土鸡蛋", ""),  # a known product is itself, though it holds 土鸡
        ("鸡蛋", "土鸡蛋", ""),  # an alias is its product
        ("红心猕猴桃（大果）", "猕猴桃", "大果"),  # the written variety wins
    ],
)
def test_import_reads_product_and_variety(
    db: Database, tmp_path: Path, written: str, product: str, variety: str
) -> None:
    path = write_xlsx(tmp_path / "龙角镇.xlsx", [row(product=written, quantity="600斤", price="8元/斤")])
    report = import_catalog_files(db.sessions, [path])
    assert report.ok, report.lines()
    assert not any("新产品" in line for line in report.lines())
    (listing,) = _listings(db)
    with db.sessions() as session:
        assert (session.get(Product, listing.product_id).name, listing.variety) == (product, variety)  # type: ignore[union-attr]


def test_variety_column_wins_and_new_products_are_reported(db: Database, tmp_path: Path) -> None:
    headers = [*HEADERS[:4], "品种规格", *HEADERS[4:]]
    rows = [
        (*row(product="红心猕猴桃")[:3], "红阳", *row()[3:]),
        (*row(product="冰糖橙", household="陈某某")[:3], "", *row()[3:]),
        (*row(product="冰糖橙", household="刘某某")[:3], "", *row()[3:]),
    ]
    path = write_xlsx(tmp_path / "龙角镇.xlsx", rows, headers=headers)
    report = import_catalog_files(db.sessions, [path])
    assert report.ok, report.lines()
    assert "  新产品：冰糖橙（2条）" in report.lines()
    with db.sessions() as session:
        got = {(lst.product.name, lst.variety) for lst in session.scalars(select(Listing))}
    assert got == {("猕猴桃", "红阳"), ("冰糖橙", "")}
