"""Delivery records (物流数据): carrier and tracking number at delivery, the carrier's export, the figures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from bot.cli.main import main as cli
from fupin.logistics.carrier_import import Field, import_carrier_file, load_mapping
from fupin.logistics.figures import logistics_figures
from fupin.logistics.records import ShipmentError, ShipmentInput, parse_shipment
from fupin.models import Listing, Notification, Order, Product, Shipment, User
from fupin.orders.lifecycle import OrderError
from fupin.orders.shipping import deliver
from fupin.outreach.users import bind_user, identify
from fupin.periods import Period, quarter_of, today
from fupin.reporting.overview import overview
from fupin.reporting.overview_workbook import write_overview_workbook
from fupin.setup import seed_demo
from fupin.spreadsheets.grid import SpreadsheetError
from fupin.values import Carrier, Role
from tests.conftest import Database
from tests.orders_data import place

CONTACT = "console:contact-lj"


@pytest.fixture
def demo(db: Database) -> Database:
    """The demo catalogue with 龙角镇's contact."""
    assert seed_demo(db.sessions).ok
    with db.sessions() as session, session.begin():
        bind_user(session, CONTACT, Role.CONTACT, township="龙角镇")
    return db


def _order(db: Database, buyer: str = "telegram:7001", product: str = "土豆") -> str:
    with db.sessions() as session:
        listing_id = session.scalars(
            select(Listing.id).join(Product).where(Product.name == product, Listing.listing_key.contains("500235105"))
        ).first()
        assert listing_id is not None
    return place(db.sessions, buyer, listing_id, amount=10)


def _deliver(db: Database, order_no: str, text: str) -> bool:
    with db.sessions() as session, session.begin():
        return deliver(session, order_no, identify(session, CONTACT), parse_shipment(text)).corrected


def _buyer_pushes(db: Database, buyer: str = "7001") -> list[str]:
    with db.sessions() as session:
        query = (
            select(Notification.text)
            .join(User)
            .where(User.channel == "telegram", User.external_id == buyer)
            .order_by(Notification.id)
        )
        return list(session.scalars(query))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("XF261129A1B2C3已发邮政 9876543210123", ShipmentInput(Carrier.POST, "9876543210123")),
        ("XF261129A1B2C3顺丰 sf1234567890123 寄出了", ShipmentInput(Carrier.EXPRESS, "SF1234567890123", "顺丰")),
        ("XF261129A1B2C3已发快递，中通78312345678901", ShipmentInput(Carrier.EXPRESS, "78312345678901", "中通")),
        ("单号EA123456789CN", ShipmentInput(Carrier.POST, "EA123456789CN")),
        ("JD0123456789012", ShipmentInput(Carrier.EXPRESS, "JD0123456789012", "京东")),
        ("XF261129A1B2C3发了 4312345678901", ShipmentInput(Carrier.EXPRESS, "4312345678901")),
        ("XF261129A1B2C3已送达", ShipmentInput(Carrier.SELF)),
        ("XF261129A1B2C3我们自己送到了", ShipmentInput(Carrier.SELF)),
    ],
)
def test_a_delivery_message_gives_its_carrier_and_number(text: str, expected: ShipmentInput) -> None:
    assert parse_shipment(text) == expected


def test_a_carrier_without_a_number_or_two_numbers_are_asked_again() -> None:
    with pytest.raises(ShipmentError, match="请附上邮政的单号"):
        parse_shipment("XF261129A1B2C3已发邮政")
    with pytest.raises(ShipmentError, match="一次只发一个单号"):
        parse_shipment("XF261129A1B2C3 邮政 9876543210123 9876543210124")


def test_delivering_by_post_records_the_number_and_tells_the_buyer(demo: Database) -> None:
    order_no = _order(demo)
    assert _deliver(demo, order_no, f"{order_no}已发邮政 9876543210123") is False
    with demo.sessions() as session:
        order = session.scalars(select(Order).where(Order.order_no == order_no)).one()
        shipment = session.scalars(select(Shipment).where(Shipment.order_id == order.id)).one()
        assert (order.status, shipment.carrier, shipment.tracking_no) == ("已送达", "邮政", "9876543210123")
    assert "已发货（邮政 单号9876543210123）" in _buyer_pushes(demo)[-1]


def test_a_self_delivery_is_recorded_without_a_number(demo: Database) -> None:
    order_no = _order(demo)
    _deliver(demo, order_no, f"{order_no}已送达")
    with demo.sessions() as session:
        shipment = session.scalars(select(Shipment)).one()
        assert (shipment.carrier, shipment.tracking_no) == ("自送", None)
    assert "已送达。请按约定及时付款" in _buyer_pushes(demo)[-1]


def test_a_number_is_on_one_order_only_and_can_be_corrected_until_the_carrier_confirms_it(
    demo: Database, tmp_path: Path
) -> None:
    first, second = _order(demo), _order(demo, "telegram:7002")
    _deliver(demo, first, f"{first} 邮政 9876543210123")
    with pytest.raises(OrderError, match=f"单号 9876543210123 已登记在订单 {first} 上"):
        _deliver(demo, second, f"{second} 邮政 9876543210123")
    with demo.sessions() as session:
        assert session.scalars(select(Order.status).where(Order.order_no == second)).one() == "待确认"
    # The contact mistyped: the number of a delivered order is corrected, and the buyer told.
    assert _deliver(demo, first, f"{first}的单号改成9876543210999") is True  # the carrier stays 邮政
    assert "物流信息已更正：邮政 单号9876543210999" in _buyer_pushes(demo)[-1]
    export = tmp_path / "post.csv"
    export.write_text("邮件号,收寄日期,重量,资费\n9876543210999,2026-12-02,5.2,18.50\n", encoding="utf-8")
    with demo.sessions() as session, session.begin():
        assert import_carrier_file(session, export).matched == 1
    with pytest.raises(OrderError, match="已与快递公司的数据核对过"):
        _deliver(demo, first, f"{first} 邮政 9876543210888")


def test_the_post_export_fills_weight_fee_and_date_and_reports_unmatched_rows(demo: Database, tmp_path: Path) -> None:
    order_no = _order(demo)
    _deliver(demo, order_no, f"{order_no}已发邮政 9876543210123")
    export = tmp_path / "邮件明细.csv"
    export.write_text(
        "寄递业务清单（2026年12月）\n"
        "序号,邮件号,收寄日期,收件人,重量（千克）,资费（元）\n"
        "1,9876543210123,2026/12/02 10:31,县人民医院食堂,5.25,18.5\n"
        "2,1111111111111,2026-12-02,别人,1,8\n"
        ",,,,,\n"
        "3,EA123456789CN,20261203,别人,0.4,12.00\n",
        encoding="utf-8",
    )
    with demo.sessions() as session, session.begin():
        report = import_carrier_file(session, export)
    assert (report.rows, report.matched, report.unmatched) == (3, 1, [(4, "1111111111111"), (6, "EA123456789CN")])
    assert report.lines()[1] == "  - 第4行：单号 1111111111111 没有对应的订单"
    with demo.sessions() as session:
        shipment = session.scalars(select(Shipment)).one()
        assert (shipment.shipped_on, shipment.weight_grams, shipment.fee_fen) == (date(2026, 12, 2), 5250, 1850)
        assert shipment.import_source == "邮件明细.csv"


def test_a_bad_cell_writes_nothing_and_is_named_by_row_and_column(demo: Database, tmp_path: Path) -> None:
    order_no = _order(demo)
    _deliver(demo, order_no, f"{order_no}已发邮政 9876543210123")
    export = tmp_path / "post.csv"
    export.write_text(
        "邮件号,收寄日期,重量,资费\n9876543210123,2026-12-02,5,18\n12,昨天,重,1.234\n9876543210123,2026-12-02,5,18\n",
        encoding="utf-8",
    )
    with demo.sessions() as session, session.begin():
        report = import_carrier_file(session, export)
    assert not report.applied and report.matched == 0
    assert [str(issue) for issue in report.issues] == [
        "post.csv 第3行，A列“邮件号”：单号“12”不对（应为8–40位字母或数字）",
        "post.csv 第3行，B列“收寄日期”：无法识别的日期“昨天”（应填如 2019-09-01）",
        "post.csv 第3行，C列“重量”：重量“重”不是数字",
        "post.csv 第3行，D列“资费”：费用“1.234”不是以元为单位、最多两位小数的金额",
        "post.csv 第4行，A列“邮件号”：单号与第2行重复",
    ]
    with demo.sessions() as session:
        assert session.scalars(select(Shipment.imported_at)).one() is None


def test_another_carrier_is_read_through_a_mapping_file(demo: Database, tmp_path: Path) -> None:
    order_no = _order(demo)
    _deliver(demo, order_no, f"{order_no} 顺丰 SF1234567890123")
    mapping = tmp_path / "sf.yml"
    mapping.write_text(
        "tracking_no: 运单号码\nshipped_on: 寄件时间\nweight: [实际重量(g)]\nfee: 运费\nweight_unit: g\n"
    )
    book = openpyxl.Workbook()
    book.active.append(["运单号码", "寄件时间", "实际重量(g)", "运费"])
    book.active.append(["SF1234567890123", "2026-12-01", 2500, 23])
    export = tmp_path / "sf.xlsx"
    book.save(export)
    with demo.sessions() as session, session.begin():
        assert import_carrier_file(session, export, load_mapping(mapping)).matched == 1
    with demo.sessions() as session:
        assert session.scalars(select(Shipment.weight_grams)).one() == 2500
    # Without the mapping the file has no 中国邮政 columns: said, with how to fix it.
    with demo.sessions() as session, pytest.raises(SpreadsheetError, match=r"找不到单号列.*--mapping"):
        import_carrier_file(session, export)


def test_the_command_line_import_prints_the_result_and_fails_on_bad_files(
    demo: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    order_no = _order(demo)
    _deliver(demo, order_no, f"{order_no} 邮政 9876543210123")
    good, bad = tmp_path / "good.csv", tmp_path / "bad.yml"
    good.write_text("邮件号,收寄日期,重量,资费\n9876543210123,2026-12-02,5,18\n", encoding="utf-8")
    bad.write_text("tracking: 单号\n", encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", demo.url)
    assert cli(["logistics", "import", str(good)]) == 0
    assert "✓ good.csv：共1行，匹配订单1行，未匹配0行" in capsys.readouterr().out
    assert cli(["logistics", "import", str(good), "--mapping", str(bad)]) == 1
    assert "不认识的字段 tracking" in capsys.readouterr().out


def test_the_overview_counts_parcels_weight_fees_and_the_tracked_share(demo: Database, tmp_path: Path) -> None:
    numbers = [_order(demo, f"telegram:70{n}") for n in range(3)]
    _deliver(demo, numbers[0], f"{numbers[0]} 邮政 9876543210123")
    _deliver(demo, numbers[1], f"{numbers[1]} 顺丰 SF1234567890123")
    _deliver(demo, numbers[2], f"{numbers[2]} 已送达")
    export = tmp_path / "post.csv"
    export.write_text("邮件号,收寄日期,重量,资费\n9876543210123,2026-12-02,5.5,18\n", encoding="utf-8")
    with demo.sessions() as session, session.begin():
        import_carrier_file(session, export)
    period: Period = quarter_of(today())
    with demo.sessions() as session:
        figures = logistics_figures(session, period)
        view = overview(session, period)
    assert (figures.delivered, figures.tracked, figures.matched, figures.fee_fen) == (3, 2, 1, 1800)
    assert {name: (c.parcels, c.weight_grams) for name, c in figures.by_carrier().items()} == {
        "邮政": (1, 5500), "顺丰快递": (1, 0), "自送": (1, 0)
    }  # fmt: skip
    text = "\n".join(view.summary_lines())
    assert "物流：本季度送达订单3单，有快递单号2单（66.7%），已与快递公司数据核对1单；物流费用18.00元" in text
    assert "· 邮政：1件，5.5千克，18.00元" in text
    out = tmp_path / "overview.xlsx"
    write_overview_workbook(view, out)
    sheet = openpyxl.load_workbook(out)["物流"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4, max_col=6)]
    assert ["邮政", "龙角镇", 1, 5.5, 18] in [row[1:] for row in rows]
    assert [None, "合计", None, 3, 5.5, 18] in rows


def test_the_committed_mapping_example_loads() -> None:
    example = Path(__file__).resolve().parents[1] / "docs" / "logistics-mapping.example.yml"
    mapping = load_mapping(example)
    assert mapping.weight_in_grams and mapping.headers[Field.SHIPPED_ON] == ("寄件时间", "揽收时间")
