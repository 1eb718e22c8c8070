"""The county's quarter: totals, deep-poverty share, channels against the plan's targets, who has reported,
and the quality complaints filed in it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fupin.complaints.queries import ComplaintFigures, complaint_figures
from fupin.logistics.figures import LogisticsFigures, logistics_figures
from fupin.models import Buyer, SaleRecord, Township
from fupin.pairing.figures import PairingFigures, pairing_figures, pairing_lines
from fupin.periods import Period
from fupin.reporting.formatting import require_quarter, target_wan, yuan
from fupin.reporting.households import Beneficiaries, beneficiaries
from fupin.reporting.kinds import ReportKind
from fupin.reporting.quarter import known_lead_units
from fupin.reporting.rows import counted_sales
from fupin.reporting.sales import Progress, percent, progress
from fupin.reporting.submissions import Submission, submissions
from fupin.unions.budget import UnionBudget, union_budgets
from fupin.unions.wording import overview_lines as union_lines
from fupin.values import (
    ANNUAL_TARGET_FEN,
    DEEP_POVERTY_TARGET_FEN,
    UNION_BUDGET_PER_MEMBER_FEN,
    BuyerCategory,
    Channel,
)

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
        return ratio(self.quarter_fen, self.quarter_target_fen)

    @property
    def year_ratio(self) -> Decimal | None:
        """The year-to-date amount over the annual target."""
        return ratio(self.year_fen, self.annual_target_fen)


def ratio(part: int, whole: int | None) -> Decimal | None:
    """part / whole, or None without a whole (no target, no sales)."""
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
    complaints: ComplaintFigures  # filed in the quarter (质量投诉)
    logistics: LogisticsFigures | None = None
    pairings: PairingFigures | None = None  # 百企帮百村: the firms' pairings and their purchases there
    beneficiaries: Beneficiaries | None = None  # poor households with a sale, year to date
    unions: tuple[UnionBudget, ...] = ()  # 进家庭: each union's budget and what counts towards it, year to date

    @property
    def deep_share(self) -> Decimal | None:
        """The deep-poverty townships' and villages' share of the quarter's sales."""
        return ratio(self.deep.quarter_fen, self.total.quarter_fen)

    @property
    def deep_share_year(self) -> Decimal | None:
        """The deep-poverty share of the year to date."""
        return ratio(self.deep.year_fen, self.total.year_fen)

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
            f"完成年度目标{target_wan(total.annual_target_fen)}的{percent(total.year_fen, total.annual_target_fen or 0)}。",
            f"深度贫困镇村{yuan(deep.quarter_fen)}，占{percent(deep.quarter_fen, total.quarter_fen)}；"
            f"本年累计{yuan(deep.year_fen)}，完成年度目标{target_wan(deep.annual_target_fen)}的"
            f"{percent(deep.year_fen, deep.annual_target_fen or 0)}。",
            "各渠道（本季度 / 本年累计 / 年度目标完成）：",
        ]
        if self.beneficiaries is not None:
            lines.insert(3, self.beneficiaries.summary_line())
        for line in self.channels:
            lines.append(
                f"· {line.name}：{yuan(line.quarter_fen)} / {yuan(line.year_fen)} / "
                f"{percent(line.year_fen, line.annual_target_fen or 0)}"
            )
            if line.name == CHANNEL_NAMES[Channel.WUJIN] and self.unions:
                lines += union_lines(self.unions)
            if line.name == CHANNEL_NAMES[Channel.CHARITY_FIRMS] and self.pairings is not None:
                lines += pairing_lines(self.pairings)
        if self.other.quarter_fen:
            lines.append(f"· {self.other.name}：{yuan(self.other.quarter_fen)}")
        lines.append(
            _status_line(ReportKind.SALES.form_name, "乡镇（街道）", self.submitted_townships, self.missing_townships)
        )
        lines.append(
            _status_line(ReportKind.PURCHASES.form_name, "牵头单位", self.submitted_lead_units, self.missing_lead_units)
        )
        if self.logistics is not None and self.logistics.delivered:
            lines += logistics_lines(self.logistics)
        if self.complaints.total:
            lines.append(self.complaints.summary_line())
        return lines


def kilograms(grams: int) -> str:
    """A weight in grams as 千克 with one decimal."""
    return f"{Decimal(grams) / 1000:,.1f}千克"


def logistics_lines(figures: LogisticsFigures) -> list[str]:
    """The logistics part of the overview in Chinese."""
    lines = [
        f"物流：本季度送达订单{figures.delivered}单，有快递单号{figures.tracked}单"
        f"（{percent(figures.tracked, figures.delivered)}），已与快递公司数据核对{figures.matched}单；"
        f"物流费用{yuan(figures.fee_fen)}（由采购方承担，不向贫困户收取）。"
    ]
    for line in figures.by_carrier().values():
        lines.append(f"· {line.carrier}：{line.parcels}件，{kilograms(line.weight_grams)}，{yuan(line.fee_fen)}")
    return lines


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
        counted_sales(Buyer.lead_unit, func.sum(SaleRecord.amount_fen))
        .join(Buyer, SaleRecord.buyer_id == Buyer.id)
        .where(SaleRecord.sold_on >= start, SaleRecord.sold_on < end, Buyer.lead_unit != "")
        .group_by(Buyer.lead_unit)
    )
    return {unit: int(amount or 0) for unit, amount in session.execute(query)}


def overview(session: Session, period: Period, *, union_per_member_fen: int = UNION_BUDGET_PER_MEMBER_FEN) -> Overview:
    """The county's figures for a quarter and the year to date against the plan, and who has reported.

    `union_per_member_fen`: a union's budget per member (the caller's UNION_BUDGET_PER_MEMBER_YUAN).
    """
    require_quarter(period)
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
    township_reports = submissions(session, ReportKind.SALES, period)
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
    unit_reports = submissions(session, ReportKind.PURCHASES, period)
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
        logistics=logistics_figures(session, period),
        pairings=pairing_figures(session, period),
        beneficiaries=beneficiaries(session, Period(period.year).start, period.end),
        unions=tuple(union_budgets(session, period.year, per_member=union_per_member_fen, until=period.end)),
        complaints=complaint_figures(session, period.start, period.end),
    )
