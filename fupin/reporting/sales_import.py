"""Importing a township's filled 附件2: a new version of the quarter's report; nothing is deleted, nothing counted twice.

How purchase records from orders, chat and a township's 附件2 files are reconciled:

- A delivered order writes its purchase record itself (source "order"). Those records are facts the
  bot saw happen; no file deletes, changes or supersedes them.
- A sale a contact told the bot in chat (source "report", no version) is never deleted or superseded by a
  file either: it keeps counting.
- A township's file is its statement of the quarter and becomes a new version of its report
  (fupin.reporting.versions): its rows replace the previous file version's rows, which are kept for the
  history (and a restore) but no longer counted. A village contact's file is a version of that village's
  rows only and replaces only that village's previous version.
- A file row that repeats a record still counted (same buyer, product, quantity and amount within the
  quarter; the dates may differ, as townships write the order's date and the record has the delivery
  date) is not recorded again: an order's record, a sale told in chat, or a row of another current
  version. Each such record absorbs at most one file row, so two genuine identical sales still count
  twice when the file lists both.
- Who may send it and when is checked in fupin.reporting.locks (rights, 确认报送 lock, deadline + grace).

So a township may take the 附件2 the bot wrote for it, add what the bot did not see, fix what is wrong
and send it back: the quarter's figures are then the file plus nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fupin.models import REPORT_SOURCE, Product, ProductAlias, SaleRecord, Township
from fupin.orders.buyers import find_or_register_buyer, purchase_remark
from fupin.outreach.users import Identity
from fupin.periods import Period
from fupin.places import Gazetteer
from fupin.reporting.attachment2 import ATTACHMENT2, SaleRow, SalesRowReader, is_template_example
from fupin.reporting.formatting import require_quarter, yuan
from fupin.reporting.kinds import ReportKind, SubmissionSource, VersionSource
from fupin.reporting.locks import DEFAULT_GRACE_DAYS, ReportRefused, check_open, village_scope
from fupin.reporting.submissions import submit_report
from fupin.reporting.versions import add_version
from fupin.spreadsheets.forms import locate_form
from fupin.spreadsheets.grid import RowIssue, SpreadsheetError
from fupin.values import BuyerCategory

logger = logging.getLogger(__name__)


@dataclass
class ImportResult:
    """What importing a township's 附件2 did: rows read, the version made, records added and matched, or why not."""

    file: str
    period: Period
    township: str
    rows: int = 0
    amount_fen: int = 0
    added: int = 0
    matched_orders: int = 0
    matched_reports: int = 0  # rows repeating a sale told in chat or a row of another current version
    replaced: int = 0  # rows of the superseded versions, no longer counted
    version: int | None = None
    village: str | None = None  # a village contact's version covers that village only
    superseded: list[int] = field(default_factory=list)
    issues: list[RowIssue] = field(default_factory=list)
    error: str | None = None
    applied: bool = False

    @property
    def ok(self) -> bool:
        """True when the file was read whole and imported."""
        return self.applied and self.error is None and not self.issues

    def lines(self) -> list[str]:
        """The result as Chinese lines for a person."""
        if self.error:
            return [f"✗ {self.error}（未导入任何内容）"]
        if self.issues:
            return [
                f"✗ {self.file}：有{len({i.row for i in self.issues})}行填写有误，整份文件未导入，请改正后重新发送：",
                *(f"  - {issue}" for issue in self.issues),
            ]
        lines = [
            f"✓ {self.file}：已导入{self.township}{self.period.label}贫困户产品销售情况（附件2），"
            f"共{self.rows}条，合计{yuan(self.amount_fen)}。"
        ]
        scope = f"（仅{self.village}的销售）" if self.village else ""
        details = [f"已导入第{self.version}版{scope}", f"新增{self.added}条"]
        if self.matched_orders:
            details.append(f"{self.matched_orders}条与订单送达时已登记的记录相同，未重复登记")
        if self.matched_reports:
            details.append(f"{self.matched_reports}条与已登记的销售（对话中报送或其他版本）相同，未重复登记")
        if self.superseded:
            numbers = "、".join(f"第{n}版" for n in self.superseded)
            details.append(f"{numbers}的{self.replaced}条不再计入（仍可查看历史、恢复）")
        lines.append("  " + "；".join(details) + "。")
        return lines


def import_sales_report(
    session_factory: sessionmaker[Session],
    path: Path,
    period: Period,
    township_id: int,
    sender: Identity | None,
    *,
    grace_days: int = DEFAULT_GRACE_DAYS,
) -> ImportResult:
    """Import a township's filled 附件2 for a quarter as a new version in one transaction, and record its submission.

    `sender` None is the command line, which acts for the county; a chat sender's rights and the
    quarter's locks are checked here (`grace_days`: REPORT_GRACE_DAYS).
    """
    # A file with any bad row imports nothing, unlike 附件1: it replaces the quarter's figures and stops
    # the reminders, so keeping part of it would understate the quarter without anyone noticing.
    require_quarter(period)
    with session_factory() as session, session.begin():
        result = _import_sales(session, path, period, township_id, sender, grace_days)
        if not result.applied:
            session.rollback()
    logger.info(
        "imported 附件2 %s for township %s %s: version=%s rows=%d added=%d matched=%d+%d replaced=%d issues=%d error=%s",
        path.name, township_id, period.code, result.version, result.rows, result.added, result.matched_orders,
        result.matched_reports, result.replaced, len(result.issues), result.error,
    )  # fmt: skip
    return result


def _import_sales(
    session: Session, path: Path, period: Period, township_id: int, sender: Identity | None, grace_days: int
) -> ImportResult:
    # Lock the township's row: two imports of its file at once must not both add a version (PostgreSQL).
    township = session.scalar(select(Township).where(Township.id == township_id).with_for_update())
    if township is None:
        raise ValueError(f"no township with id {township_id}")
    result = ImportResult(file=path.name, period=period, township=township.name)
    try:
        table = locate_form(path, ATTACHMENT2)
    except SpreadsheetError as exc:
        result.error = str(exc)
        return result
    gazetteer = Gazetteer.load(session)
    unit = table.meta.get("填报单位", "")
    named = gazetteer.township_named(unit) if unit else None
    if named is not None and named.id != township.id:
        result.error = f"{path.name}：填报单位是{named.name}，不是{township.name}"
        return result
    # Which report the file is for is known now; whether this sender may change it now comes before its rows.
    try:
        village_id = village_scope(sender, ReportKind.SALES, township.name, township.id)
        check_open(session, ReportKind.SALES, period, township.name, sender, grace_days=grace_days)
    except ReportRefused as exc:
        result.error = f"{path.name}：{exc}"
        return result
    village = gazetteer.village_by_id[village_id] if village_id is not None else None
    result.village = township.name + village.short_name if village else None
    aliases = dict(session.execute(select(ProductAlias.alias, Product.name).join(Product)).all())
    reader = SalesRowReader(table, gazetteer, gazetteer.township_by_id[township.id], period, aliases, village)
    sales: list[SaleRow] = []
    for row, record in table.rows:
        if is_template_example(record):
            continue
        read = reader.read(row, record)
        if isinstance(read, list):
            result.issues.extend(read)
        else:
            sales.append(read)
    if result.issues:
        return result
    if not sales:
        result.error = f"{path.name}：表中没有销售记录（本季度确实没有销售的，请在对话中报送）"
        return result
    result.rows = len(sales)
    result.amount_fen = sum(sale.amount_fen for sale in sales)
    user_id = sender.user_id if sender is not None else None
    applied = add_version(
        session,
        period=period,
        township_id=township.id,
        village_id=village_id,
        source=VersionSource.FILE,
        file_name=path.name,
        user_id=user_id,
        rows=result.rows,
        amount_fen=result.amount_fen,
        records=[_record(session, township.id, sale) for sale in sales],
    )
    result.version, result.superseded, result.replaced = applied.number, applied.superseded, applied.replaced
    result.added, result.matched_orders, result.matched_reports = (
        applied.added, applied.matched_orders, applied.matched_reports,
    )  # fmt: skip
    submit_report(
        session,
        kind=ReportKind.SALES,
        period=period,
        reporter=township.name,
        township_id=township.id,
        user_id=user_id,
        source=SubmissionSource.FILE,
        rows=result.rows,
        amount_fen=result.amount_fen,
    )
    session.flush()
    result.applied = True
    return result


def _record(session: Session, township_id: int, sale: SaleRow) -> SaleRecord:
    # Not added to the session here: the version adds the rows that no counted record repeats.
    buyer, _created = find_or_register_buyer(session, sale.buyer)
    return SaleRecord(
        township_id=township_id,
        village_id=sale.place.village.id if sale.place.village else None,
        household_name=sale.household,
        poor_households=sale.poor_households,
        buyer_id=buyer.id,
        buyer_name=buyer.name,
        product_name=sale.product,
        quantity=sale.quantity.value,
        unit=sale.quantity.unit,
        amount_fen=sale.amount_fen,
        sold_on=sale.sold_on,
        remarks=sale.remarks or purchase_remark(BuyerCategory(buyer.category)),
        source=REPORT_SOURCE,
    )
