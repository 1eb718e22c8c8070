"""Purchase records as rows of 附件2/附件3, and their totals by product or buyer.

Every reader of purchase records starts from `counted_sales()`: records of orders and of sales told in
chat always count, rows of a township's 附件2 file only while that file's version is current.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from fupin.models import ReportVersion, SaleRecord, Township, Village
from fupin.periods import Period
from fupin.reporting.attachment2 import household_cell, yuan_cell
from fupin.values import Quantity


@dataclass(frozen=True)
class ReportRow:
    """One purchase record as a row of 附件2/附件3."""

    record_id: int
    township: str
    buyer: str
    sold_on: date
    region: str
    household: str
    product: str
    quantity: Quantity
    amount_fen: int
    remarks: str
    source: str

    def cells(self, number: int) -> list[object]:
        """The row's cells in the forms' column order (date and 元 amount typed; quantity with its unit)."""
        return [
            number,
            self.buyer,
            self.sold_on,
            self.region,
            self.household,
            self.product,
            str(self.quantity),
            yuan_cell(self.amount_fen),
            self.remarks,
        ]


def is_counted() -> ColumnElement[bool]:
    """True for a purchase record that counts: not a file's row, or a row of a current version."""
    current = select(ReportVersion.id).where(ReportVersion.superseded_by_id.is_(None))
    return or_(SaleRecord.report_version_id.is_(None), SaleRecord.report_version_id.in_(current))


def in_period(period: Period) -> ColumnElement[bool]:
    """True for a purchase record sold within the period."""
    return (SaleRecord.sold_on >= period.start) & (SaleRecord.sold_on < period.end)


def counted_sales(*columns: Any, period: Period | None = None) -> Select:
    """SELECT the columns (the records themselves without any) over the counted purchase records.

    Join other tables onto the result (it selects from sale_records); `period` limits it to one period.
    """
    query = select(*(columns or (SaleRecord,))).select_from(SaleRecord).where(is_counted())
    return query.where(in_period(period)) if period is not None else query


def report_rows(session: Session, period: Period, *conditions: ColumnElement[bool]) -> list[ReportRow]:
    """The counted purchase records of the period that meet the conditions, by date, township code and id."""
    query = (
        counted_sales(SaleRecord, Township.name, Village.short_name, period=period)
        .join(Township, SaleRecord.township_id == Township.id)
        .outerjoin(Village, SaleRecord.village_id == Village.id)
        .where(*conditions)
        .order_by(SaleRecord.sold_on, Township.code, SaleRecord.id)
    )
    return [
        ReportRow(
            record_id=record.id,
            township=township,
            buyer=record.buyer_name,
            sold_on=record.sold_on,
            region="云阳县" + township + (village or ""),
            household=household_cell(record.household_name, record.poor_households),
            product=record.product_name,
            quantity=Quantity(record.quantity, record.unit),
            amount_fen=record.amount_fen,
            remarks=record.remarks,
            source=record.source,
        )
        for record, township, village in session.execute(query)
    ]


@dataclass(frozen=True)
class GroupTotal:
    """Rows of one product (or one buyer): how many, how much of each unit, and the amount."""

    name: str
    rows: int
    quantities: dict[str, Decimal]
    amount_fen: int

    @property
    def quantity_text(self) -> str:
        """The quantities with their units (60斤, or 60斤+5箱 when units differ)."""
        return "+".join(str(Quantity(value, unit)) for unit, value in self.quantities.items())


def group_totals(rows: Iterable[ReportRow], key: str) -> list[GroupTotal]:
    """Totals of the rows by one of their fields ("product", "buyer"), largest amount first."""
    counts: dict[str, int] = defaultdict(int)
    quantities: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    amounts: dict[str, int] = defaultdict(int)
    for row in rows:
        name = getattr(row, key)
        counts[name] += 1
        quantities[name][row.quantity.unit] += row.quantity.value
        amounts[name] += row.amount_fen
    return [
        GroupTotal(name, counts[name], dict(quantities[name]), amounts[name])
        for name in sorted(amounts, key=lambda n: (-amounts[n], n))
    ]
