"""The household workbook (`python -m bot report households`): 贫困户 by quarter, 村, 乡镇; and the overview's sheet."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from fupin.reporting.attachment2 import yuan_cell
from fupin.reporting.formatting import yuan
from fupin.reporting.households import (
    COUNTING_RULE,
    Beneficiaries,
    HouseholdReport,
    HouseholdSales,
    PlaceTally,
    QuarterSales,
    Tally,
)
from fupin.settings import TIMEZONE
from fupin.spreadsheets.forms import CELL_BORDER, MONEY_FORMAT, PERCENT_FORMAT, title_rows

logger = logging.getLogger(__name__)

_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)

HOUSEHOLD_COLUMNS = (
    "序号",
    "乡镇（街道）",
    "村（社区）",
    "贫困户（合作社）",
    "类型",
    "计贫困户数",
    "深度贫困镇村",
    "目录登记",
)
GROUP_COLUMNS = ("数量", "金额", "采购单位数")
TALLY_COLUMNS = (
    "目录登记贫困户数",
    "有销售的贫困户（合作社）",
    "受益贫困户数",
    "其中目录内",
    "目录外",
    "受益占目录登记",
    "销售金额",
)
FIRST_DATA_ROW = 5  # 贫困户: title, subtitle, two header rows


def _header_cell(sheet: Worksheet, row: int, column: int, value: str) -> None:
    cell = sheet.cell(row=row, column=column, value=value)
    cell.font = Font(bold=True)
    cell.border = CELL_BORDER
    cell.alignment = _CENTER


def _data_row(sheet: Worksheet, values: list[object], formats: dict[int, str]) -> None:
    sheet.append(values)
    for index in range(1, len(values) + 1):
        cell = sheet.cell(row=sheet.max_row, column=index)
        cell.border = CELL_BORDER
        if index in formats and isinstance(cell.value, (int, float, Decimal)):
            cell.number_format = formats[index]


def _note(sheet: Worksheet, text: str, columns: int) -> None:
    row = sheet.max_row + 2
    sheet.cell(row=row, column=1, value=text).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(f"A{row}:{get_column_letter(columns)}{row}")
    sheet.row_dimensions[row].height = 75


def _widths(sheet: Worksheet, widths: Sequence[float]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _group_cells(sales: QuarterSales) -> list[object]:
    if not sales.rows:
        return ["", "", ""]
    return [sales.quantity_text, yuan_cell(sales.amount_fen), len(sales.buyers)]


def household_cells(number: int, entry: HouseholdSales, quarters: tuple[int, ...]) -> list[object]:
    """One row of 贫困户: who and where, then quantity, amount and buyers per quarter and for the period."""
    cells: list[object] = [
        number,
        entry.township,
        entry.village,
        entry.name,
        "合作社" if entry.is_cooperative else "贫困户",
        entry.poor_households,
        "是" if entry.deep_poverty else "",
        "是" if entry.in_catalogue else "目录外",
    ]
    for quarter in quarters:
        cells += _group_cells(entry.quarter(quarter))
    return cells + _group_cells(entry.total)


def tally_cells(tally: Tally) -> list[object]:
    """The counts of a village, township or total row, in TALLY_COLUMNS order."""
    share: object = "" if tally.share is None else tally.share
    return [
        tally.catalogue,
        tally.sellers,
        tally.beneficiaries,
        tally.in_catalogue,
        tally.off_catalogue,
        share,
        yuan_cell(tally.amount_fen),
    ]


def notes(report: HouseholdReport) -> str:
    """The notes under every sheet: the counting and matching rules, and what no household is named for."""
    text = (
        f"注：1.{COUNTING_RULE}2.受益贫困户指期间内至少有一笔计入的销售记录的贫困户；"
        "受益占目录登记＝目录内受益贫困户数÷目录登记贫困户数。3.数量按计量单位分别合计（如“500斤；20只”），"
        "不同单位不相加；采购单位数为不同采购单位的个数。4.已被新版本替换的附件2行不计入。"
    )
    if report.unnamed_rows:
        text += f"5.另有{report.unnamed_rows}条销售记录未注明贫困户（合计{yuan(report.unnamed_fen)}），不计入本表各户。"
    return text


def _households_sheet(sheet: Worksheet, report: HouseholdReport, title: str, subtitle: str) -> None:
    quarters = report.quarters
    groups = [f"第{q}季度" for q in quarters] + ["全年合计" if report.period.quarter is None else "合计"]
    columns = len(HOUSEHOLD_COLUMNS) + len(GROUP_COLUMNS) * len(groups)
    title_rows(sheet, title, subtitle, columns)
    for index, name in enumerate(HOUSEHOLD_COLUMNS, start=1):
        _header_cell(sheet, 3, index, name)
        _header_cell(sheet, 4, index, "")
        sheet.merge_cells(start_row=3, start_column=index, end_row=4, end_column=index)
    for number, group in enumerate(groups):
        first = len(HOUSEHOLD_COLUMNS) + 1 + number * len(GROUP_COLUMNS)
        _header_cell(sheet, 3, first, group)
        sheet.merge_cells(start_row=3, start_column=first, end_row=3, end_column=first + len(GROUP_COLUMNS) - 1)
        for offset, name in enumerate(GROUP_COLUMNS):
            _header_cell(sheet, 4, first + offset, name)
    money = {len(HOUSEHOLD_COLUMNS) + 2 + n * len(GROUP_COLUMNS): MONEY_FORMAT for n in range(len(groups))}
    for number, entry in enumerate(report.households, start=1):
        _data_row(sheet, household_cells(number, entry, quarters), money)
    _note(sheet, notes(report), columns)
    _widths(sheet, [6, 14, 12, 22, 8, 10, 10, 9] + [14, 12, 8] * len(groups))
    sheet.freeze_panes = sheet.cell(row=FIRST_DATA_ROW, column=len(HOUSEHOLD_COLUMNS) + 1)


def _places_sheet(
    sheet: Worksheet, report: HouseholdReport, rows: list[PlaceTally], villages: bool, title: str, subtitle: str
) -> None:
    place = ["序号", "乡镇（街道）"] + (["村（社区）", "深度贫困镇村"] if villages else ["深度贫困镇"])
    headers = [*place, *TALLY_COLUMNS]
    title_rows(sheet, title, subtitle, len(headers))
    for index, name in enumerate(headers, start=1):
        _header_cell(sheet, 3, index, name)
    formats = {len(place) + 6: PERCENT_FORMAT, len(place) + 7: MONEY_FORMAT}
    for number, row in enumerate(rows, start=1):
        where: list[object] = [number, row.township] + ([row.village or "（乡镇直属）"] if villages else [])
        _data_row(sheet, [*where, "是" if row.deep_poverty else "", *tally_cells(row.tally)], formats)
    total = report.figures.total
    _data_row(sheet, ["", "合计", *([""] * (len(place) - 2)), *tally_cells(total)], formats)
    _data_row(sheet, ["", "其中深度贫困镇村", *([""] * (len(place) - 2)), *tally_cells(report.figures.deep)], formats)
    _note(sheet, notes(report), len(headers))
    _widths(sheet, [6, 14] + ([12, 10] if villages else [10]) + [12] * len(TALLY_COLUMNS))
    sheet.freeze_panes = "A4"


def write_household_workbook(report: HouseholdReport, path: Path) -> None:
    """Write 贫困户 (one row per household or cooperative, quarters as column groups), 村 and 乡镇."""
    label = f"云阳县{'' if report.scope == '全县' else report.scope}{report.period.label}"
    made = f"生成时间：{datetime.now(TIMEZONE):%Y-%m-%d %H:%M}    金额单位：元    {report.figures.summary_line('')}"
    book = Workbook()
    households = book.active
    households.title = "贫困户"
    _households_sheet(households, report, f"{label}贫困户产品销售情况（见成效）", made)
    _places_sheet(book.create_sheet("村"), report, report.villages, True, f"{label}各村（社区）受益贫困户情况", made)
    _places_sheet(
        book.create_sheet("乡镇"), report, report.townships, False, f"{label}各乡镇（街道）受益贫困户情况", made
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    logger.info("household report %s %s: %d households written to %s", report.scope, report.period.code,
                len(report.households), path)  # fmt: skip


def write_beneficiaries_sheet(sheet: Worksheet, figures: Beneficiaries, title: str, subtitle: str) -> None:
    """The overview's 受益贫困户 sheet: the county's beneficiaries and the deep-poverty part, year to date."""
    headers = ["项目", *TALLY_COLUMNS]
    title_rows(sheet, title, subtitle, len(headers))
    for index, name in enumerate(headers, start=1):
        _header_cell(sheet, 3, index, name)
    formats = {7: PERCENT_FORMAT, 8: MONEY_FORMAT}
    _data_row(sheet, ["全县合计", *tally_cells(figures.total)], formats)
    _data_row(sheet, ["其中：深度贫困镇村", *tally_cells(figures.deep)], formats)
    _note(
        sheet,
        f"注：本年累计（当年1月1日至本季度末）。{COUNTING_RULE}各户明细见 python -m bot report households。",
        len(headers),
    )
    _widths(sheet, [22] + [12] * len(TALLY_COLUMNS))
    sheet.freeze_panes = "A4"
