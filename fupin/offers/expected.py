"""Expected harvests (预售): a contact's "脐橙12月上市，预计5000斤，预订价3元一斤" read, and the listing made a pre-order.

A 预售 listing's available stock is its expected quantity, less what open pre-orders already hold of it;
buyers' pre-orders RESERVE against it through the ledger like any order. Announcing (or changing) the
expected harvest is an EXPECTED move of the stock ledger.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fupin.catalog import ledger
from fupin.catalog.search import ProductVocabulary
from fupin.models import Listing, MoveKind, Product, SupplyContact, Township, Village
from fupin.offers.moves import OfferError, open_pre_orders
from fupin.offers.terms import TermsError, find_month
from fupin.offers.wording import expected_done, month_label
from fupin.outreach.users import Identity
from fupin.parsing import NUMBER, NUMBER_START, UNIT, normalize_text, parse_price, parse_quantity
from fupin.periods import today
from fupin.values import MAX_PRICE_FEN, OfferKind, Price, Quantity, SupplyMethod, format_decimal, quantity_problem

logger = logging.getLogger(__name__)

_MONEY = rf"{NUMBER}(?:元|块)(?:钱)?(?:[0-9一二两三四五六七八九](?:角|毛)?)?"
# A unit price: 3元一斤, 3元/斤, 三块五一斤, 每斤3元; or a bare 3元 (in the quantity's unit).
_PRICE = re.compile(
    rf"每{UNIT}{NUMBER}(?:元|块)(?:钱)?|{NUMBER_START}{_MONEY}(?:/|每|一|1)?{UNIT}|{NUMBER_START}{_MONEY}"
)
_QUANTITY = re.compile(rf"{NUMBER_START}{NUMBER}(?:来|多|余)?{UNIT}")
# What may stand before the product's name or between it and the month: 今年的脐橙, 我们村的脐橙大概12月上市.
_LEADING = re.compile(r"^(?:我们村|我们|我家|今年|这一?季|这批)(?:的)?")
_TRAILING = re.compile(r"(?:大概|大约|预计|估计|应该|要|会|在)+$")
# Where the product's name ends: the month, or the first clause mark.
_PRODUCT_END = re.compile(r"(?:\d{4}年|明年|来年)?(?:\d{1,2}|[一二三四五六七八九十]{1,3})月|正月|冬月|腊月|[，,。;；]")
# Ordinary supply methods of a listing a contact opens by chat (the county changes them through 附件1).
NEW_LISTING_METHODS = SupplyMethod.DELIVERY | SupplyMethod.PICKUP


@dataclass(frozen=True)
class ExpectedHarvest:
    """An expected harvest as a contact wrote it: product, month, quantity, price, and what is wrong with it."""

    product: str
    month: date | None
    quantity: Quantity | None
    price: Price | None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when it can be applied (product, month and quantity, nothing wrong)."""
        return not self.problems


def parse_expected(text: str, product: str | None = None, on: date | None = None) -> ExpectedHarvest:
    """Read "脐橙12月上市，预计5000斤，预订价3元一斤"; `product` is the NLU's entity when it found one."""
    cleaned = normalize_text(text).replace(" ", "")
    on = on or today()
    problems: list[str] = []
    month = None
    mention = None
    try:
        mention = find_month(cleaned, on)
        month = mention.month if mention else None
        if mention is None:
            problems.append("请说上市月份，比如“12月上市”")
    except TermsError as exc:
        problems.append(str(exc))
    price = None
    found_price = _PRICE.search(cleaned)
    # The month's words are no quantity ("再过一个月" is not 一个).
    rest = cleaned.replace(mention.written, "，", 1) if mention else cleaned
    if found_price:
        rest = rest.replace(found_price.group(0), "，", 1)
    found_quantity = _QUANTITY.search(rest.replace("月", "，"))
    quantity = parse_quantity(found_quantity.group(0)) if found_quantity else None
    if quantity is None:
        problems.append("请说预计数量，比如“预计5000斤”")
    elif problem := quantity_problem(quantity.value):
        problems.append(f"预计数量{problem}")
        quantity = None
    if found_price:
        price = parse_price(found_price.group(0), quantity.unit if quantity else None)
        if price is None or price.fen <= 0 or price.fen > MAX_PRICE_FEN:
            problems.append(f"预订价“{found_price.group(0)}”不对，请说比如“预订价3元一斤”")
            price = None
        elif quantity is not None and price.unit != quantity.unit:
            problems.append(f"预订价按“{price.unit}”，预计数量按“{quantity.unit}”，请用同一个单位")
    name = product or _product_in(cleaned)
    if not name:
        problems.append("请说是什么产品，比如“脐橙12月上市，预计5000斤”")
    return ExpectedHarvest(name or "", month, quantity, price, tuple(problems))


def _product_in(text: str) -> str:
    end = _PRODUCT_END.search(text)
    head = text[: end.start()] if end else ""
    return _TRAILING.sub("", _LEADING.sub("", head))


@dataclass(frozen=True)
class ExpectedResult:
    """What announcing an expected harvest did: the listing, whether it is new, and the reply."""

    listing_id: int
    created: bool
    text: str


def managed_listings(
    session: Session, identity: Identity, product: str, offer: OfferKind | None = None
) -> tuple[str, list[Listing]]:
    """The product's catalogue name and the active listings of it this person manages (of one offer kind)."""
    matches = ProductVocabulary.load(session).match(product)
    name = matches[0].product if matches else normalize_text(product)
    if not matches:
        return name, []
    query = (
        select(Listing)
        .where(Listing.product_id.in_([m.product_id for m in matches]), Listing.active.is_(True))
        .order_by(Listing.id)
    )
    if offer is not None:
        query = query.where(Listing.offer == offer.value)
    return name, [li for li in session.scalars(query) if identity.may_manage(li)]


def announce_expected(
    session: Session, identity: Identity, harvest: ExpectedHarvest, listing_id: int | None = None
) -> ExpectedResult:
    """Make the contact's listing of the product a 预售 (or open one) with the expected harvest; raises OfferError.

    With several listings of the product the contact manages, `listing_id` says which one.
    """
    if not (identity.is_contact or identity.is_admin):
        raise OfferError("只有登记过的供货联系人才能登记预售。如需登记，请联系县农业农村委。")
    if not harvest.ok:
        raise OfferError("；".join(harvest.problems) + "。")
    assert harvest.month is not None and harvest.quantity is not None
    name, mine = managed_listings(session, identity, harvest.product)
    if listing_id is not None:
        mine = [li for li in mine if li.id == listing_id]
        if not mine:  # a listing chosen by its id that this person does not manage: never a new one instead
            raise OfferError("您只能登记自己负责的村（乡镇）的预售。")
    adoptions = [li for li in mine if li.offer == OfferKind.ADOPTION.value]
    mine = [li for li in mine if li.offer != OfferKind.ADOPTION.value]
    if len(mine) > 1:
        places = "、".join(f"{li.place_label}{'（' + li.household.name + '）' if li.household else ''}" for li in mine)
        raise OfferError(f"您负责的{name}有{len(mine)}条（{places}），请说明是哪个村的，比如“张家村{name}12月上市…”。")
    if not mine and adoptions:
        raise OfferError(f"{name}是认养产品，不能改成预售。")
    if mine:
        listing = mine[0]
        created = False
    else:
        listing = _open_listing(session, identity, name, harvest)
        created = True
    _expect(session, identity, listing, harvest, created)
    session.flush()
    session.refresh(listing)
    logger.info("expected harvest on listing %s: %s in %s", listing.id, harvest.quantity, harvest.month)
    text = expected_done(
        listing.product.name, listing.place_label, harvest.quantity, harvest.month, listing.price_fen, listing.unit
    )
    return ExpectedResult(listing.id, created, text)


def _expect(session: Session, identity: Identity, listing: Listing, harvest: ExpectedHarvest, created: bool) -> None:
    # EXPECTED: available becomes the expected quantity less what open pre-orders already ordered of it.
    assert harvest.quantity is not None and harvest.month is not None
    if harvest.quantity.unit != listing.unit:
        raise OfferError(f"{listing.product.name}按“{listing.unit}”计，请用{listing.unit}说预计数量。")
    if harvest.price is not None and harvest.price.unit != listing.unit:
        raise OfferError(f"{listing.product.name}按“{listing.unit}”计价，请说每{listing.unit}多少钱。")
    now = ledger.lock(session, listing.id)
    pre_ordered = sum((o.quantity for o in open_pre_orders(session, listing.id)), Decimal(0))
    available = max(harvest.quantity.value - pre_ordered, Decimal(0))
    planned = now.plan_raise(available)
    columns = {"offer": OfferKind.PRE_ORDER.value, "expected_month": harvest.month, "active": True}
    if harvest.price is not None:
        columns["price_fen"] = harvest.price.fen
    ledger.change_listing(session, listing.id, available - now.available, planned, **columns)
    expected = f"{format_decimal(harvest.quantity.value)}{listing.unit}"
    note = f"，其中{format_decimal(pre_ordered)}{listing.unit}已被预订" if pre_ordered else ""
    ledger.record(
        session,
        [
            ledger.Move(
                listing.id,
                MoveKind.EXPECTED,
                quantity=available - now.available,
                planned_change=planned,
                user_id=identity.user_id,
                reason=f"{'新开预售' if created else '预售'}：预计{month_label(harvest.month)}上市{expected}{note}",
            )
        ],
    )


def _open_listing(session: Session, identity: Identity, product: str, harvest: ExpectedHarvest) -> Listing:
    # A new 预售 listing at the contact's own place, with the catalogue's contact of that place.
    assert harvest.quantity is not None
    if not identity.is_contact or identity.township_id is None:
        raise OfferError(f"您管理的范围里还没有{product}的供货信息，新的预售产品请通过附件1表格报送。")
    if harvest.price is None:
        raise OfferError(f"新开{product}的预售，请说预订价，比如“预订价3元一斤”。")
    township = session.get(Township, identity.township_id)
    village = session.get(Village, identity.village_id) if identity.village_id else None
    assert township is not None
    found = session.scalar(select(Product).where(Product.name == product))
    if found is None:
        found = Product(name=product)  # a product new to the catalogue, as a 附件1 file would add it
        session.add(found)
        session.flush()
    key = f"{township.code}/{village.code if village else '-'}/-/{product}/-"
    existing = session.scalar(select(Listing).where(Listing.listing_key == key))
    if existing is not None:
        return existing  # an old listing of this place (inactive, or not its own household's): opened again
    contacts = select(func.min(SupplyContact.id)).where(SupplyContact.township_id == township.id)
    if village is not None:
        contacts = contacts.where(SupplyContact.village_id == village.id)
    contact_id = identity.contact_id or session.scalar(contacts)
    listing = Listing(
        listing_key=key,
        township_id=township.id,
        village_id=village.id if village else None,
        product_id=found.id,
        variety="",
        unit=harvest.quantity.unit,
        planned_quantity=Decimal(0),
        remaining_quantity=Decimal(0),
        price_fen=harvest.price.fen,
        supply_methods=int(NEW_LISTING_METHODS),
        contact_id=contact_id,
        remarks="",
        active=True,
        offer=OfferKind.PRE_ORDER.value,
        expected_month=harvest.month,
    )
    session.add(listing)
    session.flush()
    return listing


# Where a harvest message's product name ends: 脐橙收了4200斤, 脐橙实际收获4200斤, 我们的脐橙一共摘了4200斤.
_HARVEST_END = re.compile(r"实际|一共|总共|共|收|摘|产|出栏|[，,。;；0-9]")


def parse_real_harvest(text: str, product: str | None = None) -> tuple[str, Quantity | None]:
    """The product and real quantity of "脐橙收了4200斤，可以发货了" (`product`: the NLU's entity when found)."""
    cleaned = normalize_text(text).replace(" ", "")
    found = _QUANTITY.search(cleaned)
    quantity = parse_quantity(found.group(0)) if found else None
    if product:
        return product, quantity
    end = _HARVEST_END.search(cleaned)
    head = cleaned[: end.start()] if end else ""
    return _TRAILING.sub("", _LEADING.sub("", head)), quantity
