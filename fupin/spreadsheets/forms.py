"""The layout the plan's attachment forms share: title, 填写单位 row, header row, data rows, note rows."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from fupin.spreadsheets.grid import SpreadsheetError, column_label, header_key, read_sheets

logger = logging.getLogger(__name__)

HEADER_SEARCH_ROWS = 30
NOTE_PREFIXES = ("备注：", "备注:", "注：", "注:", "说明：", "说明:", "填表说明")
TOTAL_LABELS = ("合计", "总计", "小计")


@dataclass(frozen=True)
class FormColumn:
    """One column of a form: its key, the header as the seed prints it, and accepted variants."""

    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    width: float = 16
    # Excel display format of written values (dates as 2019.9.1, amounts as 90.00元); None keeps the default.
    number_format: str | None = None

    @property
    def label(self) -> str:
        """The header on one line, for messages."""
        return re.sub(r"\s+", "", self.header)


@dataclass(frozen=True)
class FormSpec:
    """A form of the plan: title, the labels of its 填写单位 row, columns and note text."""

    title: str
    meta_labels: tuple[str, ...]
    columns: tuple[FormColumn, ...]
    notes: str
    # The line the seed prints above the title (附件2); empty writes no such row.
    label: str = ""

    def column(self, key: str) -> FormColumn:
        """The column with the given key."""
        return next(c for c in self.columns if c.key == key)


@dataclass
class FormTable:
    """A located form in a file: its meta fields, where each column is, and its data rows."""

    file_name: str
    sheet_name: str
    meta: dict[str, str]
    header_row: int
    columns: dict[str, tuple[int, str]]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)

    def column_label(self, key: str) -> str:
        """Letter and header of a column as found in the file (F列“销售价格（元）”)."""
        index, header = self.columns[key]
        return column_label(index, header)


def _match_columns(cells: Sequence[str], spec: FormSpec) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for index, cell in enumerate(cells):
        key = header_key(cell)
        if not key:
            continue
        for column in spec.columns:
            names = {header_key(column.header), *(header_key(a) for a in column.aliases)}
            if key in names and column.key not in found:
                found[column.key] = (index, re.sub(r"\s+", "", cell))
                break
    return found


def _parse_meta(text: str, labels: tuple[str, ...]) -> dict[str, str]:
    meta: dict[str, str] = {}
    others = "|".join(re.escape(label) for label in labels)
    for label in labels:
        # Linear: no two \s* runs adjacent, the value's trailing spaces stripped afterwards rather than by a
        # \s* retried at every position, and DOTALL so that a line break cannot make the match fail and retry
        # at every later occurrence of the label.
        match = re.search(rf"{re.escape(label)}\s*(?:[:：]\s*)?(.*?)(?=(?:{others})\s*[:：]|$)", text, re.DOTALL)
        if match:
            meta[label] = match.group(1).rstrip().strip(" :：")
    return meta


def locate_form(path: Path, spec: FormSpec) -> FormTable:
    """Find the form in a file: the first sheet with a header row naming the required columns.

    Raises SpreadsheetError with a Chinese reason when no sheet carries the form.
    """
    frames = read_sheets(path)
    required = [c for c in spec.columns if c.required]
    best_missing: list[FormColumn] | None = None
    for sheet_name, frame in frames:
        for row_number in list(frame.index)[:HEADER_SEARCH_ROWS]:
            cells = [str(v) for v in frame.loc[row_number].tolist()]
            columns = _match_columns(cells, spec)
            if len(columns) < 3:
                continue
            missing = [c for c in required if c.key not in columns]
            if missing:
                if best_missing is None or len(missing) < len(best_missing):
                    best_missing = missing
                continue
            above = " ".join(" ".join(str(v) for v in frame.loc[r].tolist()) for r in frame.index if r < row_number)
            table = FormTable(
                file_name=path.name,
                sheet_name=sheet_name,
                meta=_parse_meta(re.sub(r"\s+", " ", above), spec.meta_labels),
                header_row=row_number,
                columns=columns,
            )
            table.rows = list(_data_rows(frame, row_number, columns))
            return table
    if best_missing:
        names = "、".join(f"“{c.label}”" for c in best_missing)
        raise SpreadsheetError(f"{path.name}：表头缺少列 {names}")
    headers = "、".join(f"“{c.label}”" for c in required)
    raise SpreadsheetError(f"{path.name}：找不到“{spec.title}”的表头行（应包含 {headers} 等列）")


def _data_rows(
    frame: pd.DataFrame, header_row: int, columns: dict[str, tuple[int, str]]
) -> list[tuple[int, dict[str, str]]]:
    rows: list[tuple[int, dict[str, str]]] = []
    for row_number, values in frame.loc[header_row + 1 :].iterrows():
        cells = [str(v).strip() for v in values.tolist()]
        first = next((c for c in cells if c), "")
        if first.startswith(NOTE_PREFIXES):
            break  # the plan's note rows close the form
        record = {key: cells[index] for key, (index, _header) in columns.items()}
        if not any(value for key, value in record.items() if key != "seq"):
            continue  # blank or numbered-but-empty template row
        if record.get("seq", "").startswith("例"):
            continue  # the seed's worked example (例1)
        if record.get("seq", "").replace(" ", "") in TOTAL_LABELS:
            continue  # a 合计 row sums the rows above it: not a row of its own
        rows.append((int(row_number), record))
    return rows


@dataclass(frozen=True)
class FormSheet:
    """One filled form to write as a worksheet: its sheet name, meta values, rows and optional total row."""

    name: str
    meta: dict[str, str]
    rows: Sequence[Sequence[object]]
    title: str | None = None
    total: Sequence[object] | None = None


# The look every workbook of the programme shares: thin cell borders, yuan with two decimals, percentages.
_THIN = Side(style="thin")
CELL_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0.0%"


def title_rows(sheet: Worksheet, title: str, subtitle: str, columns: int) -> None:
    """A report sheet's first two rows: its title, bold and centred, and a subtitle, each across `columns`."""
    last = get_column_letter(columns)
    sheet.append([title])
    sheet.merge_cells(f"A1:{last}1")
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append([subtitle])
    sheet.merge_cells(f"A2:{last}2")


def write_form_sheet(sheet: Worksheet, spec: FormSpec, form: FormSheet) -> None:
    """Lay one form out on a worksheet as the seed does: label, title, meta row, header, rows, notes."""
    width = len(spec.columns)
    last = get_column_letter(width)
    row = 1
    if spec.label:
        sheet.cell(row=row, column=1, value=spec.label)
        row += 1
    sheet.cell(row=row, column=1, value=form.title or spec.title)
    sheet.merge_cells(f"A{row}:{last}{row}")
    sheet.cell(row=row, column=1).font = Font(bold=True, size=14)
    sheet.cell(row=row, column=1).alignment = Alignment(horizontal="center")
    row += 1
    sheet.cell(
        row=row, column=1, value="    ".join(f"{label}：{form.meta.get(label, '')}" for label in spec.meta_labels)
    )
    sheet.merge_cells(f"A{row}:{last}{row}")
    row += 1
    for index, column in enumerate(spec.columns, start=1):
        cell = sheet.cell(row=row, column=index, value=column.header)
        cell.font = Font(bold=True)
        cell.border = CELL_BORDER
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    lines = [*form.rows, *([form.total] if form.total is not None else [])]
    for values in lines:
        row += 1
        for index, (column, value) in enumerate(zip(spec.columns, values, strict=True), start=1):
            cell = sheet.cell(row=row, column=index, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # a name or remark typed as "=…" stays text, never a live formula
            cell.border = CELL_BORDER
            if column.number_format and value not in (None, ""):
                cell.number_format = column.number_format
    note_row = row + 2  # one blank row between the table and the notes, as in the seed
    sheet.cell(row=note_row, column=1, value=spec.notes)
    sheet.merge_cells(f"A{note_row}:{last}{note_row}")
    sheet.cell(row=note_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.row_dimensions[note_row].height = 90


def write_forms(path: Path, spec: FormSpec, forms: Sequence[FormSheet]) -> None:
    """Write several filled forms of one kind into one workbook, a worksheet each, in the given order."""
    if not forms:
        raise ValueError("no form to write")
    book = Workbook()
    book.remove(book.active)
    for form in forms:
        write_form_sheet(book.create_sheet(_sheet_title(form.name)), spec, form)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def _sheet_title(name: str) -> str:
    # Excel forbids these characters in sheet names and cuts them at 31 characters.
    return re.sub(r"[\\/*?:\[\]]", "_", name)[:31] or "Sheet1"


def write_form(
    path: Path,
    spec: FormSpec,
    meta: dict[str, str],
    rows: Sequence[Sequence[object]],
    title: str | None = None,
) -> None:
    """Write a form as the seed lays it out: title, meta row, header, rows, then the note row."""
    write_forms(path, spec, [FormSheet("Sheet1", meta, rows, title)])
