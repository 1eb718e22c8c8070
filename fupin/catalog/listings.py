"""The supply catalogue: products and aliases, listings, and writing validated catalogue rows."""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, case, func, insert, select, update
from sqlalchemy.orm import Session

from fupin.catalog import ledger
from fupin.models import (
    Household,
    Listing,
    MoveKind,
    Order,
    Product,
    ProductAlias,
    SupplyContact,
    Township,
    utcnow,
)
from fupin.parsing import normalize_text
from fupin.places import DATA_DIR, Place
from fupin.values import OfferKind, Price, Quantity, SupplyMethod, format_decimal

logger = logging.getLogger(__name__)

ALIASES_CSV = DATA_DIR / "product_aliases.csv"


def canonical_product_name(session: Session, written: str) -> str | None:
    """The catalogue's name for a written product name or alias (洋芋 → 土豆), or None if unknown."""
    name = normalize_text(written)
    product = session.scalar(select(Product.name).where(Product.name == name))
    if product is not None:
        return product
    return session.scalar(select(Product.name).join(ProductAlias).where(ProductAlias.alias == name))


# Names shorter than this are not looked for inside a written name: 茶 in 茶油 or 苕 in 苕粉 is another product.
MIN_CONTAINED_NAME = 2


@dataclass(frozen=True)
class ProductNames:
    """Every product name and alias with the product it means, for reading what townships write."""

    canonical: dict[str, str]

    @classmethod
    def load(cls, session: Session) -> ProductNames:
        """Read every product name and alias from the database."""
        names = {name: name for name in session.scalars(select(Product.name))}
        names.update(
            (alias, name) for alias, name in session.execute(select(ProductAlias.alias, Product.name).join(Product))
        )
        return cls(names)

    def is_known(self, written: str) -> bool:
        """True when a name is a product's own name or one of its aliases."""
        return written in self.canonical

    def resolve(self, written: str, variety: str = "") -> tuple[str, str]:
        """A written product as (product, variety): 红心猕猴桃 → (猕猴桃, 红心), 洋芋 → (土豆, "").

        A known name or alias is that product; otherwise the longest known name it contains is the
        product and the rest its variety. An explicit `variety` (parenthesised or its own column) wins.
        """
        name = normalize_text(written).replace(" ", "")
        if name in self.canonical:
            return self.canonical[name], variety
        contained = [n for n in self.canonical if len(n) >= MIN_CONTAINED_NAME and n in name]
        if not contained:
            return name, variety
        # Longest first, then the earliest position, so that the choice never depends on dict order.
        found = min(contained, key=lambda n: (-len(n), name.index(n), n))
        rest = name.replace(found, "", 1).strip("-_/·、")
        return self.canonical[found], variety or rest


def add_alias(session: Session, product_name: str, alias: str) -> bool:
    """Record another name of a product (creating the product when new); False if already known."""
    product_name, alias = normalize_text(product_name), normalize_text(alias)
    if alias == product_name or canonical_product_name(session, alias) is not None:
        return False
    product = session.scalar(select(Product).where(Product.name == product_name))
    if product is None:
        product = Product(name=product_name)
        session.add(product)
    product.aliases.append(ProductAlias(alias=alias))
    session.flush()
    return True


def load_default_aliases(session: Session) -> int:
    """Load the shipped alias list (土豆 = 洋芋 = 马铃薯 …); returns how many aliases were added."""
    added = 0
    with ALIASES_CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            added += add_alias(session, row["product"], row["alias"])
    return added


@dataclass(frozen=True)
class HouseholdRef:
    """Who sells: a poor household, or a cooperative with the number of poor households involved."""

    name: str
    is_cooperative: bool = False
    poor_households: int | None = None


@dataclass(frozen=True)
class ListingDraft:
    """A validated catalogue row, ready to be written."""

    place: Place
    product_name: str
    variety: str
    quantity: Quantity
    price: Price
    supply_methods: SupplyMethod
    contact_name: str
    contact_phone: str
    household: HouseholdRef | None = None
    shop_url: str = ""
    remarks: str = ""
    remaining: Quantity | None = None
    # 备注's 预售/认养 marker (fupin.offers.terms); None: not stated, a listing keeps what it offers.
    offer: OfferKind | None = None
    expected_month: date | None = None
    terms: str = ""


@dataclass
class WriteResult:
    """Counts of what a batch of drafts did to the catalogue."""

    created: int = 0
    updated: int = 0


class CatalogWriter:
    """Writes listing drafts in the caller's transaction, creating products, households and contacts.

    Works in batches with bulk statements, so a 10,000-row file costs a few dozen round trips
    rather than tens of thousands. Every change of a plan or of available stock is a PLAN move of the
    stock ledger (fupin.catalog.ledger) belonging to `import_id`.
    """

    def __init__(self, session: Session, import_id: int | None = None, user_id: int | None = None) -> None:
        self.session = session
        self.import_id = import_id
        self.user_id = user_id

    def write_all(self, drafts: list[ListingDraft]) -> WriteResult:
        """Insert or update the listing each draft describes (drafts must have distinct keys)."""
        result = WriteResult()
        if not drafts:
            return result
        products = self._products({d.product_name for d in drafts})
        keys = [self._key(d, products[d.product_name][0]) for d in drafts]
        if len(set(keys)) != len(keys):
            raise ValueError("drafts with the same listing key")
        township_ids = sorted({d.place.township.id for d in drafts})
        households = self._households(drafts, township_ids)
        contacts = self._contacts(drafts, township_ids)
        existing: dict[str, int] = dict(
            self.session.execute(
                select(Listing.listing_key, Listing.id).where(Listing.township_id.in_(township_ids))
            ).all()
        )
        offers = {
            key: (offer, month, terms)
            for key, offer, month, terms in self.session.execute(
                select(Listing.listing_key, Listing.offer, Listing.expected_month, Listing.terms).where(
                    Listing.township_id.in_(township_ids)
                )
            )
        }
        now = utcnow()
        # Take the listings this file re-plans before reading their figures, so no order or stock update
        # of theirs falls between the read and the write.
        current = self._lock([existing[k] for k in keys if k in existing], township_ids, now)
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        moves: list[ledger.Move] = []
        for draft, key in zip(drafts, keys, strict=True):
            product_id = products[draft.product_name][1]
            household_name = draft.household.name if draft.household else ""
            planned = draft.quantity.value
            values: dict[str, Any] = {
                "township_id": draft.place.township.id,
                "village_id": draft.place.village.id if draft.place.village else None,
                "household_id": households[(_place_key(draft.place), household_name)] if draft.household else None,
                "product_id": product_id,
                "variety": draft.variety,
                "unit": draft.quantity.unit,
                "price_fen": draft.price.fen,
                "supply_methods": int(draft.supply_methods),
                "shop_url": draft.shop_url,
                "contact_id": contacts[(draft.place.township.id, draft.contact_name, draft.contact_phone)],
                "remarks": draft.remarks,
                "active": True,
                "updated_at": now,
                **_offer_values(draft, offers.get(key)),
            }
            listing_id = existing.get(key)
            if listing_id is None:
                available = planned if draft.remaining is None else min(draft.remaining.value, planned)
                inserts.append(
                    {
                        **values,
                        "planned_quantity": planned,
                        "remaining_quantity": available,
                        "listing_key": key,
                        "created_at": now,
                    }
                )
                result.created += 1
                continue
            figures = current[listing_id]
            # The township's new plan moves available by the difference: what is sold or promised stays so.
            available = max(figures.available + planned - figures.planned, Decimal(0))
            if draft.remaining is not None:
                available = max(min(available, draft.remaining.value), Decimal(0))
            new_plan = max(planned, figures.plan_floor(available))
            if new_plan != planned:
                logger.warning(
                    "listing %s: plan %s raised to %s to cover delivered and open orders", listing_id, planned, new_plan
                )
            updates.append({**values, "planned_quantity": new_plan, "remaining_quantity": available, "id": listing_id})
            if (available, new_plan) != (figures.available, figures.planned):
                reason = f"附件1计划销量{_fmt(figures.planned)}→{_fmt(new_plan)}{draft.quantity.unit}"
                moves.append(self._move(listing_id, available - figures.available, new_plan - figures.planned, reason))
            result.updated += 1
        if inserts:
            self.session.execute(insert(Listing), inserts)
            ids: dict[str, int] = dict(
                self.session.execute(
                    select(Listing.listing_key, Listing.id).where(Listing.township_id.in_(township_ids))
                ).all()
            )
            for row in inserts:
                reason = f"附件1计划销量{_fmt(row['planned_quantity'])}{row['unit']}"
                moves.append(
                    self._move(ids[row["listing_key"]], row["remaining_quantity"], row["planned_quantity"], reason)
                )
        if updates:
            _bulk_update(self.session, Listing, updates)
        ledger.record(self.session, moves)
        return result

    def _move(self, listing_id: int, available: Decimal, planned: Decimal, reason: str) -> ledger.Move:
        return ledger.Move(
            listing_id,
            MoveKind.PLAN,
            quantity=available,
            planned_change=planned,
            user_id=self.user_id,
            import_id=self.import_id,
            reason=reason,
        )

    def _lock(self, listing_ids: list[int], township_ids: list[int], now: datetime) -> dict[int, ledger.Figures]:
        # The listings' rows (in chunks under SQLite's variable limit), then their figures read under the lock.
        if not listing_ids:
            return {}
        for start in range(0, len(listing_ids), 500):
            self.session.execute(
                update(Listing)
                .where(Listing.id.in_(listing_ids[start : start + 500]))
                .values(updated_at=now)
                .execution_options(synchronize_session=False)
            )
        stock = {
            lid: (available, planned)
            for lid, available, planned in self.session.execute(
                select(Listing.id, Listing.remaining_quantity, Listing.planned_quantity).where(
                    Listing.township_id.in_(township_ids)
                )
            )
        }
        open_orders = self._order_totals(township_ids, ledger.OPEN_STATUSES)
        delivered = self._order_totals(township_ids, ledger.DELIVERED_STATUSES)
        zero = Decimal(0)
        return {
            lid: ledger.Figures(
                available=stock[lid][0],
                planned=stock[lid][1],
                open_quantity=open_orders.get(lid, zero),
                held=zero,  # not read: an import never changes what orders hold
                delivered=delivered.get(lid, zero),
            )
            for lid in listing_ids
        }

    @staticmethod
    def _key(draft: ListingDraft, product: str) -> str:
        return listing_key(draft.place, draft.household.name if draft.household else "", product, draft.variety)

    def _products(self, written: set[str]) -> dict[str, tuple[str, int]]:
        # Written name → (canonical product name, id), creating products never seen before.
        session = self.session
        aliases = dict(
            session.execute(
                select(ProductAlias.alias, Product.name).join(Product).where(ProductAlias.alias.in_(written))
            ).all()
        )
        names = {w: aliases.get(w, w) for w in written}
        query = select(Product.name, Product.id).where(Product.name.in_(set(names.values())))
        ids = dict(session.execute(query).all())
        missing = sorted(set(names.values()) - set(ids))
        if missing:
            now = utcnow()
            session.execute(insert(Product), [{"name": n, "created_at": now} for n in missing])
            ids = dict(session.execute(query).all())
        return {w: (name, ids[name]) for w, name in names.items()}

    def _households(self, drafts: list[ListingDraft], township_ids: list[int]) -> dict[tuple[str, str], int]:
        wanted: dict[tuple[str, str], tuple[ListingDraft, HouseholdRef]] = {}
        for draft in drafts:
            if draft.household:
                wanted[(_place_key(draft.place), draft.household.name)] = (draft, draft.household)
        query = select(Household.place_key, Household.name, Household.id, Household.is_cooperative,
                       Household.poor_households).where(Household.township_id.in_(township_ids))  # fmt: skip
        known = {(pk, name): (hid, coop, poor) for pk, name, hid, coop, poor in self.session.execute(query)}
        new_rows, changed = [], []
        for key, (draft, ref) in wanted.items():
            if key not in known:
                new_rows.append(
                    {
                        "place_key": key[0],
                        "name": ref.name,
                        "township_id": draft.place.township.id,
                        "village_id": draft.place.village.id if draft.place.village else None,
                        "is_cooperative": ref.is_cooperative,
                        "poor_households": ref.poor_households,
                    }
                )
            elif known[key][1:] != (ref.is_cooperative, ref.poor_households):
                changed.append(
                    {"id": known[key][0], "is_cooperative": ref.is_cooperative, "poor_households": ref.poor_households}
                )
        if new_rows:
            self.session.execute(insert(Household), new_rows)
        if changed:
            _bulk_update(self.session, Household, changed)
        return {(pk, name): hid for pk, name, hid, *_ in self.session.execute(query)}

    def _contacts(self, drafts: list[ListingDraft], township_ids: list[int]) -> dict[tuple[int, str, str], int]:
        query = select(SupplyContact.township_id, SupplyContact.name, SupplyContact.phone, SupplyContact.id).where(
            SupplyContact.township_id.in_(township_ids)
        )
        known = {(t, n, p): cid for t, n, p, cid in self.session.execute(query)}
        new_rows: dict[tuple[int, str, str], dict[str, Any]] = {}
        for draft in drafts:
            key = (draft.place.township.id, draft.contact_name, draft.contact_phone)
            if key not in known and key not in new_rows:
                new_rows[key] = {
                    "township_id": key[0],
                    "name": key[1],
                    "phone": key[2],
                    "village_id": draft.place.village.id if draft.place.village else None,
                }
        if new_rows:
            self.session.execute(insert(SupplyContact), list(new_rows.values()))
            known = {(t, n, p): cid for t, n, p, cid in self.session.execute(query)}
        return known

    def _order_totals(self, township_ids: list[int], statuses: tuple[str, ...]) -> dict[int, Decimal]:
        # What orders in these statuses ordered, by listing of these townships.
        rows = self.session.execute(
            select(Order.listing_id, func.sum(Order.quantity))
            .join(Listing, Order.listing_id == Listing.id)
            .where(Order.status.in_(statuses), Listing.township_id.in_(township_ids))
            .group_by(Order.listing_id)
        ).all()
        return {lid: Decimal(total) for lid, total in rows}


def _bulk_update(session: Session, model: type, rows: list[dict[str, Any]]) -> None:
    # One executemany UPDATE … WHERE id = ?; bind names are prefixed because SQLAlchemy reserves
    # the column names for the SET clause.
    table = model.__table__  # type: ignore[attr-defined]
    columns = [c for c in rows[0] if c != "id"]
    statement = (
        table.update()
        .where(table.c.id == bindparam("p_id"))
        .values({c: bindparam(f"p_{c}", type_=table.c[c].type) for c in columns})
    )
    session.execute(statement, [{f"p_{k}": v for k, v in row.items()} for row in rows])


def _offer_values(draft: ListingDraft, current: tuple[str, date | None, str] | None) -> dict[str, Any]:
    # An unmarked row keeps what the listing offers (a 预售 opened by chat); a harvest already confirmed for
    # the same month (the listing is 现货 again) is not reopened by the same file sent again.
    if draft.offer is None:
        offer, month, terms = current or (OfferKind.IN_HAND.value, None, "")
        return {"offer": offer, "expected_month": month, "terms": terms}
    harvested = current is not None and current[0] == OfferKind.IN_HAND.value and current[1] == draft.expected_month
    if draft.offer is OfferKind.PRE_ORDER and current is not None and harvested:
        return {"offer": current[0], "expected_month": current[1], "terms": current[2]}
    return {"offer": draft.offer.value, "expected_month": draft.expected_month, "terms": draft.terms}


def _fmt(value: Decimal) -> str:
    return format_decimal(value)


def _place_key(place: Place) -> str:
    return f"{place.township.code}/{place.village.code if place.village else '-'}"


def listing_key(place: Place, household: str, product: str, variety: str) -> str:
    """The natural key that makes a re-imported row update its listing instead of duplicating it."""
    return f"{_place_key(place)}/{household or '-'}/{product}/{variety or '-'}"


@dataclass(frozen=True)
class TownshipSummary:
    """Catalogue figures of one township."""

    township: str
    listings: int
    in_stock: int


@dataclass(frozen=True)
class CatalogSummary:
    """Catalogue figures for the county: listings, stock, products, townships covered."""

    listings: int
    in_stock: int
    products: int
    townships: list[TownshipSummary]


def catalog_summary(session: Session) -> CatalogSummary:
    """Count active listings in total and by township."""
    in_stock = func.sum(case((Listing.remaining_quantity > 0, 1), else_=0))
    rows = session.execute(
        select(Township.name, func.count(Listing.id), in_stock)
        .join(Listing, Listing.township_id == Township.id)
        .where(Listing.active.is_(True))
        .group_by(Township.name, Township.code)
        .order_by(Township.code)
    ).all()
    products = session.scalar(select(func.count(func.distinct(Listing.product_id))).where(Listing.active.is_(True)))
    by_township = [TownshipSummary(name, count, int(stocked or 0)) for name, count, stocked in rows]
    return CatalogSummary(
        listings=sum(t.listings for t in by_township),
        in_stock=sum(t.in_stock for t in by_township),
        products=int(products or 0),
        townships=by_township,
    )


def products_named(session: Session) -> list[str]:
    """Every product name, alphabetically (for hints when a product is unknown)."""
    return list(session.scalars(select(Product.name).order_by(Product.name)))
