"""A reporter's quarter: a township's 附件2 (TownshipReport) or a lead unit's 附件3 (LeadUnitReport)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fupin.models import (
    ORDER_SOURCE,
    REPORT_SOURCE,
    Buyer,
    Listing,
    ReportSubmission,
    SaleRecord,
    SupplyContact,
    Township,
    User,
)
from fupin.periods import Period, today
from fupin.reporting.attachment2 import seed_date, yuan_cell
from fupin.reporting.formatting import chinese_date, require_quarter, yuan
from fupin.reporting.kinds import ReportKind
from fupin.reporting.rows import GroupTotal, ReportRow, group_totals, report_rows
from fupin.reporting.submissions import Submission, submission_of
from fupin.spreadsheets.forms import FormSheet
from fupin.values import lead_units

# The lead units (牵头单位) the plan names, in the order of its 主要方式.
LEAD_UNITS: tuple[str, ...] = lead_units()


@dataclass(frozen=True)
class QuarterReport(ABC):
    """The purchase records one reporter (a township or a lead unit) answers for in a quarter."""

    period: Period
    reporter: str
    rows: list[ReportRow]
    submission: Submission | None
    contact_name: str
    contact_phone: str

    @property
    @abstractmethod
    def kind(self) -> ReportKind:
        """The form this report is: 附件2 for a township, 附件3 for a lead unit."""

    @property
    def form_name(self) -> str:
        """附件2 or 附件3."""
        return self.kind.form_name

    @abstractmethod
    def summary_lines(self) -> list[str]:
        """The report in Chinese for a chat review; the first line has the totals, the last the submission."""

    @property
    def total_fen(self) -> int:
        """The amount of every row."""
        return sum(row.amount_fen for row in self.rows)

    def by_product(self) -> list[GroupTotal]:
        """Totals by product, largest amount first."""
        return group_totals(self.rows, "product")

    def by_buyer(self) -> list[GroupTotal]:
        """Totals by buying unit, largest amount first."""
        return group_totals(self.rows, "buyer")

    def form_sheet(self) -> FormSheet:
        """The filled form: meta row, numbered rows and the 合计 row."""
        meta = {
            "填报单位": self.reporter,
            "供货联系人姓名": self.contact_name,
            "联系方式": self.contact_phone,
            "填报时间": seed_date(today()),
        }
        rows = [row.cells(number) for number, row in enumerate(self.rows, start=1)]
        total: list[object] | None = None
        if rows:
            total = ["合计", "", "", "", "", "", "", yuan_cell(self.total_fen), ""]
        return FormSheet(self.reporter, meta, rows, total=total)

    def _summary(self, heading: str, groups: list[GroupTotal], group_label: str) -> list[str]:
        lines = [f"{self.reporter}{self.period.label}{heading}：共{len(self.rows)}条，合计{yuan(self.total_fen)}。"]
        if not self.rows:
            lines.append("本季度还没有记录。")
        else:
            lines.append(f"按{group_label}：")
            lines.extend(f"· {g.name}：{g.rows}条，{g.quantity_text}，{yuan(g.amount_fen)}" for g in groups)
        if self.submission is not None:
            lines.append(f"{self.form_name}{self.submission.line()}。")
        else:
            lines.append(f"{self.form_name}尚未报送，截止日期{chinese_date(self.period.deadline)}。")
        return lines


@dataclass(frozen=True)
class TownshipReport(QuarterReport):
    """A township's 附件2 for a quarter: its purchase records, totals, and whether it was submitted."""

    township_id: int = 0

    @property
    def kind(self) -> ReportKind:
        """Always 附件2."""
        return ReportKind.SALES

    @property
    def township(self) -> str:
        """The township's name."""
        return self.reporter

    def summary_lines(self) -> list[str]:
        """The report in Chinese for a chat review: rows, total in 元, by product, and where they came from."""
        lines = self._summary("贫困户产品销售情况（附件2）", self.by_product(), "产品")
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
    def kind(self) -> ReportKind:
        """Always 附件3."""
        return ReportKind.PURCHASES

    @property
    def lead_unit(self) -> str:
        """The lead unit's name."""
        return self.reporter

    def summary_lines(self) -> list[str]:
        """The report in Chinese for a chat review: rows, total in 元, by buying unit."""
        return self._summary("系统（行业）采购情况（附件3）", self.by_buyer(), "采购单位")


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
    require_quarter(period)
    township = session.get(Township, township_id)
    if township is None:
        raise ValueError(f"no township with id {township_id}")
    name, phone = _township_contact(session, township_id)
    return TownshipReport(
        period=period,
        reporter=township.name,
        rows=report_rows(session, period, SaleRecord.township_id == township_id),
        submission=submission_of(session, ReportKind.SALES, period, township.name),
        contact_name=name,
        contact_phone=phone,
        township_id=township_id,
    )


def lead_unit_report(session: Session, period: Period, lead_unit: str) -> LeadUnitReport:
    """A lead unit's 附件3 for a quarter: purchases by buyers whose lead unit it is."""
    require_quarter(period)
    buyers = select(Buyer.id).where(Buyer.lead_unit == lead_unit)
    reporter = session.scalar(select(User.display_name).where(User.lead_unit == lead_unit).order_by(User.id).limit(1))
    return LeadUnitReport(
        period=period,
        reporter=lead_unit,
        rows=report_rows(session, period, SaleRecord.buyer_id.in_(buyers)),
        submission=submission_of(session, ReportKind.PURCHASES, period, lead_unit),
        contact_name=reporter or "",
        contact_phone="",
    )


def known_lead_units(session: Session) -> list[str]:
    """The plan's lead units, then any other lead unit buyers or submissions name."""
    extra = set(session.scalars(select(Buyer.lead_unit).where(Buyer.lead_unit != "").distinct()))
    extra |= set(
        session.scalars(select(ReportSubmission.reporter).where(ReportSubmission.kind == ReportKind.PURCHASES.value))
    )
    return [*LEAD_UNITS, *sorted(extra - set(LEAD_UNITS))]
