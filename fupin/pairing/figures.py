"""What paired buyers bought from their villages: per pairing and period, from the counted purchase records.

A purchase counts toward a pairing when the buyer bought from the paired village while the pairing was in
force (from its start, before its end) and within the period asked about.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlalchemy.orm import Session

from fupin.models import SaleRecord
from fupin.pairing.register import PairingView, pairing_views
from fupin.periods import Period
from fupin.reporting.attachment2 import yuan_cell
from fupin.reporting.formatting import yuan
from fupin.reporting.rows import counted_sales
from fupin.values import BuyerCategory

logger = logging.getLogger(__name__)

FIRMS = (BuyerCategory.CHARITY_FIRM,)


@dataclass(frozen=True)
class PairingLine:
    """One pairing in a period: how many purchases from the paired village, and their amount."""

    pairing: PairingView
    purchases: int
    amount_fen: int


@dataclass(frozen=True)
class PairingFigures:
    """The pairings in force during a period with their purchases, and the buyers who bought nothing there."""

    period: Period
    lines: list[PairingLine]

    @property
    def amount_fen(self) -> int:
        """What paired buyers bought from their villages in the period."""
        return sum(line.amount_fen for line in self.lines)

    @property
    def buyers(self) -> list[str]:
        """Every paired buyer of the period, by name."""
        return sorted({line.pairing.buyer for line in self.lines})

    @property
    def without_purchases(self) -> list[str]:
        """Paired buyers that bought nothing from any of their paired villages in the period."""
        bought = {line.pairing.buyer for line in self.lines if line.purchases}
        return [name for name in self.buyers if name not in bought]


def overlaps(view: PairingView, start: date, end: date) -> bool:
    """Whether the pairing was in force on some day of [start, end)."""
    return view.started_on < end and (view.ended_on is None or view.ended_on > start)


def pairing_amounts(session: Session, view: PairingView, start: date, end: date) -> tuple[int, int]:
    """(purchases, amount in fen) of the buyer from the paired village in [start, end) while paired."""
    start = max(start, view.started_on)
    if view.ended_on is not None:
        end = min(end, view.ended_on)
    if start >= end:
        return 0, 0
    query = counted_sales(func.count(SaleRecord.id), func.coalesce(func.sum(SaleRecord.amount_fen), 0)).where(
        SaleRecord.buyer_id == view.buyer_id,
        SaleRecord.village_id == view.village_id,
        SaleRecord.sold_on >= start,
        SaleRecord.sold_on < end,
    )
    count, amount = session.execute(query).one()
    return int(count), int(amount)


def pairing_figures(session: Session, period: Period, categories: tuple[BuyerCategory, ...] = FIRMS) -> PairingFigures:
    """The pairings of buyers of the categories (爱心企业 by default) in force during the period, with purchases."""
    lines = []
    for view in pairing_views(session, categories=categories):
        if overlaps(view, period.start, period.end):
            purchases, amount = pairing_amounts(session, view, period.start, period.end)
            lines.append(PairingLine(view, purchases, amount))
    return PairingFigures(period, lines)


def pairing_lines(figures: PairingFigures) -> list[str]:
    """The 百企帮百村 part of the overview in Chinese (nothing when no firm is paired)."""
    if not figures.lines:
        return []
    lines = [
        f"  百企帮百村：结对{len(figures.lines)}对（{len(figures.buyers)}家企业），"
        f"本季度从结对村采购{yuan(figures.amount_fen)}。"
    ]
    lines += [
        f"  · {line.pairing.buyer} — {line.pairing.place}：{line.purchases}笔，{yuan(line.amount_fen)}"
        for line in figures.lines
        if line.purchases
    ]
    if figures.without_purchases:
        lines.append(f"  本季度未从结对村采购：{'、'.join(figures.without_purchases)}")
    return lines


def overview_rows(figures: PairingFigures) -> list[list[object]]:
    """The rows of the overview's 百企帮百村 sheet: 序号, 企业, 乡镇, 村, 深度贫困村, 结对时间, 笔数, 金额 (元)."""
    return [
        [
            number,
            line.pairing.buyer,
            line.pairing.township,
            line.pairing.village,
            "是" if line.pairing.deep_poverty else "",
            line.pairing.started_on,
            line.purchases,
            yuan_cell(line.amount_fen),
        ]
        for number, line in enumerate(figures.lines, start=1)
    ]
