"""Reading the county's forms as a grid of text cells, whatever shape the township sent them in."""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
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
from fupin.spreadsheets.limits import (
    COMPRESSION_RATIO_FLOOR_BYTES,
    MAX_CELL_CHARS,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_COMPRESSION_RATIO,
    MAX_FILE_BYTES,
    MAX_MEMBER_BYTES,
    MAX_MEMBERS,
    MAX_MERGED_RANGES,
    MAX_ROWS,
    MAX_UNCOMPRESSED_BYTES,
)

logger = logging.getLogger(__name__)

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
    padded = 0
    for title, rows in sheets:
        width = max((len(r) for r in rows), default=0)
        # Short rows are padded to the widest one: the frame holds rows × width cells, not just those read.
        padded += width * len(rows)
        if padded > MAX_CELLS:
            raise SpreadsheetError(_too_many_cells(name, f"“{title}”表" if title else ""))
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
    return _take_rows(path.name, _csv_rows(path.name, text), CellBudget())


def _csv_rows(name: str, text: str) -> Iterator[list[str]]:
    # The csv module refuses a field over its own limit (128 KB) with an English error: said here as the
    # cell-length limit it is, with the row where it happened.
    number = 0
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):  # noqa: B007 - read after the loop
            yield row
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise SpreadsheetError(_cell_too_long(name, number + 1, "", None)) from exc
        raise SpreadsheetError(f"{name}：CSV 格式错误（{exc}）") from exc


class CellBudget:
    """Cells read so far from one file, against MAX_CELLS over all of its sheets."""

    def __init__(self) -> None:
        self.used = 0

    def take(self, name: str, sheet: str, count: int) -> None:
        """Count `count` more cells; raises SpreadsheetError past the limit."""
        self.used += count
        if self.used > MAX_CELLS:
            raise SpreadsheetError(_too_many_cells(name, sheet))


def _too_many_cells(name: str, sheet: str) -> str:
    return f"{name}：{sheet}单元格过多（超过{MAX_CELLS}个），每个文件最多{MAX_CELLS}个单元格，未导入任何内容"


def _cell_too_long(name: str, row: int, sheet: str, column: int | None) -> str:
    where = f"{sheet}第{row}行" + (f"，{get_column_letter(column + 1)}列" if column is not None else "")
    return f"{name} {where}：单元格内容过长（超过{MAX_CELL_CHARS}个字符），每个单元格最多{MAX_CELL_CHARS}个字符，未导入任何内容"


def _take_rows(name: str, rows: Iterable[Sequence[Any]], budget: CellBudget, sheet: str = "") -> list[list[str]]:
    # Rows as text cells, streamed so that a file over the row limit stops being read at the limit
    # (a 5 KB workbook can declare a million rows). Blank rows past the limit are no data and are dropped.
    taken: list[list[str]] = []
    for number, row in enumerate(rows, start=1):
        cells = [cell_text(v) for v in row[:MAX_COLUMNS]]
        if number > MAX_ROWS:
            if any(cells):
                raise SpreadsheetError(f"{name}：行数过多（超过{MAX_ROWS}行），每个文件最多{MAX_ROWS}行")
            continue
        budget.take(name, sheet, len(cells))
        for column, cell in enumerate(cells):
            if len(cell) > MAX_CELL_CHARS:
                raise SpreadsheetError(_cell_too_long(name, number, sheet, column))
        taken.append(cells)
    return taken


def _check_archive(path: Path) -> None:
    # Before any parser inflates a member: the sizes every member's header declares (which the zip reader
    # enforces while inflating), their sum and their compression ratio.
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SpreadsheetError(f"{path.name}：无法打开，文件已损坏或不是 Excel(.xlsx) 文件") from exc
    if len(members) > MAX_MEMBERS:
        raise SpreadsheetError(
            f"{path.name}：文件内部结构异常（包含{len(members)}个部件，上限{MAX_MEMBERS}个），未导入任何内容"
        )
    total = 0
    for member in members:
        size = member.file_size
        total += size
        if size > MAX_MEMBER_BYTES:
            raise SpreadsheetError(
                f"{path.name}：解压后过大（{member.filename} 为{size / (1024 * 1024):.1f}MB，"
                f"每个部件上限{MAX_MEMBER_BYTES // (1024 * 1024)}MB），未导入任何内容"
            )
        if size > COMPRESSION_RATIO_FLOOR_BYTES and size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1):
            raise SpreadsheetError(
                f"{path.name}：压缩比异常（{member.filename} 压缩了{size // max(member.compress_size, 1)}倍，"
                f"上限{MAX_COMPRESSION_RATIO}倍），可能是恶意文件，未导入任何内容"
            )
    if total > MAX_UNCOMPRESSED_BYTES:
        raise SpreadsheetError(
            f"{path.name}：解压后过大（共{total / (1024 * 1024):.1f}MB，上限{MAX_UNCOMPRESSED_BYTES // (1024 * 1024)}MB），"
            "未导入任何内容"
        )


def _read_xlsx(path: Path) -> list[tuple[str, list[list[str]]]]:
    _check_archive(path)
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
            budget = CellBudget()
            for sheet in workbook.worksheets:
                if sheet.sheet_state != "visible":
                    continue  # hidden sheets hold helper lists or old versions, not what the township sent
                sheet.reset_dimensions()  # some tools write a wrong <dimension>; read every row
                where = f"“{sheet.title}”表"
                rows = _take_rows(path.name, sheet.iter_rows(values_only=True), budget, where)
                xml = _sheet_xml(archive, sheet)
                _fill_uncomputed_formulas(rows, xml)
                refs = _MERGE_REF.findall(xml)
                if len(refs) > MAX_MERGED_RANGES:
                    raise SpreadsheetError(
                        f"{path.name} {where}：合并单元格过多（{len(refs)}处），每个工作表最多{MAX_MERGED_RANGES}处，"
                        "未导入任何内容"
                    )
                _fill_merged(rows, [CellRange(ref) for ref in refs])
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
# Kept linear: a tag's attributes are one [^<>]* run (no '<' inside a tag in well-formed XML, so one run
# never spans the next tag), its r="…" is found within that run afterwards, and no two \s* runs are adjacent.
_UNCOMPUTED_FORMULA = re.compile(
    r"<(?:\w+:)?c(\s[^<>]*)(?<!/)>\s*"
    r"<(?:\w+:)?f\b[^<>]*?(?:/>|>([^<]*)</(?:\w+:)?f>)\s*"
    r"(?:(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)\s*)?</(?:\w+:)?c>"
)
_CELL_REF = re.compile(r"\br=\"([A-Z]{1,3})([0-9]+)\"")


def _fill_uncomputed_formulas(rows: list[list[str]], xml: str) -> None:
    # data_only reads such a cell as empty, which would make a formula look like a blank (and a formula
    # in 剩余数量 silently mean "all of it"): show it as its text instead, as a CSV would, for the form
    # reader to refuse with its row and column.
    for match in _UNCOMPUTED_FORMULA.finditer(xml):
        ref = _CELL_REF.search(match[1])
        if ref is None:
            continue
        row, column = int(ref[2]) - 1, column_index_from_string(ref[1]) - 1
        if row < len(rows) and column < min(len(rows[row]), MAX_COLUMNS) and not rows[row][column]:
            rows[row][column] = "=" + (unescape(match[2] or "", {"&quot;": '"', "&apos;": "'"}) or "…")


def _fill_merged(rows: list[list[str]], ranges: list[CellRange]) -> None:
    # A merged cell holds its value in the top-left corner only: copy it into the whole range.
    for merged in ranges:
        top, left = merged.min_row - 1, merged.min_col - 1
        value = rows[top][left] if top < len(rows) and left < len(rows[top]) else ""
        for r in range(top, min(merged.max_row, len(rows))):
            for c in range(left, min(merged.max_col, len(rows[r]))):
                rows[r][c] = value
