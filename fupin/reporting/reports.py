"""Quarterly reporting: 附件2 (a township's sales), 附件3 (a lead unit's purchases), submissions, the overview.

How purchase records from orders and a township's 附件2 file are reconciled:

- A delivered order writes its purchase record itself (source "order"). Those records are facts the
  bot saw happen; a township's file never deletes or changes them.
- Everything else a township reports — sales its contacts told the bot in chat and the rows of its
  附件2 file — has source "report". The township's file is its statement of the whole quarter, so
  importing it replaces all of that township's "report" records of the quarter (re-sending a corrected
  file replaces the previous one; a sale reported in chat and listed again in the file counts once).
- A file row that repeats an order's record (same buyer, product, quantity and amount within the
  quarter; the dates may differ, as townships write the order's date and the record has the delivery
  date) is not recorded again. Each order's record absorbs at most one file row, so two genuine
  identical sales still count twice when the file lists both.

So a township may take the 附件2 the bot wrote for it, add what the bot did not see, fix what is wrong
and send it back: the quarter's figures are then exactly the file plus nothing twice.

Forms written for "all townships" (or all lead units) are one workbook with one worksheet per township
(lead unit) that has records in the quarter, each a complete form with its own 填报单位 row.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from fupin.models import (
    ORDER_SOURCE,
    REPORT_SOURCE,
    Buyer,
    Listing,
    Product,
    ProductAlias,
    ReportSubmission,
    SaleRecord,
    SupplyContact,
    Township,
    User,
    Village,
    utcnow,
)
from fupin.orders.buyers import find_buyer, find_or_register_buyer, purchase_remark
from fupin.periods import Period
from fupin.places import Gazetteer
from fupin.reporting.attachment2 import (
    ATTACHMENT2,
    SalesRowReader,
    household_cell,
    is_template_example,
    seed_date,
    yuan_cell,
)
from fupin.reporting.attachment3 import ATTACHMENT3
from fupin.reporting.sales import Progress, percent, progress, wan
from fupin.settings import TIMEZONE
from fupin.spreadsheets.forms import FormSheet, FormSpec, locate_form, write_forms
from fupin.spreadsheets.grid import RowIssue, SpreadsheetError
from fupin.values import (
    ANNUAL_TARGET_FEN,
    CHANNEL_TARGETS_WAN,
    DEEP_POVERTY_TARGET_FEN,
    BuyerCategory,
    Channel,
    Quantity,
    format_decimal,
    lead_units,
)

logger = logging.getLogger(__name__)

SALES = "sales"  # 附件2, reported by a township
PURCHASES = "purchases"  # 附件3, reported by a lead unit
KINDS = (SALES, PURCHASES)
SUBMISSION_SOURCES = ("chat", "file")

FORM_NAMES = {SALES: "附件2", PURCHASES: "附件3"}
SOURCE_LABELS = {"chat": "对话", "file": "文件"}
# The lead units (牵头单位) the plan names, in the order of its 主要方式.
LEAD_UNITS: tuple[str, ...] = lead_units()
CHANNEL_NAMES: dict[Channel, str] = {
    Channel.WUJIN: "“五进”对接直销",
    Channel.PAIRING: "对口帮扶助销",
    Channel.CHARITY_FIRMS: "爱心企业订销",
    Channel.FAIRS: "节会推介展销",
    Channel.ECOMMERCE: "电子商务营销",
    Channel.TOURISM: "旅游服务带销",
}
PART_NAMES: dict[BuyerCategory, str] = {
    BuyerCategory.GOVERNMENT: "进机关",
    BuyerCategory.SCHOOL: "进学校",
    BuyerCategory.HOSPITAL: "进医院",
    BuyerCategory.ENTERPRISE: "进企业",
    BuyerCategory.FAMILY: "进家庭",
    BuyerCategory.PAIRING_SHANDONG: "农货“销山东”",
    BuyerCategory.PAIRING_MAIN_CITY: "农货“销主城”",
    BuyerCategory.PAIRING_CENTRAL_SOE: "农货“销央企”",
}


def _require_quarter(period: Period) -> None:
    if period.quarter is None:
        raise ValueError("quarterly reports need a quarter, not a whole year")


def yuan(fen: int) -> str:
    """An amount in fen as 元 with two decimals and thousands separators (1,234.50元)."""
    return f"{Decimal(fen) / 100:,.2f}元"


def chinese_date(day: date) -> str:
    """A date as people write it in a message (2019年9月30日)."""
    return f"{day.year}年{day.month}月{day.day}日"


def _local(moment: datetime) -> str:
    return f"{moment.astimezone(TIMEZONE):%Y-%m-%d %H:%M}"


def _today() -> date:
    return datetime.now(TIMEZONE).date()


# ---------------------------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class ReportRow:
    """One purchase record as a row of 附件2/附件3."""

    record_id: int
    township: str
    buyer: str
    sold_on: date
    region: str
    household: str
    product: str
    quantity: Quantity
    amount_fen: int
    remarks: str
    source: str

    def cells(self, number: int) -> list[object]:
        """The row's cells in the forms' column order (date and 元 amount typed; quantity with its unit)."""
        return [
            number,
            self.buyer,
            self.sold_on,
            self.region,
            self.household,
            self.product,
            str(self.quantity),
            yuan_cell(self.amount_fen),
            self.remarks,
        ]


def _report_rows(session: Session, period: Period, *conditions: ColumnElement[bool]) -> list[ReportRow]:
    query = (
        select(SaleRecord, Township.name, Village.short_name)
        .join(Township, SaleRecord.township_id == Township.id)
        .outerjoin(Village, SaleRecord.village_id == Village.id)
        .where(SaleRecord.sold_on >= period.start, SaleRecord.sold_on < period.end, *conditions)
        .order_by(SaleRecord.sold_on, Township.code, SaleRecord.id)
    )
    return [
        ReportRow(
            record_id=record.id,
            township=township,
            buyer=record.buyer_name,
            sold_on=record.sold_on,
            region="云阳县" + township + (village or ""),
            household=household_cell(record.household_name, record.poor_households),
            product=record.product_name,
            quantity=Quantity(record.quantity, record.unit),
            amount_fen=record.amount_fen,
            remarks=record.remarks,
            source=record.source,
        )
        for record, township, village in session.execute(query)
    ]


@dataclass(frozen=True)
class Submission:
    """A submitted quarterly form as recorded: who, how, when, and the rows and amount reported."""

    kind: str
    period: str
    reporter: str
    source: str
    rows: int
    amount_fen: int
    submitted_at: datetime

    @classmethod
    def of(cls, row: ReportSubmission) -> Submission:
        """The view of a stored submission."""
        return cls(row.kind, row.period, row.reporter, row.source, row.rows, row.amount_fen, row.submitted_at)

    def line(self) -> str:
        """The submission in Chinese (已于2019-09-28 10:00通过文件报送，3条，合计150.00元)."""
        how = SOURCE_LABELS.get(self.source, self.source)
        return f"已于{_local(self.submitted_at)}通过{how}报送，{self.rows}条，合计{yuan(self.amount_fen)}"


def _submission(session: Session, kind: str, period: Period, reporter: str) -> Submission | None:
    row = session.scalar(
        select(ReportSubmission).where(
            ReportSubmission.kind == kind, ReportSubmission.period == period.code, ReportSubmission.reporter == reporter
        )
    )
    return Submission.of(row) if row is not None else None


@dataclass(frozen=True)
class GroupTotal:
    """Rows of one product (or one buyer): how many, how much of each unit, and the amount."""

    name: str
    rows: int
    quantities: dict[str, Decimal]
    amount_fen: int

    @property
    def quantity_text(self) -> str:
        """The quantities with their units (60斤, or 60斤+5箱 when units differ)."""
        return "+".join(str(Quantity(value, unit)) for unit, value in self.quantities.items())


def _group(rows: Iterable[ReportRow], key: str) -> list[GroupTotal]:
    counts: dict[str, int] = defaultdict(int)
    quantities: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    amounts: dict[str, int] = defaultdict(int)
    for row in rows:
        name = getattr(row, key)
        counts[name] += 1
        quantities[name][row.quantity.unit] += row.quantity.value
        amounts[name] += row.amount_fen
    return [
        GroupTotal(name, counts[name], dict(quantities[name]), amounts[name])
        for name in sorted(amounts, key=lambda n: (-amounts[n], n))
    ]


@dataclass(frozen=True)
class QuarterReport:
    """The purchase records one reporter (a township or a lead unit) answers for in a quarter."""

    period: Period
    reporter: str
    rows: list[ReportRow]
    submission: Submission | None
    contact_name: str
    contact_phone: str

    @property
    def total_fen(self) -> int:
        """The amount of every row."""
        return sum(row.amount_fen for row in self.rows)

    def by_product(self) -> list[GroupTotal]:
        """Totals by product, largest amount first."""
        return _group(self.rows, "product")

    def by_buyer(self) -> list[GroupTotal]:
        """Totals by buying unit, largest amount first."""
        return _group(self.rows, "buyer")

    def form_sheet(self) -> FormSheet:
        """The filled form: meta row, numbered rows and the 合计 row."""
        meta = {
            "填报单位": self.reporter,
            "供货联系人姓名": self.contact_name,
            "联系方式": self.contact_phone,
            "填报时间": seed_date(_today()),
        }
        rows = [row.cells(number) for number, row in enumerate(self.rows, start=1)]
        total: list[object] | None = None
        if rows:
            total = ["合计", "", "", "", "", "", "", yuan_cell(self.total_fen), ""]
        return FormSheet(self.reporter, meta, rows, total=total)

    def _summary(self, heading: str, groups: list[GroupTotal], group_label: str, kind: str) -> list[str]:
        lines = [f"{self.reporter}{self.period.label}{heading}：共{len(self.rows)}条，合计{yuan(self.total_fen)}。"]
        if not self.rows:
            lines.append("本季度还没有记录。")
        else:
            lines.append(f"按{group_label}：")
            lines.extend(f"· {g.name}：{g.rows}条，{g.quantity_text}，{yuan(g.amount_fen)}" for g in groups)
        if self.submission is not None:
            lines.append(f"{FORM_NAMES[kind]}{self.submission.line()}。")
        else:
            lines.append(f"{FORM_NAMES[kind]}尚未报送，截止日期{chinese_date(self.period.deadline)}。")
        return lines


@dataclass(frozen=True)
class TownshipReport(QuarterReport):
    """A township's 附件2 for a quarter: its purchase records, totals, and whether it was submitted."""

    township_id: int = 0

    @property
    def township(self) -> str:
        """The township's name."""
        return self.reporter

    def summary_lines(self) -> list[str]:
        """The report in Chinese for a chat review: rows, total in 元, by product, and where they came from."""
        lines = self._summary("贫困户产品销售情况（附件2）", self.by_product(), "产品", SALES)
        sources = Counter(row.source for row in self.rows)
        if self.rows:
            parts = [f"订单送达自动登记{sources[ORDER_SOURCE]}条"] if sources[ORDER_SOURCE] else []
            if sources[REPORT_SOURCE]:
                parts.append(f"乡镇报送{sources[REPORT_SOURCE]}条")
            lines.insert(len(lines) - 1, "其中" + "，".join(parts) + "。")
        return lines


@dataclass(frozen=True)
class LeadUnitReport(QuarterReport):
    """A lead unit's 附件3 for a quarter: purchases by the buyers of its sector, totals, submission."""

    @property
    def lead_unit(self) -> str:
        """The lead unit's name."""
        return self.reporter

    def summary_lines(self) -> list[str]:
        """The report in Chinese for a chat review: rows, total in 元, by buying unit."""
        return self._summary("系统（行业）采购情况（附件3）", self.by_buyer(), "采购单位", PURCHASES)


def _township_contact(session: Session, township_id: int) -> tuple[str, str]:
    # The township's own contact when it has one, else the contact of most of its listings; the
    # township can correct the name on the form before sending it.
    listings = func.count(Listing.id)
    row = session.execute(
        select(SupplyContact.name, SupplyContact.phone)
        .outerjoin(Listing, Listing.contact_id == SupplyContact.id)
        .where(SupplyContact.township_id == township_id)
        .group_by(SupplyContact.id, SupplyContact.name, SupplyContact.phone, SupplyContact.village_id)
        .order_by(SupplyContact.village_id.is_not(None), listings.desc(), SupplyContact.id)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else ("", "")


def township_report(session: Session, period: Period, township_id: int) -> TownshipReport:
    """A township's 附件2 for a quarter, compiled from its purchase records (orders and reports)."""
    _require_quarter(period)
    township = session.get(Township, township_id)
    if township is None:
        raise ValueError(f"no township with id {township_id}")
    name, phone = _township_contact(session, township_id)
    return TownshipReport(
        period=period,
        reporter=township.name,
        rows=_report_rows(session, period, SaleRecord.township_id == township_id),
        submission=_submission(session, SALES, period, township.name),
        contact_name=name,
        contact_phone=phone,
        township_id=township_id,
    )


def lead_unit_report(session: Session, period: Period, lead_unit: str) -> LeadUnitReport:
    """A lead unit's 附件3 for a quarter: purchases by buyers whose lead unit it is."""
    _require_quarter(period)
    buyers = select(Buyer.id).where(Buyer.lead_unit == lead_unit)
    reporter = session.scalar(select(User.display_name).where(User.lead_unit == lead_unit).order_by(User.id).limit(1))
    return LeadUnitReport(
        period=period,
        reporter=lead_unit,
        rows=_report_rows(session, period, SaleRecord.buyer_id.in_(buyers)),
        submission=_submission(session, PURCHASES, period, lead_unit),
        contact_name=reporter or "",
        contact_phone="",
    )


def known_lead_units(session: Session) -> list[str]:
    """The plan's lead units, then any other lead unit buyers or submissions name."""
    extra = set(session.scalars(select(Buyer.lead_unit).where(Buyer.lead_unit != "").distinct()))
    extra |= set(session.scalars(select(ReportSubmission.reporter).where(ReportSubmission.kind == PURCHASES)))
    return [*LEAD_UNITS, *sorted(extra - set(LEAD_UNITS))]


# ------------------------------------------------------------------------------------- submissions


def submit_report(
    session: Session,
    *,
    kind: str,
    period: Period,
    reporter: str,
    township_id: int | None,
    user_id: int | None,
    source: str,
    rows: int,
    amount_fen: int,
) -> ReportSubmission:
    """Record that a township (附件2) or lead unit (附件3) submitted a quarter; a resubmission updates it."""
    if kind not in KINDS:
        raise ValueError(f"unknown report kind {kind!r}")
    if source not in SUBMISSION_SOURCES:
        raise ValueError(f"unknown submission source {source!r}")
    if rows < 0 or amount_fen < 0:
        raise ValueError("rows and amount cannot be negative")
    _require_quarter(period)
    values: dict[str, Any] = {
        "township_id": township_id,
        "user_id": user_id,
        "source": source,
        "rows": rows,
        "amount_fen": amount_fen,
        "submitted_at": utcnow(),
    }
    key = (
        ReportSubmission.kind == kind,
        ReportSubmission.period == period.code,
        ReportSubmission.reporter == reporter,
    )
    for _attempt in range(3):
        existing = session.scalar(select(ReportSubmission).where(*key))
        if existing is not None:
            for name, value in values.items():
                setattr(existing, name, value)
            session.flush()
            logger.info("%s %s of %s submitted again (%s)", kind, period.code, reporter, source)
            return existing
        submission = ReportSubmission(kind=kind, period=period.code, reporter=reporter, **values)
        try:
            # A savepoint: if another process inserts the same report first, update theirs instead.
            with session.begin_nested():
                session.add(submission)
        except IntegrityError:
            continue
        logger.info("%s %s of %s submitted (%s, %d rows)", kind, period.code, reporter, source, rows)
        return submission
    raise RuntimeError(f"could not record the {kind} submission of {reporter} for {period.code}")


def submitted(session: Session, kind: str, period: Period) -> set[str]:
    """The townships (kind "sales") or lead units ("purchases") that submitted the quarter's form."""
    return set(
        session.scalars(
            select(ReportSubmission.reporter).where(
                ReportSubmission.kind == kind, ReportSubmission.period == period.code
            )
        )
    )


def _submissions(session: Session, kind: str, period: Period) -> dict[str, Submission]:
    rows = session.scalars(
        select(ReportSubmission).where(ReportSubmission.kind == kind, ReportSubmission.period == period.code)
    )
    return {row.reporter: Submission.of(row) for row in rows}


# --------------------------------------------------------------------------------- 附件2 import


@dataclass
class ImportResult:
    """What importing a township's 附件2 did: rows read, records added, replaced and matched, or why not."""

    file: str
    period: Period
    township: str
    rows: int = 0
    amount_fen: int = 0
    added: int = 0
    matched_orders: int = 0
    replaced: int = 0
    issues: list[RowIssue] = field(default_factory=list)
    error: str | None = None
    applied: bool = False

    @property
    def ok(self) -> bool:
        """True when the file was read whole and imported."""
        return self.applied and self.error is None and not self.issues

    def lines(self) -> list[str]:
        """The result as Chinese lines for a person."""
        if self.error:
            return [f"✗ {self.error}（未导入任何内容）"]
        if self.issues:
            return [
                f"✗ {self.file}：有{len({i.row for i in self.issues})}行填写有误，整份文件未导入，请改正后重新发送：",
                *(f"  - {issue}" for issue in self.issues),
            ]
        lines = [
            f"✓ {self.file}：已导入{self.township}{self.period.label}贫困户产品销售情况（附件2），"
            f"共{self.rows}条，合计{yuan(self.amount_fen)}。"
        ]
        details = [f"新增{self.added}条"]
        if self.matched_orders:
            details.append(f"{self.matched_orders}条与订单送达时已登记的记录相同，未重复登记")
        if self.replaced:
            details.append(f"替换本季度此前报送的{self.replaced}条")
        lines.append("  " + "；".join(details) + "。")
        return lines


def import_sales_report(
    session_factory: sessionmaker[Session], path: Path, period: Period, township_id: int, user_id: int | None
) -> ImportResult:
    """Import a township's filled 附件2 for a quarter in one transaction, and record its submission."""
    # A file with any bad row imports nothing, unlike 附件1: it replaces the quarter's figures and stops
    # the reminders, so keeping part of it would understate the quarter without anyone noticing.
    _require_quarter(period)
    with session_factory() as session, session.begin():
        result = _import_sales(session, path, period, township_id, user_id)
        if not result.applied:
            session.rollback()
    logger.info(
        "imported 附件2 %s for township %s %s: rows=%d added=%d matched=%d replaced=%d issues=%d error=%s",
        path.name, township_id, period.code, result.rows, result.added, result.matched_orders,
        result.replaced, len(result.issues), result.error,
    )  # fmt: skip
    return result


def _match_key(buyer_id: int | None, product: str, quantity: Decimal, unit: str, amount_fen: int) -> tuple[Any, ...]:
    return (buyer_id, product, Decimal(quantity), unit, amount_fen)


def _import_sales(session: Session, path: Path, period: Period, township_id: int, user_id: int | None) -> ImportResult:
    # Lock the township's row: two imports of its file at once must not both replace and add (PostgreSQL).
    township = session.scalar(select(Township).where(Township.id == township_id).with_for_update())
    if township is None:
        raise ValueError(f"no township with id {township_id}")
    result = ImportResult(file=path.name, period=period, township=township.name)
    try:
        table = locate_form(path, ATTACHMENT2)
    except SpreadsheetError as exc:
        result.error = str(exc)
        return result
    gazetteer = Gazetteer.load(session)
    unit = table.meta.get("填报单位", "")
    named = gazetteer.township_named(unit) if unit else None
    if named is not None and named.id != township.id:
        result.error = f"{path.name}：填报单位是{named.name}，不是{township.name}"
        return result
    aliases = dict(session.execute(select(ProductAlias.alias, Product.name).join(Product)).all())
    reader = SalesRowReader(table, gazetteer, gazetteer.township_by_id[township.id], period, aliases)
    sales = []
    for row, record in table.rows:
        if is_template_example(record):
            continue
        read = reader.read(row, record)
        if isinstance(read, list):
            result.issues.extend(read)
        else:
            sales.append(read)
    if result.issues:
        return result
    if not sales:
        result.error = f"{path.name}：表中没有销售记录（本季度确实没有销售的，请在对话中报送）"
        return result

    existing = session.scalars(
        select(SaleRecord).where(
            SaleRecord.township_id == township.id, SaleRecord.sold_on >= period.start, SaleRecord.sold_on < period.end
        )
    ).all()
    from_orders = Counter(
        _match_key(r.buyer_id, r.product_name, r.quantity, r.unit, r.amount_fen)
        for r in existing
        if r.source == ORDER_SOURCE
    )
    for stale in (r for r in existing if r.source == REPORT_SOURCE):
        session.delete(stale)
        result.replaced += 1
    session.flush()
    for sale in sales:
        buyer = find_buyer(session, sale.buyer)
        key = _match_key(
            buyer.id if buyer else None, sale.product, sale.quantity.value, sale.quantity.unit, sale.amount_fen
        )
        if buyer is not None and from_orders[key] > 0:
            from_orders[key] -= 1
            result.matched_orders += 1
            continue
        if buyer is None:
            buyer, _created = find_or_register_buyer(session, sale.buyer)
        session.add(
            SaleRecord(
                township_id=township.id,
                village_id=sale.place.village.id if sale.place.village else None,
                household_name=sale.household,
                poor_households=sale.poor_households,
                buyer_id=buyer.id,
                buyer_name=buyer.name,
                product_name=sale.product,
                quantity=sale.quantity.value,
                unit=sale.quantity.unit,
                amount_fen=sale.amount_fen,
                sold_on=sale.sold_on,
                remarks=sale.remarks or purchase_remark(BuyerCategory(buyer.category)),
                source=REPORT_SOURCE,
            )
        )
        result.added += 1
    result.rows = len(sales)
    result.amount_fen = sum(sale.amount_fen for sale in sales)
    submit_report(
        session,
        kind=SALES,
        period=period,
        reporter=township.name,
        township_id=township.id,
        user_id=user_id,
        source="file",
        rows=result.rows,
        amount_fen=result.amount_fen,
    )
    session.flush()
    result.applied = True
    return result


# --------------------------------------------------------------------------------- forms written


def _empty_sheet(name: str) -> FormSheet:
    return FormSheet(name, {"填报单位": name, "填报时间": seed_date(_today())}, [])


def write_sales_form(session: Session, period: Period, township_id: int | None, out: Path) -> Path:
    """Write 附件2 for one township, or for every township with records (a worksheet each); returns `out`."""
    _require_quarter(period)
    if township_id is not None:
        ids = [township_id]
    else:
        ids = list(
            session.scalars(
                select(Township.id)
                .join(SaleRecord, SaleRecord.township_id == Township.id)
                .where(SaleRecord.sold_on >= period.start, SaleRecord.sold_on < period.end)
                .group_by(Township.id, Township.code)
                .order_by(Township.code)
            )
        )
    sheets = [township_report(session, period, tid).form_sheet() for tid in ids]
    _write(out, ATTACHMENT2, sheets or [_empty_sheet("云阳县")])
    return out


def write_purchases_form(session: Session, period: Period, lead_unit: str | None, out: Path) -> Path:
    """Write 附件3 for one lead unit, or for every lead unit with purchases (a worksheet each); returns `out`."""
    _require_quarter(period)
    if lead_unit is not None:
        sheets = [lead_unit_report(session, period, lead_unit).form_sheet()]
    else:
        reports = [lead_unit_report(session, period, unit) for unit in known_lead_units(session)]
        sheets = [report.form_sheet() for report in reports if report.rows]
    _write(out, ATTACHMENT3, sheets or [_empty_sheet("云阳县")])
    return out


def _write(out: Path, spec: FormSpec, sheets: list[FormSheet]) -> None:
    write_forms(out, spec, sheets)
    logger.info("wrote %s (%d sheets) to %s", spec.label, len(sheets), out)


# ---------------------------------------------------------------------------------------- overview


@dataclass(frozen=True)
class ProgressLine:
    """An amount of the quarter and of the year to date, against the plan's annual target when it has one."""

    name: str
    quarter_fen: int
    year_fen: int
    annual_target_fen: int | None = None
    parts: tuple[ProgressLine, ...] = ()

    @property
    def quarter_target_fen(self) -> int | None:
        """The quarter's share of the annual target (a quarter of it, as the chat's progress figures)."""
        return None if self.annual_target_fen is None else self.annual_target_fen // 4

    @property
    def quarter_ratio(self) -> Decimal | None:
        """The quarter's amount over the quarter's share of the target."""
        return _ratio(self.quarter_fen, self.quarter_target_fen)

    @property
    def year_ratio(self) -> Decimal | None:
        """The year-to-date amount over the annual target."""
        return _ratio(self.year_fen, self.annual_target_fen)


def _ratio(part: int, whole: int | None) -> Decimal | None:
    return None if not whole else Decimal(part) / Decimal(whole)


@dataclass(frozen=True)
class ReporterStatus:
    """A township or lead unit: its records' amounts and whether it submitted the quarter's form."""

    name: str
    quarter_fen: int
    year_fen: int
    submission: Submission | None
    deep_poverty: bool = False


@dataclass(frozen=True)
class Overview:
    """The county's quarter: totals, deep-poverty share, channels against targets, who has reported."""

    period: Period
    total: ProgressLine
    deep: ProgressLine
    channels: list[ProgressLine]
    other: ProgressLine
    townships: list[ReporterStatus]
    lead_units: list[ReporterStatus]

    @property
    def deep_share(self) -> Decimal | None:
        """The deep-poverty townships' and villages' share of the quarter's sales."""
        return _ratio(self.deep.quarter_fen, self.total.quarter_fen)

    @property
    def deep_share_year(self) -> Decimal | None:
        """The deep-poverty share of the year to date."""
        return _ratio(self.deep.year_fen, self.total.year_fen)

    @property
    def submitted_townships(self) -> list[str]:
        """Townships that submitted 附件2, in code order."""
        return [t.name for t in self.townships if t.submission is not None]

    @property
    def missing_townships(self) -> list[str]:
        """Townships that have not submitted 附件2."""
        return [t.name for t in self.townships if t.submission is None]

    @property
    def submitted_lead_units(self) -> list[str]:
        """Lead units that submitted 附件3."""
        return [u.name for u in self.lead_units if u.submission is not None]

    @property
    def missing_lead_units(self) -> list[str]:
        """Lead units that have not submitted 附件3."""
        return [u.name for u in self.lead_units if u.submission is None]

    def summary_lines(self) -> list[str]:
        """The overview in Chinese for a chat message."""
        total, deep = self.total, self.deep
        lines = [
            f"云阳县{self.period.label}消费扶贫总体情况",
            f"全县销售{yuan(total.quarter_fen)}；本年累计{yuan(total.year_fen)}，"
            f"完成年度目标{_wan(total.annual_target_fen)}的{percent(total.year_fen, total.annual_target_fen or 0)}。",
            f"深度贫困镇村{yuan(deep.quarter_fen)}，占{percent(deep.quarter_fen, total.quarter_fen)}；"
            f"本年累计{yuan(deep.year_fen)}，完成年度目标{_wan(deep.annual_target_fen)}的"
            f"{percent(deep.year_fen, deep.annual_target_fen or 0)}。",
            "各渠道（本季度 / 本年累计 / 年度目标完成）：",
        ]
        for line in self.channels:
            lines.append(
                f"· {line.name}：{yuan(line.quarter_fen)} / {yuan(line.year_fen)} / "
                f"{percent(line.year_fen, line.annual_target_fen or 0)}"
            )
        if self.other.quarter_fen:
            lines.append(f"· {self.other.name}：{yuan(self.other.quarter_fen)}")
        lines.append(_status_line("附件2", "乡镇（街道）", self.submitted_townships, self.missing_townships))
        lines.append(_status_line("附件3", "牵头单位", self.submitted_lead_units, self.missing_lead_units))
        return lines


def _wan(fen: int | None) -> str:
    # Targets are round numbers of 万元 (6000万元); amounts use `wan` with two decimals.
    return f"{format_decimal(Decimal(fen or 0) / 1_000_000)}万元"


def _status_line(form: str, who: str, done: list[str], missing: list[str]) -> str:
    line = f"{form}已报送{who}{len(done)}个/{len(done) + len(missing)}个"
    return line + (f"；未报送：{'、'.join(missing)}" if missing else "；已全部报送")


def _year_to_date(session: Session, period: Period) -> Progress:
    # The year so far is the sum of its quarters up to this one; a later quarter's sales never count.
    assert period.quarter is not None
    result = Progress(Period(period.year))
    by_township: dict[str, int] = defaultdict(int)
    for quarter in range(1, period.quarter + 1):
        part = progress(session, Period(period.year, quarter))
        result.total_fen += part.total_fen
        result.deep_fen += part.deep_fen
        result.other_fen += part.other_fen
        for channel, amount in part.by_channel.items():
            result.by_channel[channel] += amount
        for category, amount in part.by_category.items():
            result.by_category[category] += amount
        for name, amount in part.by_township.items():
            by_township[name] += amount
    result.by_township = dict(by_township)
    return result


def _lead_unit_amounts(session: Session, start: date, end: date) -> dict[str, int]:
    query = (
        select(Buyer.lead_unit, func.sum(SaleRecord.amount_fen))
        .join(Buyer, SaleRecord.buyer_id == Buyer.id)
        .where(SaleRecord.sold_on >= start, SaleRecord.sold_on < end, Buyer.lead_unit != "")
        .group_by(Buyer.lead_unit)
    )
    return {unit: int(amount or 0) for unit, amount in session.execute(query)}


def overview(session: Session, period: Period) -> Overview:
    """The county's figures for a quarter and the year to date against the plan, and who has reported."""
    _require_quarter(period)
    quarter = progress(session, period)
    year = _year_to_date(session, period)
    channels = []
    for channel in Channel:
        categories = [c for c in BuyerCategory if c.channel is channel]
        parts = tuple(
            ProgressLine(PART_NAMES.get(c, c.value), quarter.by_category[c], year.by_category[c]) for c in categories
        )
        channels.append(
            ProgressLine(
                CHANNEL_NAMES[channel],
                quarter.by_channel[channel],
                year.by_channel[channel],
                channel.annual_target_fen,
                parts if len(parts) > 1 else (),
            )
        )
    township_reports = _submissions(session, SALES, period)
    townships = [
        ReporterStatus(
            t.name,
            quarter.by_township.get(t.name, 0),
            year.by_township.get(t.name, 0),
            township_reports.get(t.name),
            t.deep_poverty,
        )
        for t in session.scalars(select(Township).order_by(Township.code))
    ]
    unit_reports = _submissions(session, PURCHASES, period)
    unit_quarter = _lead_unit_amounts(session, period.start, period.end)
    unit_year = _lead_unit_amounts(session, Period(period.year).start, period.end)
    lead_units = [
        ReporterStatus(unit, unit_quarter.get(unit, 0), unit_year.get(unit, 0), unit_reports.get(unit))
        for unit in known_lead_units(session)
    ]
    return Overview(
        period=period,
        total=ProgressLine("全县合计", quarter.total_fen, year.total_fen, ANNUAL_TARGET_FEN),
        deep=ProgressLine("其中：深度贫困镇村", quarter.deep_fen, year.deep_fen, DEEP_POVERTY_TARGET_FEN),
        channels=channels,
        other=ProgressLine("其他（个人等，不计入六销渠道）", quarter.other_fen, year.other_fen),
        townships=townships,
        lead_units=lead_units,
    )


_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_MONEY = "#,##0.00"
_PERCENT = "0.0%"


def _table(
    sheet: Worksheet,
    title: str,
    subtitle: str,
    headers: list[str],
    rows: list[list[object]],
    formats: dict[int, str],
    widths: list[float],
    note: str = "",
) -> None:
    last = get_column_letter(len(headers))
    sheet.append([title])
    sheet.merge_cells(f"A1:{last}1")
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append([subtitle])
    sheet.merge_cells(f"A2:{last}2")
    sheet.append(headers)
    for index, width in enumerate(widths, start=1):
        cell = sheet.cell(row=3, column=index)
        cell.font = Font(bold=True)
        cell.border = _BORDER
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = width
    for values in rows:
        sheet.append(values)
        for index in range(1, len(headers) + 1):
            cell = sheet.cell(row=sheet.max_row, column=index)
            cell.border = _BORDER
            if index in formats and isinstance(cell.value, (int, float, Decimal)):
                cell.number_format = formats[index]
    if note:
        note_row = sheet.max_row + 2
        sheet.cell(row=note_row, column=1, value=note)
        sheet.merge_cells(f"A{note_row}:{last}{note_row}")
        sheet.cell(row=note_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
        sheet.row_dimensions[note_row].height = 60
    sheet.freeze_panes = "A4"


def _money(fen: int | None) -> Decimal | str:
    return "" if fen is None else yuan_cell(fen)


def _share(ratio: Decimal | None) -> Decimal | str:
    return "" if ratio is None else ratio


def _progress_row(line: ProgressLine, total_year_fen: int, indent: str = "") -> list[object]:
    return [
        indent + line.name,
        _money(line.quarter_fen),
        _money(line.quarter_target_fen),
        _share(line.quarter_ratio),
        _money(line.year_fen),
        _money(line.annual_target_fen),
        _share(line.year_ratio),
        _share(_ratio(line.year_fen, total_year_fen)),
    ]


def _reporter_row(number: int, status: ReporterStatus, deep: bool | None) -> list[object]:
    submission = status.submission
    cells: list[object] = [number, status.name]
    if deep is not None:
        cells.append("是" if deep else "")
    cells += [_money(status.quarter_fen), _money(status.year_fen)]
    if submission is None:
        return [*cells, "未报送", "", "", "", ""]
    return [
        *cells,
        "已报送",
        _local(submission.submitted_at),
        SOURCE_LABELS.get(submission.source, submission.source),
        submission.rows,
        _money(submission.amount_fen),
    ]


def _targets_note() -> str:
    channels = "、".join(f"{CHANNEL_NAMES[c]}{wan}万元" for c, wan in CHANNEL_TARGETS_WAN.items())
    return (
        f"注：1.年度目标按云阳府办发〔2019〕95号实施方案：全年直接销售贫困户农特产品{_wan(ANNUAL_TARGET_FEN)}，"
        f"其中深度贫困镇村{_wan(DEEP_POVERTY_TARGET_FEN)}；{channels}。"
        "2.季度目标按年度目标的四分之一计；本年累计为当年1月1日至本季度末。"
        "3.渠道按采购单位类别归类，个人购买只计入全县合计。"
    )


def _write_overview_workbook(view: Overview, path: Path) -> None:
    label = view.period.label
    made = f"生成时间：{datetime.now(TIMEZONE):%Y-%m-%d %H:%M}    金额单位：元"
    book = Workbook()
    sheet = book.active
    sheet.title = "总体情况"
    rows = [_progress_row(view.total, view.total.year_fen), _progress_row(view.deep, view.total.year_fen)]
    for channel in view.channels:
        rows.append(_progress_row(channel, view.total.year_fen))
        rows.extend(_progress_row(part, view.total.year_fen, "　　") for part in channel.parts)
    rows.append(_progress_row(view.other, view.total.year_fen))
    _table(
        sheet,
        f"云阳县{label}消费扶贫总体情况",
        made,
        ["项目", "本季度", "季度目标", "季度完成率", "本年累计", "年度目标", "年度完成率", "占全县（本年累计）"],
        rows,
        {2: _MONEY, 3: _MONEY, 4: _PERCENT, 5: _MONEY, 6: _MONEY, 7: _PERCENT, 8: _PERCENT},
        [30, 16, 18, 12, 16, 18, 12, 16],
        _targets_note(),
    )
    done, missing = view.submitted_townships, view.missing_townships
    _table(
        book.create_sheet("各乡镇"),
        f"云阳县{label}各乡镇（街道）销售及附件2报送情况",
        f"{made}    附件2已报送{len(done)}个，未报送{len(missing)}个",
        [
            "序号",
            "乡镇（街道）",
            "深度贫困镇",
            "本季度销售额",
            "本年累计",
            "附件2报送",
            "报送时间",
            "报送方式",
            "报送条数",
            "报送金额",
        ],
        [_reporter_row(n, t, t.deep_poverty) for n, t in enumerate(view.townships, start=1)],
        {4: _MONEY, 5: _MONEY, 10: _MONEY},
        [6, 16, 10, 16, 16, 10, 18, 10, 10, 16],
    )
    done, missing = view.submitted_lead_units, view.missing_lead_units
    _table(
        book.create_sheet("牵头单位"),
        f"云阳县{label}各牵头单位系统（行业）采购及附件3报送情况",
        f"{made}    附件3已报送{len(done)}个，未报送{len(missing)}个",
        ["序号", "牵头单位", "本季度采购额", "本年累计", "附件3报送", "报送时间", "报送方式", "报送条数", "报送金额"],
        [_reporter_row(n, u, None) for n, u in enumerate(view.lead_units, start=1)],
        {3: _MONEY, 4: _MONEY, 9: _MONEY},
        [6, 26, 16, 16, 10, 18, 10, 10, 16],
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def write_overview(session: Session, period: Period, out_dir: Path) -> list[Path]:
    """Write the quarter's overview: one workbook (总体情况, 各乡镇, 牵头单位) and two PNG charts."""
    from fupin.reporting.charts import TargetBar, progress_chart, township_chart  # matplotlib only when drawing

    view = overview(session, period)
    out_dir.mkdir(parents=True, exist_ok=True)
    workbook = out_dir / f"{period.code}消费扶贫总体情况.xlsx"
    _write_overview_workbook(view, workbook)
    lines = [view.total, view.deep, *view.channels]
    bars = [
        TargetBar(
            line.name.removeprefix("其中："),
            line.year_ratio or Decimal(0),
            f"{percent(line.year_fen, line.annual_target_fen or 0)}（{wan(line.year_fen)}/{_wan(line.annual_target_fen)}）",
        )
        for line in lines
    ]
    assert period.quarter is not None
    pace = Decimal(period.quarter) / 4
    channels = progress_chart(
        out_dir / f"{period.code}各渠道完成情况.png",
        f"云阳县{period.year}年消费扶贫年度目标完成情况（截至第{period.quarter}季度末）",
        bars,
        pace,
    )
    townships = township_chart(
        out_dir / f"{period.code}各乡镇销售情况.png",
        f"云阳县{period.label}各乡镇（街道）销售额",
        [(t.name, t.quarter_fen, t.deep_poverty) for t in view.townships],
    )
    logger.info("wrote the %s overview to %s", period.code, out_dir)
    return [workbook, channels, townships]
