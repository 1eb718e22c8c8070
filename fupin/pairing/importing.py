"""`python -m bot pairing import FILE`: a register of pairings (企业名称, 乡镇, 村, 结对时间) from a spreadsheet.

As with 附件1, good rows are written and bad rows are reported by row and column (with `strict`, a file with
any bad row writes nothing). Villages are resolved through the gazetteer, never invented; a firm not yet
registered as a buyer is registered as an 爱心企业 (a name with 工会 as 家庭/工会).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from fupin.pairing.register import PairingError, firm_problem, pair, pairable_buyer, resolve_village
from fupin.parsing import normalize_text, parse_day, parse_phone
from fupin.places import Gazetteer, Place
from fupin.spreadsheets.forms import FormColumn, FormSpec, FormTable, locate_form
from fupin.spreadsheets.grid import RowIssue
from fupin.values import PairingSource

logger = logging.getLogger(__name__)

# Records a bad cell: (row, column key, Chinese reason).
Issue = Callable[[int, str, str], None]

PAIRING_FORM = FormSpec(
    title="百企帮百村结对名单",
    meta_labels=("填写单位", "填写人", "联系电话", "填写日期"),
    columns=(
        FormColumn("seq", "序号"),
        FormColumn(
            "firm", "企业名称", ("企业", "爱心企业", "单位名称", "工会名称", "结对单位", "采购单位"), required=True
        ),
        FormColumn("township", "乡镇（街道）", ("乡镇", "乡镇街道", "所属乡镇", "结对乡镇")),
        FormColumn("village", "村（社区）", ("村", "村社区", "结对村", "帮扶村", "结对村（社区）"), required=True),
        FormColumn("started", "结对时间", ("结对日期", "开始时间", "结对开始时间")),
        FormColumn("phone", "联系电话", ("电话", "企业联系电话")),
        FormColumn("remarks", "备注"),
    ),
    notes="备注：村（社区）按云阳县的行政村名称填写，同名村请写明乡镇；结对时间不填的按导入当天计。",
)


@dataclass(frozen=True)
class PairingRow:
    """One checked row of the register."""

    row: int
    firm: str
    place: Place
    started_on: date
    phone: str


@dataclass
class PairingImport:
    """What importing a register did: pairings opened, rows already in force, firms registered, bad rows."""

    file: str
    opened: int = 0
    unchanged: int = 0
    buyers_created: list[str] = field(default_factory=list)  # 名称（类别）
    issues: list[RowIssue] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        """True when every row was kept."""
        return not self.issues

    def lines(self) -> list[str]:
        """The result as Chinese lines for a person."""
        kept = "已导入" if self.applied else "未导入（严格模式下整份文件不导入）"
        out = [
            f"{'✓' if self.ok else '!'} {self.file}：{kept}，新结对{self.opened}对，"
            f"已在册{self.unchanged}对，拒绝{len(self.issues)}行"
        ]
        if self.applied and self.buyers_created:
            out.append(f"  新登记采购单位：{'、'.join(self.buyers_created)}")
        return out + [f"  - {issue}" for issue in self.issues]


def import_pairing_file(session: Session, path: Path, today: date, strict: bool = False) -> PairingImport:
    """Import a pairing register inside the caller's transaction; raises SpreadsheetError for an unreadable file.

    Every row is checked (firm included) before any is written, so a strict import that fails writes nothing.
    """
    report = PairingImport(file=path.name)
    table = locate_form(path, PAIRING_FORM)
    rows = []
    for row in _checked_rows(table, Gazetteer.load(session), today, report.issues):
        problem = firm_problem(session, row.firm)
        if problem:
            report.issues.append(RowIssue(path.name, row.row, table.column_label("firm"), problem))
        else:
            rows.append(row)
    if strict and report.issues:
        return report
    for row in rows:
        buyer, created = pairable_buyer(session, row.firm, phone=row.phone)
        assert row.place.village is not None
        _pairing, opened = pair(
            session, buyer, row.place.village.id, row.started_on, PairingSource.IMPORT, file_name=path.name
        )
        if created:
            report.buyers_created.append(f"{buyer.name}（{buyer.category}）")
        report.opened += opened
        report.unchanged += not opened
    report.applied = True
    logger.info("pairing import %s: %d opened, %d rejected", path.name, report.opened, len(report.issues))
    return report


def _checked_rows(table: FormTable, gazetteer: Gazetteer, today: date, issues: list[RowIssue]) -> list[PairingRow]:
    def issue(row: int, key: str, reason: str) -> None:
        issues.append(RowIssue(table.file_name, row, table.column_label(key) if key in table.columns else "", reason))

    rows: list[PairingRow] = []
    seen: dict[tuple[str, int], int] = {}
    for row, record in table.rows:
        before = len(issues)
        firm = normalize_text(record.get("firm", "")).replace(" ", "")
        if not firm:
            issue(row, "firm", "缺少企业名称")
        place = _place(gazetteer, record, row, issue)
        started = today
        if cell := record.get("started", ""):
            parsed = parse_day(cell)
            if parsed is None:
                issue(row, "started", f"无法识别的结对时间“{cell}”（应填如 2019-09-01）")
            elif parsed > today:
                issue(row, "started", f"结对时间{parsed:%Y-%m-%d}还没到")
            else:
                started = parsed
        phone = ""
        if cell := record.get("phone", ""):
            phone = parse_phone(cell) or ""
            if not phone:
                issue(row, "phone", f"联系电话“{cell}”不是有效的手机或座机号码")
        if len(issues) > before or place is None or place.village is None:
            continue
        key = (firm, place.village.id)
        if key in seen:
            issue(row, "village", f"{firm}与{place.label}的结对与第{seen[key]}行重复")
            continue
        seen[key] = row
        rows.append(PairingRow(row, firm, place, started, phone))
    return rows


def _place(gazetteer: Gazetteer, record: dict[str, str], row: int, report: Issue) -> Place | None:
    township = normalize_text(record.get("township", "")).replace(" ", "")
    village = normalize_text(record.get("village", "")).replace(" ", "")
    if not village:
        report(row, "village", "缺少结对的村（社区）")
        return None
    if township and gazetteer.township_named(township) is None:
        report(row, "township", f"未知的乡镇（街道）：{township}")
        return None
    hint = gazetteer.township_named(township) if township else None
    written = village if hint is None or village.startswith(hint.name) else hint.name + village
    try:
        return resolve_village(gazetteer, written)
    except PairingError as exc:
        report(row, "village", str(exc))
        return None
