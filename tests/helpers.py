"""Builders of 附件1 files as townships send them, for the import tests."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook

from fupin.catalog.attachment1 import NOTES, SEED_HEADERS

HEADERS = SEED_HEADERS
GOOD_ROW = ("云阳县龙角镇张家村", "王某某", "土豆", "30斤", "3元/斤", "送货上门", "", "李xx 17723635558", "")


def meta_line(unit: str = "龙角镇") -> str:
    """The 填写单位 row as the seed prints it."""
    return f"填写单位：{unit}        填写人：张xx        联系电话：023-55123456        填写日期：2026-11-01"


def write_xlsx(
    path: Path,
    rows: Sequence[Sequence[object]],
    *,
    unit: str = "龙角镇",
    headers: Sequence[str] = HEADERS,
    merges: Sequence[str] = (),
    blank_rows_after: Sequence[int] = (),
    notes: bool = True,
) -> Path:
    """A 附件1 workbook: title, meta row, header, numbered rows, optional blank rows, notes row."""
    book = Workbook()
    sheet = book.active
    sheet.append(["附件1"])
    sheet.append(["乡镇（街道）贫困户农特产品待销目录"])
    sheet.merge_cells("A2:J2")
    sheet.append([meta_line(unit)])
    sheet.append(list(headers))
    for number, row in enumerate(rows, start=1):
        sheet.append([number, *row])
        if number in blank_rows_after:
            sheet.append([])
    for cell_range in merges:
        sheet.merge_cells(cell_range)
    if notes:
        sheet.append([])
        sheet.append([NOTES])
    book.save(path)
    return path


def write_csv(
    path: Path, rows: Sequence[Sequence[object]], *, unit: str = "龙角镇", encoding: str = "utf-8-sig"
) -> Path:
    """The same form saved as CSV."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["乡镇（街道）贫困户农特产品待销目录"])
        writer.writerow([meta_line(unit)])
        writer.writerow(HEADERS)
        for number, row in enumerate(rows, start=1):
            writer.writerow([number, *row])
        writer.writerow([])
        writer.writerow([NOTES])
    return path


def row(**changes: str) -> tuple[str, ...]:
    """GOOD_ROW with some cells changed, by column key."""
    keys = ("region", "household", "product", "quantity", "price", "methods", "shop_url", "contact", "remarks")
    values = dict(zip(keys, GOOD_ROW, strict=True))
    values.update(changes)
    return tuple(values[k] for k in keys)
