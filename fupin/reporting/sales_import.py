"""Importing a township's filled 附件2: the quarter's reported sales replaced by the file, orders never counted twice.

How purchase records from orders and a township's 附件2 file are reconciled:

- A delivered order writes its purchase record itself (source "order"). Those records are facts the
  bot saw happen; a township's file never deletes or changes them.
- Everything else a township reports — sales its contacts told the bot in chat and the rows of its
  附件2 file — has source "report". The township's file is its statement of the whole quarter, so
  importing it replaces all of that township's "report" records of the quarter (re-sending a corrected
  file replaces the previous one; a sale reported in chat and listed again in the file counts once).
- A file row that repeats an order's record (same buyer, product, quantity and amount within the
  quarter; the dates may differ, as townships write the order's date and the record has the delivery
  date) is not recorded again. Each order's record absorbs at most one file row, so two genuine
  identical sales still count twice when the file lists both.

So a township may take the 附件2 the bot wrote for it, add what the bot did not see, fix what is wrong
and send it back: the quarter's figures are then exactly the file plus nothing twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fupin.models import ORDER_SOURCE, REPORT_SOURCE, Product, ProductAlias, SaleRecord, Township
from fupin.orders.buyers import find_buyer, find_or_register_buyer, purchase_remark
from fupin.periods import Period
from fupin.places import Gazetteer
from fupin.reporting.attachment2 import ATTACHMENT2, SalesRowReader, is_template_example
from fupin.reporting.formatting import require_quarter, yuan
from fupin.reporting.kinds import ReportKind, SubmissionSource
from fupin.reporting.submissions import submit_report
from fupin.spreadsheets.forms import locate_form
from fupin.spreadsheets.grid import RowIssue, SpreadsheetError
from fupin.values import BuyerCategory

logger = logging.getLogger(__name__)


@dataclass
class ImportResult:
    """What importing a township's 附件2 did: rows read, records added, replaced and matched, or why not."""

    file: str
    period: Period
    township: str
    rows: int = 0
    amount_fen: int = 0
    added: int = 0
    matched_orders: int = 0
    replaced: int = 0
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
        details = [f"新增{self.added}条"]
        if self.matched_orders:
            details.append(f"{self.matched_orders}条与订单送达时已登记的记录相同，未重复登记")
        if self.replaced:
            details.append(f"替换本季度此前报送的{self.replaced}条")
        lines.append("  " + "；".join(details) + "。")
        return lines


def import_sales_report(
    session_factory: sessionmaker[Session], path: Path, period: Period, township_id: int, user_id: int | None
) -> ImportResult:
    """Import a township's filled 附件2 for a quarter in one transaction, and record its submission."""
    # A file with any bad row imports nothing, unlike 附件1: it replaces the quarter's figures and stops
    # the reminders, so keeping part of it would understate the quarter without anyone noticing.
    require_quarter(period)
    with session_factory() as session, session.begin():
        result = _import_sales(session, path, period, township_id, user_id)
        if not result.applied:
            session.rollback()
    logger.info(
        "imported 附件2 %s for township %s %s: rows=%d added=%d matched=%d replaced=%d issues=%d error=%s",
        path.name, township_id, period.code, result.rows, result.added, result.matched_orders,
        result.replaced, len(result.issues), result.error,
    )  # fmt: skip
    return result


def _match_key(buyer_id: int | None, product: str, quantity: Decimal, unit: str, amount_fen: int) -> tuple[Any, ...]:
    return (buyer_id, product, Decimal(quantity), unit, amount_fen)


def _import_sales(session: Session, path: Path, period: Period, township_id: int, user_id: int | None) -> ImportResult:
    # Lock the township's row: two imports of its file at once must not both replace and add (PostgreSQL).
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
    aliases = dict(session.execute(select(ProductAlias.alias, Product.name).join(Product)).all())
    reader = SalesRowReader(table, gazetteer, gazetteer.township_by_id[township.id], period, aliases)
    sales = []
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

    existing = session.scalars(
        select(SaleRecord).where(
            SaleRecord.township_id == township.id, SaleRecord.sold_on >= period.start, SaleRecord.sold_on < period.end
        )
    ).all()
    from_orders = Counter(
        _match_key(r.buyer_id, r.product_name, r.quantity, r.unit, r.amount_fen)
        for r in existing
        if r.source == ORDER_SOURCE
    )
    for stale in (r for r in existing if r.source == REPORT_SOURCE):
        session.delete(stale)
        result.replaced += 1
    session.flush()
    for sale in sales:
        buyer = find_buyer(session, sale.buyer)
        key = _match_key(
            buyer.id if buyer else None, sale.product, sale.quantity.value, sale.quantity.unit, sale.amount_fen
        )
        if buyer is not None and from_orders[key] > 0:
            from_orders[key] -= 1
            result.matched_orders += 1
            continue
        if buyer is None:
            buyer, _created = find_or_register_buyer(session, sale.buyer)
        session.add(
            SaleRecord(
                township_id=township.id,
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
        )
        result.added += 1
    result.rows = len(sales)
    result.amount_fen = sum(sale.amount_fen for sale in sales)
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
