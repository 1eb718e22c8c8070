"""Reading the county's forms as a grid of text cells, whatever shape the township sent them in."""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import unescape

import openpyxl
import pandas as pd
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.cell_range import CellRange

from fupin.parsing import normalize_text

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
# Cells right of this column are never read: no form is that wide, and one stray cell in column XFD
# would otherwise widen every row to 16,384 cells (a 5 KB file taking gigabytes).
MAX_COLUMNS = 200
SUPPORTED_SUFFIXES = (".xlsx", ".xlsm", ".csv")


class SpreadsheetError(Exception):
    """A file that cannot be read as a whole; the message is a Chinese reason for the user."""


@dataclass(frozen=True)
class RowIssue:
    """A rejected row: file, spreadsheet row number (as Excel shows it), column and Chinese reason."""

    file: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"第{self.row}行" + (f"，{self.column}" if self.column else "")
        return f"{self.file} {where}：{self.reason}"


def column_label(index: int, header: str) -> str:
    """A column as people name it: letter and header (F列“销售价格（元）”)."""
    return f"{get_column_letter(index + 1)}列“{header}”"


def header_key(text: str) -> str:
    """A header cell reduced for matching: no spaces or line breaks, full-width folded."""
    return re.sub(r"\s+", "", normalize_text(text)).replace("(", "（").replace(")", "）")


def cell_text(value: Any) -> str:
    """One cell as text: integral floats without .0, dates as ISO, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)).normalize(), "f")
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def read_sheets(path: Path) -> list[tuple[str, pd.DataFrame]]:
    """Every visible sheet as text cells (merged cells filled in), named, in workbook order.

    Each DataFrame's index is the 1-based spreadsheet row number. Raises SpreadsheetError.
    """
    name = path.name
    if not path.is_file():
        raise SpreadsheetError(f"{name}：找不到文件")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise SpreadsheetError(f"{name}：不支持的文件类型{suffix or '（无扩展名）'}，请上传 .xlsx 或 .csv 文件")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SpreadsheetError(f"{name}：文件过大（{size / (1024 * 1024):.1f}MB），上限为20MB")
    sheets = [("", _read_csv(path))] if suffix == ".csv" else _read_xlsx(path)
    frames = []
    for title, rows in sheets:
        width = max((len(r) for r in rows), default=0)
        frame = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=object)
        frame.index = range(1, len(rows) + 1)
        frames.append((title, frame))
    return frames


def _read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SpreadsheetError(f"{path.name}：无法识别文件编码，请另存为 UTF-8 编码的 CSV 或 .xlsx")
    if "\x00" in text:
        raise SpreadsheetError(f"{path.name}：文件内容不是表格文本，可能已损坏")
    try:
        return _take_rows(path.name, csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise SpreadsheetError(f"{path.name}：CSV 格式错误（{exc}）") from exc


def _take_rows(name: str, rows: Iterable[Sequence[Any]]) -> list[list[str]]:
    # Rows as text cells, streamed so that a file over the row limit stops being read at the limit
    # (a 5 KB workbook can declare a million rows). Blank rows past the limit are no data and are dropped.
    taken: list[list[str]] = []
    for number, row in enumerate(rows, start=1):
        cells = [cell_text(v) for v in row[:MAX_COLUMNS]]
        if number > MAX_ROWS:
            if any(cells):
                raise SpreadsheetError(f"{name}：行数过多（超过{MAX_ROWS}行），每个文件最多{MAX_ROWS}行")
            continue
        taken.append(cells)
    return taken


def _read_xlsx(path: Path) -> list[tuple[str, list[list[str]]]]:
    # Malformed XML inside the zip raises ElementTree's ParseError (lxml's XMLSyntaxError when lxml is
    # installed); both are SyntaxErrors.
    try:
        # Read-only streaming is several times faster on big files; data_only takes the values
        # Excel computed, never a formula's source text.
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, SyntaxError) as exc:
        raise SpreadsheetError(f"{path.name}：无法打开，文件已损坏或不是 Excel(.xlsx) 文件") from exc
    try:
        with zipfile.ZipFile(path) as archive:
            sheets = []
            for sheet in workbook.worksheets:
                if sheet.sheet_state != "visible":
                    continue  # hidden sheets hold helper lists or old versions, not what the township sent
                sheet.reset_dimensions()  # some tools write a wrong <dimension>; read every row
                rows = _take_rows(path.name, sheet.iter_rows(values_only=True))
                xml = _sheet_xml(archive, sheet)
                _fill_uncomputed_formulas(rows, xml)
                _fill_merged(rows, [CellRange(ref) for ref in _MERGE_REF.findall(xml)])
                sheets.append((sheet.title, rows))
            return sheets
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, EOFError, SyntaxError) as exc:
        raise SpreadsheetError(f"{path.name}：文件内容已损坏，无法读取") from exc
    finally:
        workbook.close()


def _sheet_xml(archive: zipfile.ZipFile, sheet: Any) -> str:
    # Read-only sheets expose neither merged cells nor formulas, so both are read from the sheet's XML.
    sheet_path = getattr(sheet, "_worksheet_path", None)
    if not sheet_path:
        return ""
    return archive.read(sheet_path.lstrip("/")).decode("utf-8", errors="replace")


_MERGE_REF = re.compile(r"<(?:\w+:)?mergeCell\s+ref=\"([A-Z]+[0-9]+:[A-Z]+[0-9]+)\"")
# A formula cell with no cached value (<v/>, <v></v> or none): written by a program, never opened in Excel.
_UNCOMPUTED_FORMULA = re.compile(
    r"<(?:\w+:)?c\s[^>]*?\br=\"([A-Z]{1,3})([0-9]+)\"[^>]*(?<!/)>\s*"
    r"<(?:\w+:)?f\b[^>]*?(?:/>|>([^<]*)</(?:\w+:)?f>)\s*"
    r"(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)


def _fill_uncomputed_formulas(rows: list[list[str]], xml: str) -> None:
    # data_only reads such a cell as empty, which would make a formula look like a blank (and a formula
    # in 剩余数量 silently mean "all of it"): show it as its text instead, as a CSV would, for the form
    # reader to refuse with its row and column.
    for match in _UNCOMPUTED_FORMULA.finditer(xml):
        row, column = int(match[2]) - 1, column_index_from_string(match[1]) - 1
        if row < len(rows) and column < min(len(rows[row]), MAX_COLUMNS) and not rows[row][column]:
            rows[row][column] = "=" + (unescape(match[3] or "", {"&quot;": '"', "&apos;": "'"}) or "…")


def _fill_merged(rows: list[list[str]], ranges: list[CellRange]) -> None:
    # A merged cell holds its value in the top-left corner only: copy it into the whole range.
    for merged in ranges:
        top, left = merged.min_row - 1, merged.min_col - 1
        value = rows[top][left] if top < len(rows) and left < len(rows[top]) else ""
        for r in range(top, min(merged.max_row, len(rows))):
            for c in range(left, min(merged.max_col, len(rows[r]))):
                rows[r][c] = value
