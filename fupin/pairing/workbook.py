"""The year's 百企帮百村 workbook (`python -m bot report pairing --year 2019 -o OUT.xlsx`): quarters as columns."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from fupin.pairing.figures import FIRMS, PairingFigures, overlaps, overview_rows, pairing_amounts
from fupin.pairing.register import PairingView, pairing_views
from fupin.periods import Period
from fupin.reporting.attachment2 import yuan_cell
from fupin.reporting.formatting import yuan
from fupin.settings import TIMEZONE
from fupin.spreadsheets.forms import MONEY_FORMAT, title_rows
from fupin.values import BuyerCategory

logger = logging.getLogger(__name__)

QUARTERS = (1, 2, 3, 4)
HEADER = ("序号", "企业名称", "乡镇（街道）", "村（社区）", "深度贫困村", "结对时间", "结束时间",
          "第1季度", "第2季度", "第3季度", "第4季度", "全年合计", "采购笔数")  # fmt: skip
FIRST_QUARTER_COLUMN = HEADER.index("第1季度") + 1
NOT_PAIRED = "未结对"  # a quarter the pairing was not in force: nothing to count, which is not 0


@dataclass(frozen=True)
class YearLine:
    """One pairing over a year: its amount per quarter (None when not in force then) and its purchases."""

    pairing: PairingView
    quarters: tuple[int | None, ...]
    purchases: int

    @property
    def amount_fen(self) -> int:
        """The year's amount."""
        return sum(q or 0 for q in self.quarters)


def year_lines(session: Session, year: int, categories: tuple[BuyerCategory, ...] = FIRMS) -> list[YearLine]:
    """Every pairing in force during the year with its purchases from the paired village by quarter."""
    found = []
    for view in pairing_views(session, categories=categories):
        if not overlaps(view, Period(year).start, Period(year).end):
            continue
        quarters: list[int | None] = []
        purchases = 0
        for quarter in QUARTERS:
            period = Period(year, quarter)
            if not overlaps(view, period.start, period.end):
                quarters.append(None)
                continue
            count, amount = pairing_amounts(session, view, period.start, period.end)
            quarters.append(amount)
            purchases += count
        found.append(YearLine(view, tuple(quarters), purchases))
    return found


def write_pairing_report(session: Session, year: int, path: Path) -> list[YearLine]:
    """Write the year's pairings with their quarters' purchases, and the firms that bought nothing, to `path`."""
    lines = year_lines(session, year)
    book = Workbook()
    sheet = book.active
    sheet.title = "百企帮百村"
    made = f"生成时间：{datetime.now(TIMEZONE):%Y-%m-%d %H:%M}    金额单位：元    结对{len(lines)}对"
    title_rows(sheet, f"云阳县{year}年“百企帮百村”结对采购情况", made, len(HEADER))
    sheet.append(list(HEADER))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for number, line in enumerate(lines, start=1):
        view = line.pairing
        sheet.append(
            [number, view.buyer, view.township, view.village, "是" if view.deep_poverty else "", view.started_on,
             view.ended_on or "",
             *(NOT_PAIRED if q is None else yuan_cell(q) for q in line.quarters),
             yuan_cell(line.amount_fen), line.purchases]
        )  # fmt: skip
    totals = [sum(line.quarters[i] or 0 for line in lines) for i in range(len(QUARTERS))]
    sheet.append(["", "合计", "", "", "", "", "", *(yuan_cell(t) for t in totals),
                  yuan_cell(sum(totals)), sum(line.purchases for line in lines)])  # fmt: skip
    for row in sheet.iter_rows(min_row=4, min_col=FIRST_QUARTER_COLUMN, max_col=FIRST_QUARTER_COLUMN + 4):
        for cell in row:
            if not isinstance(cell.value, str):
                cell.number_format = MONEY_FORMAT
    for row in sheet.iter_rows(min_row=4, min_col=6, max_col=7):
        for cell in row:
            cell.number_format = "yyyy-mm-dd"
    for index, width in enumerate((6, 28, 14, 14, 10, 12, 12, 14, 14, 14, 14, 14, 10), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A4"
    _without_sheet(book.create_sheet("未从结对村采购"), lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    logger.info("pairing report %s: %d pairings written to %s", year, len(lines), path)
    return lines


def _without_sheet(sheet: Worksheet, lines: list[YearLine]) -> None:
    # Per quarter, the firms paired then that bought nothing from any of their paired villages.
    sheet.append(["季度", "企业名称", "结对村"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, quarter in enumerate(QUARTERS):
        paired: dict[str, list[str]] = {}
        bought: set[str] = set()
        for line in lines:
            amount = line.quarters[index]
            if amount is None:
                continue
            paired.setdefault(line.pairing.buyer, []).append(line.pairing.place)
            if amount:
                bought.add(line.pairing.buyer)
        for firm in sorted(paired):
            if firm not in bought:
                sheet.append([f"第{quarter}季度", firm, "、".join(paired[firm])])


OVERVIEW_HEADER = ("序号", "企业名称", "乡镇（街道）", "村（社区）", "深度贫困村", "结对时间", "采购笔数", "采购金额")


def write_pairing_sheet(sheet: Worksheet, figures: PairingFigures, title: str, made: str) -> None:
    """The overview's 百企帮百村 sheet: each firm's pairing with its quarter's purchases, then the firms with none."""
    subtitle = f"{made}    结对{len(figures.lines)}对，从结对村采购{yuan(figures.amount_fen)}"
    title_rows(sheet, title, subtitle, len(OVERVIEW_HEADER))
    sheet.append(list(OVERVIEW_HEADER))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for cells in overview_rows(figures):
        sheet.append(cells)
        sheet.cell(row=sheet.max_row, column=6).number_format = "yyyy-mm-dd"
        sheet.cell(row=sheet.max_row, column=8).number_format = MONEY_FORMAT
    sheet.append(
        ["", "合计", "", "", "", "", sum(line.purchases for line in figures.lines), yuan_cell(figures.amount_fen)]
    )
    sheet.cell(row=sheet.max_row, column=8).number_format = MONEY_FORMAT
    if figures.without_purchases:
        sheet.append([])
        sheet.append(
            [
                f"本季度未从结对村采购的企业（{len(figures.without_purchases)}家）：{'、'.join(figures.without_purchases)}"
            ]
        )
    for index, width in enumerate((6, 28, 14, 14, 10, 12, 10, 16), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A4"
