"""The overdue-payment workbook (`python -m bot report overdue`): every order, then totals by buyer, lead unit, township."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from fupin.orders.overdue import OverdueOrder

logger = logging.getLogger(__name__)

DETAIL_HEADER = (
    "订单号",
    "采购单位",
    "牵头单位",
    "乡镇",
    "供货地点",
    "产品",
    "数量",
    "金额（元）",
    "送达日期",
    "未付天数",
)
TOTAL_HEADER = ("笔数", "金额（元）")
# The summary sheets: title, the column's name, and what an order is counted under.
_GROUPS: tuple[tuple[str, str, Callable[[OverdueOrder], str]], ...] = (
    ("按采购单位", "采购单位", lambda o: o.buyer),
    ("按牵头单位", "牵头单位", lambda o: o.lead_unit),
    ("按乡镇", "乡镇", lambda o: o.township),
)


def _header(sheet: object, cells: Sequence[str]) -> None:
    sheet.append(list(cells))  # type: ignore[attr-defined]
    for cell in sheet[1]:  # type: ignore[index]
        cell.font = Font(bold=True)


def write_overdue_report(path: Path, orders: Sequence[OverdueOrder]) -> None:
    """Write the orders (oldest first) and their totals, largest amount first, into one workbook."""
    book = Workbook()
    detail = book.active
    detail.title = "明细"
    _header(detail, DETAIL_HEADER)
    for o in orders:
        detail.append(
            [
                o.order_no,
                o.buyer,
                o.lead_unit,
                o.township,
                o.place,
                o.product,
                o.quantity,
                o.amount_fen / 100,
                o.delivered_on.isoformat(),
                o.days,
            ]
        )
    for title, column, key in _GROUPS:
        totals: dict[str, tuple[int, int]] = {}
        for o in orders:
            count, fen = totals.get(key(o), (0, 0))
            totals[key(o)] = (count + 1, fen + o.amount_fen)
        sheet = book.create_sheet(title)
        _header(sheet, (column, *TOTAL_HEADER))
        for name, (count, fen) in sorted(totals.items(), key=lambda item: (-item[1][1], item[0])):
            sheet.append([name, count, fen / 100])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    logger.info("overdue report: %d orders written to %s", len(orders), path)
