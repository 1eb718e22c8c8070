"""A carrier's shipment export (CSV or .xlsx) matched to the orders by tracking number.

The columns are found by their headers: 中国邮政's usual names by default, others from a small mapping file
(YAML or JSON: `tracking_no`, `shipped_on`, `weight`, `fee`, each a header or a list of them, and
`weight_unit`: kg or g). A file with a bad cell writes nothing and names each bad cell by row and column;
rows whose number no order carries are reported with their row numbers and otherwise left alone.
"""

from __future__ import annotations

import enum
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.models import Shipment, utcnow
from fupin.parsing import normalize_text, parse_day
from fupin.spreadsheets.grid import RowIssue, SpreadsheetError, column_label, header_key, read_sheets

logger = logging.getLogger(__name__)

# Headers are looked for in the first rows only: an export has a title line or two at most.
HEADER_SEARCH_ROWS = 10
_TRACKING_SHAPE = re.compile(r"^[0-9A-Z]{8,40}$")


class Field(str, enum.Enum):
    """The columns the import reads, as named in a mapping file."""

    TRACKING_NO = "tracking_no"
    SHIPPED_ON = "shipped_on"
    WEIGHT = "weight"
    FEE = "fee"


_FIELD_NAMES = {Field.TRACKING_NO: "单号", Field.SHIPPED_ON: "日期", Field.WEIGHT: "重量", Field.FEE: "费用"}


class MappingError(ValueError):
    """A mapping file that cannot be used; the message is a Chinese reason."""


@dataclass(frozen=True)
class ColumnMapping:
    """Which headers hold each field (the first found wins), and the unit of the weight column."""

    headers: dict[Field, tuple[str, ...]]
    weight_in_grams: bool = False


# 中国邮政's shipment exports (寄递业务清单, 邮件明细): the names its systems use for these columns.
POST_MAPPING = ColumnMapping(
    headers={
        Field.TRACKING_NO: ("邮件号", "邮件号码", "运单号", "快递单号", "单号"),
        Field.SHIPPED_ON: ("收寄日期", "收寄时间", "交寄日期", "寄件日期", "日期"),
        Field.WEIGHT: ("重量（千克）", "重量（kg）", "计费重量（千克）", "计费重量", "重量"),
        Field.FEE: ("资费（元）", "总资费", "应收资费", "资费", "邮费", "运费", "费用（元）"),
    }
)


def load_mapping(path: Path) -> ColumnMapping:
    """A mapping file (YAML or JSON) over 中国邮政's defaults; raises MappingError."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path.name}：无法读取映射文件（{exc}）") from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise MappingError(f"{path.name}：映射文件格式错误（{exc}）") from exc
    if not isinstance(data, dict):
        raise MappingError(f"{path.name}：映射文件应是“字段: 列名”的对应表")
    headers = dict(POST_MAPPING.headers)
    unknown = [str(key) for key in data if key not in {f.value for f in Field} | {"weight_unit"}]
    if unknown:
        names = "、".join(f.value for f in Field)
        raise MappingError(f"{path.name}：不认识的字段 {'、'.join(unknown)}（可用：{names}、weight_unit）")
    for f in Field:
        value = data.get(f.value)
        if value is None:
            continue
        given: Any = [value] if isinstance(value, str) else value
        if not isinstance(given, list) or not given or not all(isinstance(n, str) and n.strip() for n in given):
            raise MappingError(f"{path.name}：{f.value} 应是一个列名或列名的列表")
        headers[f] = tuple(given)
    unit = str(data.get("weight_unit", "kg")).strip().lower()
    if unit not in ("kg", "g"):
        raise MappingError(f"{path.name}：weight_unit 只能是 kg 或 g，不是“{unit}”")
    return ColumnMapping(headers=headers, weight_in_grams=unit == "g")


@dataclass(frozen=True)
class CarrierRow:
    """One parcel of the export, checked."""

    row: int
    tracking_no: str
    shipped_on: date
    weight_grams: int
    fee_fen: int


@dataclass
class LogisticsImport:
    """What an import did: matched rows written, unmatched rows and bad cells by row number."""

    file: str
    rows: int = 0
    matched: int = 0
    unmatched: list[tuple[int, str]] = field(default_factory=list)
    issues: list[RowIssue] = field(default_factory=list)

    @property
    def applied(self) -> bool:
        """Whether the matched rows were written (a file with any bad cell writes nothing)."""
        return not self.issues

    def lines(self) -> list[str]:
        """The result as Chinese lines for a person."""
        if not self.applied:
            out = [f"✗ {self.file}：有{len(self.issues)}处错误，未导入任何内容"]
            return out + [f"  - {issue}" for issue in self.issues]
        out = [f"✓ {self.file}：共{self.rows}行，匹配订单{self.matched}行，未匹配{len(self.unmatched)}行"]
        out += [f"  - 第{row}行：单号 {number} 没有对应的订单" for row, number in self.unmatched]
        return out


def import_carrier_file(session: Session, path: Path, mapping: ColumnMapping = POST_MAPPING) -> LogisticsImport:
    """Match a carrier's export to the shipments by tracking number, inside the caller's transaction.

    Raises SpreadsheetError for a file that cannot be read as a whole.
    """
    report = LogisticsImport(file=path.name)
    parcels = _read_rows(path, mapping, report)
    report.rows = len(parcels) + len(report.issues)
    if report.issues:
        return report
    by_number = {p.tracking_no: p for p in parcels}
    shipments = (
        {
            s.tracking_no: s
            for s in session.scalars(select(Shipment).where(Shipment.tracking_no.in_(list(by_number))))
            if s.tracking_no
        }
        if by_number
        else {}
    )
    now = utcnow()
    for parcel in parcels:
        shipment = shipments.get(parcel.tracking_no)
        if shipment is None:
            report.unmatched.append((parcel.row, parcel.tracking_no))
            continue
        shipment.shipped_on = parcel.shipped_on
        shipment.weight_grams = parcel.weight_grams
        shipment.fee_fen = parcel.fee_fen
        shipment.imported_at = now
        shipment.import_source = path.name[:200]
        report.matched += 1
    session.flush()
    logger.info("logistics import %s: %d rows, %d matched", path.name, report.rows, report.matched)
    return report


def _read_rows(path: Path, mapping: ColumnMapping, report: LogisticsImport) -> list[CarrierRow]:
    sheets = [frame for _title, frame in read_sheets(path) if not frame.empty]
    if not sheets:
        raise SpreadsheetError(f"{path.name}：文件是空的")
    frame = sheets[0]
    header_row, columns = _locate_header(path.name, frame, mapping)
    parcels: list[CarrierRow] = []
    seen: dict[str, int] = {}
    for row_number, cells in frame.iterrows():
        row = int(row_number)
        if row <= header_row:
            continue
        values = {f: normalize_text(str(cells.iloc[index])) for f, (index, _header) in columns.items()}
        if not any(values.values()):
            continue
        parcel = _check_row(path.name, row, values, columns, mapping, report.issues)
        if parcel is None:
            continue
        if parcel.tracking_no in seen:
            index, header = columns[Field.TRACKING_NO]
            report.issues.append(
                RowIssue(path.name, row, column_label(index, header), f"单号与第{seen[parcel.tracking_no]}行重复")
            )
            continue
        seen[parcel.tracking_no] = row
        parcels.append(parcel)
    return parcels


def _locate_header(name: str, frame: Any, mapping: ColumnMapping) -> tuple[int, dict[Field, tuple[int, str]]]:
    wanted = {f: [header_key(h) for h in headers] for f, headers in mapping.headers.items()}
    for row_number, cells in frame.head(HEADER_SEARCH_ROWS).iterrows():
        keys = [header_key(str(c)) for c in cells]
        if not any(k in wanted[Field.TRACKING_NO] for k in keys):
            continue
        columns: dict[Field, tuple[int, str]] = {}
        for f, names in wanted.items():
            # The mapping's order decides: 计费重量 before 重量 when both are there.
            for candidate in names:
                if candidate in keys:
                    index = keys.index(candidate)
                    columns[f] = (index, str(cells.iloc[index]).strip())
                    break
        missing = [f for f in Field if f not in columns]
        if missing:
            said = "、".join(f"{_FIELD_NAMES[f]}（{'/'.join(mapping.headers[f])}）" for f in missing)
            raise SpreadsheetError(f"{name}：第{int(row_number)}行的表头缺少列：{said}；列名不同时请用 --mapping 指定")
        return int(row_number), columns
    looked_for = "/".join(mapping.headers[Field.TRACKING_NO])
    raise SpreadsheetError(
        f"{name}：前{HEADER_SEARCH_ROWS}行里找不到单号列（{looked_for}）；列名不同时请用 --mapping 指定"
    )


def _check_row(
    name: str,
    row: int,
    values: dict[Field, str],
    columns: dict[Field, tuple[int, str]],
    mapping: ColumnMapping,
    issues: list[RowIssue],
) -> CarrierRow | None:
    def issue(f: Field, reason: str) -> None:
        index, header = columns[f]
        issues.append(RowIssue(name, row, column_label(index, header), reason))

    before = len(issues)
    number = re.sub(r"[\s-]", "", values[Field.TRACKING_NO]).upper()
    if not _TRACKING_SHAPE.match(number):
        issue(
            Field.TRACKING_NO,
            f"单号“{values[Field.TRACKING_NO]}”不对（应为8–40位字母或数字）" if number else "缺少单号",
        )
    shipped_on = parse_day(values[Field.SHIPPED_ON])
    if shipped_on is None:
        issue(Field.SHIPPED_ON, f"无法识别的日期“{values[Field.SHIPPED_ON]}”（应填如 2019-09-01）")
    weight = _amount(values[Field.WEIGHT])
    if weight is None:
        issue(Field.WEIGHT, f"重量“{values[Field.WEIGHT]}”不是数字")
    fee = _amount(values[Field.FEE])
    if fee is None or fee != fee.quantize(Decimal("0.01")):
        issue(Field.FEE, f"费用“{values[Field.FEE]}”不是以元为单位、最多两位小数的金额")
    if len(issues) > before or shipped_on is None or weight is None or fee is None:
        return None
    grams = weight if mapping.weight_in_grams else weight * 1000
    return CarrierRow(
        row=row,
        tracking_no=number,
        shipped_on=shipped_on,
        weight_grams=int(grams.quantize(Decimal(1), rounding=ROUND_HALF_UP)),
        fee_fen=int(fee * 100),
    )


def _amount(text: str) -> Decimal | None:
    cleaned = text.replace(",", "").replace("元", "").replace("kg", "").replace("KG", "").strip()
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value > Decimal(1_000_000):
        return None
    return value
