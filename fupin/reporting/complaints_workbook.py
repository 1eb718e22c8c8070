"""The complaints workbook (`python -m bot complaints list -o`): every complaint, then counts by township and category."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from fupin.complaints.queries import ComplaintView
from fupin.settings import TIMEZONE
from fupin.values import ComplaintCategory

logger = logging.getLogger(__name__)

DETAIL_HEADER = (
    "投诉编号",
    "订单号",
    "采购单位",
    "乡镇",
    "村",
    "产品",
    "类别",
    "状态",
    "投诉时间",
    "处理人",
    "已开天数",
    "最新答复",
    "投诉内容",
)
TOTAL_ROW = "合计"


def _bold_header(sheet: object, cells: Sequence[str]) -> None:
    sheet.append(list(cells))  # type: ignore[attr-defined]
    for cell in sheet[1]:  # type: ignore[index]
        cell.font = Font(bold=True)


def counts_by_township(views: Sequence[ComplaintView]) -> dict[str, dict[ComplaintCategory, int]]:
    """Complaints by township and category, most complaints first (then by name)."""
    counts: dict[str, dict[ComplaintCategory, int]] = {}
    for view in views:
        counts.setdefault(view.township, dict.fromkeys(ComplaintCategory, 0))[view.category] += 1
    return dict(sorted(counts.items(), key=lambda item: (-sum(item[1].values()), item[0])))


def write_complaints_report(path: Path, views: Sequence[ComplaintView]) -> None:
    """Write the complaints (明细, oldest first) and their counts by township and category (按乡镇按类别)."""
    book = Workbook()
    detail = book.active
    detail.title = "明细"
    _bold_header(detail, DETAIL_HEADER)
    for v in views:
        detail.append(
            [
                v.number,
                v.order_no,
                v.buyer,
                v.township,
                v.village,
                v.product,
                v.category.value,
                v.status.value,
                f"{v.created.astimezone(TIMEZONE):%Y-%m-%d %H:%M}",
                v.handler,
                v.days_open,
                v.last_note,
                v.text,
            ]
        )
    summary = book.create_sheet("按乡镇按类别")
    categories = list(ComplaintCategory)
    _bold_header(summary, ("乡镇", *(c.value for c in categories), TOTAL_ROW))
    totals = dict.fromkeys(categories, 0)
    for township, counts in counts_by_township(views).items():
        summary.append([township, *(counts[c] for c in categories), sum(counts.values())])
        for category in categories:
            totals[category] += counts[category]
    summary.append([TOTAL_ROW, *(totals[c] for c in categories), sum(totals.values())])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    logger.info("complaints report: %d complaints written to %s", len(views), path)
