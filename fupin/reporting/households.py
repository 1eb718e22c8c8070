"""What each poor household gained (见成效): its sales by quarter, who sold per village and township, beneficiaries.

Matching rule: a counted purchase record belongs to the catalogue household (Household) of the same township,
the same village (both without one for a township-level household) and the same name, spaces stripped. A
record whose household is not in the catalogue still counts as a beneficiary, listed as 目录外; records that
name no household at all (an order of a listing without one) are no household's and are only totalled.

Counting rule: a household counts as one poor household; a cooperative as the number of poor households it
sells for (Household.poor_households, or for a record not in the catalogue the record's; 1 when unknown).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from fupin.models import Household, SaleRecord, Township, Village
from fupin.periods import Period, quarter_of
from fupin.reporting.rows import counted_sales
from fupin.values import Quantity

logger = logging.getLogger(__name__)

COUNTING_RULE = (
    "贫困户按1户计；合作社按其带动（涉及）的贫困户数计，未登记户数的按1户计。"
    "销售记录按乡镇、村和贫困户（合作社）名称与供应目录登记的贫困户对应；目录中没有的仍计为受益贫困户，标为“目录外”。"
)


def counted_poor_households(is_cooperative: bool, poor_households: int | None) -> int:
    """How many poor households one entry counts as: a cooperative its poor_households (1 if NULL), else 1."""
    if not is_cooperative:
        return 1
    return 1 if poor_households is None else poor_households


@dataclass
class QuarterSales:
    """A household's sales in one period: quantity per unit (never added across units), amount, buyers."""

    quantities: dict[str, Decimal] = field(default_factory=dict)
    amount_fen: int = 0
    buyers: set[str] = field(default_factory=set)
    rows: int = 0

    def add(self, quantity: Quantity, amount_fen: int, buyer: str) -> None:
        """Count one purchase record."""
        self.quantities[quantity.unit] = self.quantities.get(quantity.unit, Decimal(0)) + quantity.value
        self.amount_fen += amount_fen
        self.buyers.add(buyer)
        self.rows += 1

    @property
    def quantity_text(self) -> str:
        """The quantities with their units, largest first (500斤；20只), "" without sales."""
        ordered = sorted(self.quantities.items(), key=lambda kv: (-kv[1], kv[0]))
        return "；".join(str(Quantity(value, unit)) for unit, value in ordered)


@dataclass
class HouseholdSales:
    """One household or cooperative of the scope with what it sold, by quarter and over the period."""

    township: str
    village: str  # short name, "" for a township-level household
    name: str
    is_cooperative: bool
    poor_households: int  # as counted (counted_poor_households)
    deep_poverty: bool
    in_catalogue: bool
    sort_key: tuple[str, str, str]
    quarters: dict[int, QuarterSales] = field(default_factory=dict)
    total: QuarterSales = field(default_factory=QuarterSales)

    @property
    def sold(self) -> bool:
        """True when it has at least one counted sale in the period."""
        return self.total.rows > 0

    def quarter(self, number: int) -> QuarterSales:
        """The sales of one quarter (empty when none)."""
        return self.quarters.get(number) or QuarterSales()


@dataclass
class Tally:
    """Poor households of a place: in the catalogue, those that sold, and the amount they sold."""

    catalogue: int = 0  # poor households registered in the catalogue (cooperatives by their number)
    beneficiaries: int = 0  # poor households with at least one sale, in the catalogue or not
    in_catalogue: int = 0  # the beneficiaries that are registered in the catalogue
    sellers: int = 0  # entries (households or cooperatives) with a sale
    amount_fen: int = 0

    @property
    def off_catalogue(self) -> int:
        """Beneficiaries not registered in the catalogue."""
        return self.beneficiaries - self.in_catalogue

    @property
    def share(self) -> Decimal | None:
        """Registered beneficiaries over registered poor households (None without any registered)."""
        return Decimal(self.in_catalogue) / Decimal(self.catalogue) if self.catalogue else None

    def count(self, entry: HouseholdSales) -> None:
        """Add one household or cooperative."""
        if entry.in_catalogue:
            self.catalogue += entry.poor_households
        if entry.sold:
            self.beneficiaries += entry.poor_households
            self.in_catalogue += entry.poor_households if entry.in_catalogue else 0
            self.sellers += 1
            self.amount_fen += entry.total.amount_fen


@dataclass
class PlaceTally:
    """A village's or township's row: its households that sold, against those registered."""

    township: str
    village: str  # "" on a township's row (and for township-level households on a village row)
    deep_poverty: bool
    tally: Tally = field(default_factory=Tally)


@dataclass(frozen=True)
class Beneficiaries:
    """Beneficiary poor households of a scope, and of its deep-poverty townships and villages."""

    total: Tally
    deep: Tally

    def summary_line(self, label: str = "本年累计") -> str:
        """One Chinese line: N beneficiaries of M registered (share), of which deep-poverty n of m."""
        line = f"{label}受益贫困户{_beneficiaries(self.total)}"
        # A scope without deep-poverty places (a township that is not one) has no part to speak of.
        if self.deep.catalogue or self.deep.beneficiaries:
            line += f"；其中深度贫困镇村{_beneficiaries(self.deep)}"
        return line + "（合作社按带动贫困户数计）。"


def _beneficiaries(tally: Tally) -> str:
    text = f"{tally.beneficiaries}户，占目录登记贫困户{tally.catalogue}户的{_percent(tally.share)}"
    if tally.off_catalogue:
        text += f"（目录内{tally.in_catalogue}户，目录外{tally.off_catalogue}户）"
    return text


def _percent(share: Decimal | None) -> str:
    return "-" if share is None else f"{share * 100:.1f}%"


@dataclass(frozen=True)
class HouseholdReport:
    """Households of a scope and period: each with its quarters, per village and township, and the totals."""

    period: Period
    scope: str  # 全县, 龙角镇, 龙角镇张家村
    quarters: tuple[int, ...]
    households: list[HouseholdSales]  # registered ones without sales too, in place order
    villages: list[PlaceTally]
    townships: list[PlaceTally]
    figures: Beneficiaries
    unnamed_rows: int  # counted records that name no household
    unnamed_fen: int

    @property
    def sellers(self) -> list[HouseholdSales]:
        """The households and cooperatives that sold, largest amount first."""
        sold = [h for h in self.households if h.sold]
        return sorted(sold, key=lambda h: (-h.total.amount_fen, h.sort_key))


def _key(township_id: int, village_id: int | None, name: str) -> tuple[int, int | None, str]:
    return township_id, village_id, name.strip()


def _scope_filter(
    township_column: Any, village_column: Any, township_id: int | None, village_id: int | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if township_id is not None:
        conditions.append(township_column == township_id)
    if village_id is not None:
        conditions.append(village_column == village_id)
    return conditions


# The place of a household or record: names, codes (for the order) and deep-poverty flags.
_PLACE_COLUMNS = (
    Township.name, Township.code, Township.deep_poverty, Village.short_name, Village.code, Village.deep_poverty
)  # fmt: skip
_SALE_COLUMNS = (
    SaleRecord.township_id, SaleRecord.village_id, SaleRecord.household_name, SaleRecord.poor_households,
    SaleRecord.buyer_name, SaleRecord.quantity, SaleRecord.unit, SaleRecord.amount_fen, SaleRecord.sold_on,
)  # fmt: skip
Entries = dict[tuple[int, int | None, str], HouseholdSales]


def _entry(
    name: str, cooperative: bool, poor: int | None, in_catalogue: bool, place: tuple[Any, ...]
) -> HouseholdSales:
    township, township_code, township_deep, village, village_code, village_deep = place
    return HouseholdSales(
        township=township,
        village=village or "",
        name=name,
        is_cooperative=cooperative,
        poor_households=counted_poor_households(cooperative, poor),
        deep_poverty=bool(township_deep or village_deep),
        in_catalogue=in_catalogue,
        sort_key=(township_code, village_code or "", name),
    )


def _registered(session: Session, township_id: int | None, village_id: int | None) -> Entries:
    query = (
        select(Household, *_PLACE_COLUMNS)
        .join(Township, Household.township_id == Township.id)
        .outerjoin(Village, Household.village_id == Village.id)
        .where(*_scope_filter(Household.township_id, Household.village_id, township_id, village_id))
    )
    entries: Entries = {}
    for household, *place in session.execute(query):
        key = _key(household.township_id, household.village_id, household.name)
        entries[key] = _entry(key[2], household.is_cooperative, household.poor_households, True, tuple(place))
    return entries


def _collect(
    session: Session, start: date, end: date, township_id: int | None, village_id: int | None
) -> tuple[Entries, int, int]:
    entries = _registered(session, township_id, village_id)
    sales = (
        counted_sales(*_SALE_COLUMNS, *_PLACE_COLUMNS)
        .join(Township, SaleRecord.township_id == Township.id)
        .outerjoin(Village, SaleRecord.village_id == Village.id)
        .where(SaleRecord.sold_on >= start, SaleRecord.sold_on < end)
        .where(*_scope_filter(SaleRecord.township_id, SaleRecord.village_id, township_id, village_id))
    )
    unnamed_rows = unnamed_fen = 0
    for tid, vid, name, poor, buyer, quantity, unit, amount, sold_on, *place in session.execute(sales):
        if not name.strip():
            unnamed_rows, unnamed_fen = unnamed_rows + 1, unnamed_fen + amount
            continue
        key = _key(tid, vid, name)
        entry = entries.get(key)
        if entry is None:
            cooperative = poor is not None or "合作社" in name
            entry = entries[key] = _entry(key[2], cooperative, poor, False, tuple(place))
        elif not entry.in_catalogue and poor is not None:
            # The same cooperative outside the catalogue: its largest stated number of poor households.
            entry.poor_households = max(entry.poor_households, poor)
        sale = Quantity(quantity, unit)
        entry.quarters.setdefault(quarter_of(sold_on).quarter or 0, QuarterSales()).add(sale, amount, buyer)
        entry.total.add(sale, amount, buyer)
    return entries, unnamed_rows, unnamed_fen


def _figures(entries: list[HouseholdSales]) -> Beneficiaries:
    total, deep = Tally(), Tally()
    for entry in entries:
        total.count(entry)
        if entry.deep_poverty:
            deep.count(entry)
    return Beneficiaries(total, deep)


def beneficiaries(
    session: Session, start: date, end: date, township_id: int | None = None, village_id: int | None = None
) -> Beneficiaries:
    """Beneficiary poor households (at least one counted sale in [start, end)) against the catalogue's."""
    entries, _rows, _fen = _collect(session, start, end, township_id, village_id)
    return _figures(list(entries.values()))


def household_report(
    session: Session, period: Period, township_id: int | None = None, village_id: int | None = None
) -> HouseholdReport:
    """Every household of the scope (the county, a township or a village) with its sales in the period."""
    entries, unnamed_rows, unnamed_fen = _collect(session, period.start, period.end, township_id, village_id)
    households = sorted(entries.values(), key=lambda h: h.sort_key)
    villages: dict[tuple[str, str], PlaceTally] = {}
    townships: dict[str, PlaceTally] = {}
    for entry in households:
        village = villages.setdefault(
            (entry.township, entry.village), PlaceTally(entry.township, entry.village, entry.deep_poverty)
        )
        village.tally.count(entry)
        township = townships.setdefault(entry.township, PlaceTally(entry.township, "", False))
        township.tally.count(entry)
    deep_townships = set(
        session.scalars(select(Township.name).where(Township.deep_poverty.is_(True), Township.name.in_(townships)))
    )
    for name, row in townships.items():
        row.deep_poverty = name in deep_townships
    first = 1 if period.quarter is None else period.quarter
    last = 4 if period.quarter is None else period.quarter
    return HouseholdReport(
        period=period,
        scope=_scope_label(session, township_id, village_id),
        quarters=tuple(range(first, last + 1)),
        households=households,
        villages=list(villages.values()),
        townships=list(townships.values()),
        figures=_figures(households),
        unnamed_rows=unnamed_rows,
        unnamed_fen=unnamed_fen,
    )


def _scope_label(session: Session, township_id: int | None, village_id: int | None) -> str:
    village = session.get(Village, village_id) if village_id is not None else None
    township = session.get(Township, township_id if township_id is not None else village.township_id if village else -1)
    if township is None:
        return "全县"
    return township.name + (village.short_name if village else "")
