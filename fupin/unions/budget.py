"""A union's yearly budget (members × the amount per member) and the purchases that count towards it.

A purchase counts when it comes from a village the union helps (its pairing open on the day of the purchase)
or from a deep-poverty township or village (the rule of fupin.reporting.sales.progress); the union's other
purchases of poor households' products are shown apart. Only counted purchase records are read
(fupin.reporting.rows.counted_sales: a superseded 附件2 version's rows do not count).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from fupin.models import Buyer, Pairing, SaleRecord, Township, UnionMembers, Village
from fupin.pairing.register import is_open_on
from fupin.periods import Period
from fupin.reporting.rows import counted_sales
from fupin.settings import TIMEZONE
from fupin.unions.members import is_union, latest_members, not_a_union
from fupin.values import BuyerCategory

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UnionBudget:
    """A union's year: members, budget, what counts towards it (paired and deep-poverty villages), the rest."""

    buyer_id: int
    name: str
    year: int
    members: int | None  # None: no member count registered yet
    per_member_fen: int
    paired_fen: int = 0  # from the villages it helps (an open pairing on the day of purchase)
    deep_fen: int = 0  # from deep-poverty townships and villages it is not paired with
    other_fen: int = 0  # other poor households' products: shown, not counted

    @property
    def budget_fen(self) -> int:
        """Members × the amount per member (0 without a member count)."""
        return (self.members or 0) * self.per_member_fen

    @property
    def counted_fen(self) -> int:
        """The purchases that count towards the budget."""
        return self.paired_fen + self.deep_fen

    @property
    def remaining_fen(self) -> int:
        """What is left of the budget (never below 0)."""
        return max(self.budget_fen - self.counted_fen, 0)

    @property
    def ratio(self) -> Decimal | None:
        """Counted over budget, or None without a budget."""
        return Decimal(self.counted_fen) / Decimal(self.budget_fen) if self.budget_fen else None

    @property
    def below_half(self) -> bool:
        """A budget of which less than half has been spent on what counts."""
        return self.budget_fen > 0 and 2 * self.counted_fen < self.budget_fen


def _year_end(year: int) -> datetime:
    return datetime.combine(date(year + 1, 1, 1), time.min, tzinfo=TIMEZONE)


def members_for_year(session: Session, buyer_id: int, year: int) -> int | None:
    """The count of the year: the latest recorded by its end, else the first recorded after (a late registration)."""
    row = latest_members(session, buyer_id, until=_year_end(year))
    if row is None:
        row = session.scalar(
            select(UnionMembers).where(UnionMembers.buyer_id == buyer_id).order_by(UnionMembers.id).limit(1)
        )
    return row.members if row is not None else None


def _amounts(session: Session, year: int, until: date | None, buyer_id: int | None) -> dict[int, tuple[int, int, int]]:
    # (paired, deep, other) by union, summed in Python: the EXISTS of an open pairing depends on each row's date.
    paired = exists().where(
        Pairing.buyer_id == SaleRecord.buyer_id,
        Pairing.village_id == SaleRecord.village_id,
        *is_open_on(SaleRecord.sold_on),
    )
    query = (
        counted_sales(
            SaleRecord.buyer_id, SaleRecord.amount_fen, paired.label("paired"), Township.deep_poverty,
            Village.deep_poverty, period=Period(year),
        )
        .join(Buyer, SaleRecord.buyer_id == Buyer.id)
        .join(Township, SaleRecord.township_id == Township.id)
        .outerjoin(Village, SaleRecord.village_id == Village.id)
        .where(Buyer.category == BuyerCategory.FAMILY.value)
    )  # fmt: skip
    if until is not None:
        query = query.where(SaleRecord.sold_on < until)
    if buyer_id is not None:
        query = query.where(SaleRecord.buyer_id == buyer_id)
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for buyer, amount, is_paired, township_deep, village_deep in session.execute(query):
        part = 0 if is_paired else 1 if (township_deep or village_deep) else 2
        sums[buyer][part] += int(amount)
    return {buyer: (p, d, o) for buyer, (p, d, o) in sums.items()}


def union_budget(
    session: Session, buyer_id: int, year: int, *, per_member: int, until: date | None = None
) -> UnionBudget:
    """The union's budget and purchases of the year (sold before `until`, when given); raises UnionError.

    `per_member`: the amount per member in fen (the caller's settings, UNION_BUDGET_PER_MEMBER_YUAN).
    """
    union = session.get(Buyer, buyer_id)
    if union is None:
        raise ValueError(f"no buyer {buyer_id}")
    if not is_union(union):
        raise not_a_union(union)
    paired, deep, other = _amounts(session, year, until, buyer_id).get(buyer_id, (0, 0, 0))
    members = members_for_year(session, union.id, year)
    return UnionBudget(union.id, union.name, year, members, per_member, paired, deep, other)


def union_budgets(session: Session, year: int, *, per_member: int, until: date | None = None) -> list[UnionBudget]:
    """Every union registered by the year's end or with purchases in it: the most complete first, then by name."""
    amounts = _amounts(session, year, until, None)
    registered = set(session.scalars(select(UnionMembers.buyer_id).where(UnionMembers.recorded_at < _year_end(year))))
    ids = registered | set(amounts)
    if not ids:
        return []
    unions = session.scalars(select(Buyer).where(Buyer.id.in_(ids), Buyer.category == BuyerCategory.FAMILY.value)).all()
    found = [
        UnionBudget(
            u.id, u.name, year, members_for_year(session, u.id, year), per_member, *amounts.get(u.id, (0, 0, 0))
        )
        for u in unions
    ]
    return sorted(found, key=lambda b: (b.ratio is None, -(b.ratio or 0), b.name))
