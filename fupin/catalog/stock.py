"""Stock and price updates by supply contacts: understanding the change, checking rights, applying it."""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fupin.catalog import ledger
from fupin.catalog.search import CatalogNames, ProductVocabulary
from fupin.models import Listing, Product, utcnow
from fupin.outreach.users import Identity
from fupin.parsing import parse_quantity
from fupin.places import Gazetteer
from fupin.values import MAX_PRICE_FEN, MAX_QUANTITY, OfferKind, Price, Quantity, format_yuan, quantity_problem

logger = logging.getLogger(__name__)


class StockError(Exception):
    """A stock update that cannot be made; the message is a Chinese reason for the user."""


class StockKind(str, enum.Enum):
    """What a stock message asks for."""

    SET = "set"  # 土豆还剩两百斤
    SOLD_OUT = "sold_out"  # 蜂蜜卖完了
    ADD = "add"  # 新到300斤柑橘
    PRICE = "price"  # 把脐橙的价格改成4元/斤


_SOLD_OUT = re.compile(r"卖完|售完|售罄|没得了|没有了|没货|断货|清仓了|卖光")
_ADD = re.compile(r"新到|又到|到了|新收|又收|收了|进了|新增|加了|补了|又有|新采")


def classify(text: str, quantity: Quantity | None, price: Price | None) -> StockKind | None:
    """The kind of change a message asks for, from its words and the values found in it."""
    if _SOLD_OUT.search(text) and quantity is None:
        return StockKind.SOLD_OUT
    if quantity is not None:
        return StockKind.ADD if _ADD.search(text) else StockKind.SET
    if price is not None:
        return StockKind.PRICE
    return None


@dataclass(frozen=True)
class StockChange:
    """A change to one listing, ready to be read back and applied on confirmation."""

    listing_id: int
    kind: StockKind
    quantity: Quantity | None = None
    price: Price | None = None

    def to_slot(self) -> dict[str, Any]:
        """A JSON-safe form to keep between turns."""
        return {
            "listing_id": self.listing_id,
            "kind": self.kind.value,
            "quantity": str(self.quantity) if self.quantity else None,
            "price_fen": self.price.fen if self.price else None,
            "price_unit": self.price.unit if self.price else None,
        }

    @classmethod
    def from_slot(cls, data: dict[str, Any]) -> StockChange:
        """Rebuild a change kept between turns."""
        quantity = parse_quantity(str(data["quantity"])) if data.get("quantity") else None
        price = Price(int(data["price_fen"]), str(data["price_unit"])) if data.get("price_fen") is not None else None
        return cls(int(data["listing_id"]), StockKind(str(data["kind"])), quantity, price)


class Purpose(enum.Enum):
    """Why someone asks for the listings they manage: what a refusal names."""

    UPDATE = "update"  # 土豆还剩两百斤
    HISTORY = "history"  # 土豆的库存记录

    @property
    def wanted(self) -> str:
        """What the person wanted to do, in "只有…才能…"."""
        return "修改库存和价格" if self is Purpose.UPDATE else "查看库存记录"

    @property
    def verb(self) -> str:
        """The verb of "您只能…自己负责的村（乡镇）的产品"."""
        return "修改" if self is Purpose.UPDATE else "查看"


@dataclass(frozen=True)
class Candidate:
    """A listing a stock message may be about."""

    listing_id: int
    label: str


def _label(listing: Listing) -> str:
    place = listing.place_label
    who = f" {listing.household.name}" if listing.household else ""
    left = Quantity(listing.remaining_quantity, listing.unit)
    return f"{place}{who} {listing.product.name}（剩{left}，{format_yuan(listing.price_fen)}元/{listing.unit}）"


def candidates(
    session: Session,
    identity: Identity,
    product: str,
    place: str | None = None,
    names: CatalogNames | None = None,
    purpose: Purpose = Purpose.UPDATE,
) -> list[Candidate]:
    """The listings of a product that this person may update (optionally at a place); raises StockError.

    `names`: the process's cached vocabulary and gazetteer (read afresh from the database without it);
    `purpose`: what the refusals say the person wanted to do.
    """
    if not (identity.is_admin or identity.is_contact):
        raise StockError(
            f"只有登记过的供货联系人（或县里的管理员）才能{purpose.wanted}。如需登记，请联系县农业农村委。"
        )
    vocabulary, gazetteer = names.get(session) if names is not None else (ProductVocabulary.load(session), None)
    matches = vocabulary.match(product)
    if not matches and names is not None:
        matches = ProductVocabulary.load(session).match(product)  # a product added since the names were read
    if not matches:
        raise StockError(f"目录里还没有“{product}”。新产品请通过附件1表格报送。")
    query = (
        select(Listing)
        .join(Product)
        .where(Listing.product_id.in_([m.product_id for m in matches]), Listing.active.is_(True))
        .order_by(Listing.id)
    )
    if place:
        found = (gazetteer or Gazetteer.load(session)).find(place)
        townships = {p.township.id for p in found if p.village is None}
        villages = {p.village.id for p in found if p.village is not None}
        listings = [li for li in session.scalars(query) if li.township_id in townships or li.village_id in villages]
    else:
        listings = list(session.scalars(query))
    mine = [li for li in listings if identity.may_manage(li)]
    if not mine:
        if listings:
            raise StockError(f"您只能{purpose.verb}自己负责的村（乡镇）的产品，{matches[0].product}不在您的范围内。")
        raise StockError(f"没有找到{matches[0].product}的供货信息。")
    return [Candidate(li.id, _label(li)) for li in mine]


def _open_orders_note(session: Session, listing: Listing) -> str:
    """A sold-out leaves open orders valid: how much they hold, to be delivered as usual."""
    open_quantity = ledger.figures(session, listing.id).open_quantity
    if not open_quantity:
        return ""
    return f"；未完成订单预订的{Quantity(open_quantity, listing.unit)}仍然有效，请照常发货"


def describe(session: Session, change: StockChange) -> str:
    """The change read back in Chinese, for confirmation (and, after it, as what was done).

    A count (还剩X) says how much of X open orders already hold, and a sold-out that open orders stay valid.
    """
    listing = session.get(Listing, change.listing_id)
    if listing is None:
        raise StockError("这条供货信息已不存在。")
    label = _label(listing)
    unit = listing.unit
    if change.kind is StockKind.SOLD_OUT:
        return f"{label}：标记为已卖完（可售改为0）" + _open_orders_note(session, listing)
    parts = []
    if change.kind is StockKind.SET and change.quantity:
        counted = change.quantity.value
        parts.append(f"剩余数量改为{change.quantity}")
        promised = ledger.promised_of(session, listing.id, counted)
        if promised:
            parts.append(f"其中{Quantity(promised, unit)}已被未完成订单预订，可售{Quantity(counted - promised, unit)}")
    if change.kind is StockKind.ADD and change.quantity:
        total = Quantity(listing.remaining_quantity + change.quantity.value, unit)
        parts.append(f"新增{change.quantity}，剩余变为{total}")
    if change.price:
        parts.append(f"价格改为{change.price}")
    return f"{label}：" + "，".join(parts)


def done(session: Session, change: StockChange, listing: Listing) -> str:
    """What a confirmed change did, with the listing's figures after it (the read-back's are those before)."""
    label = _label(listing)
    if change.kind is StockKind.SOLD_OUT:
        return f"{label}：已标记为卖完" + _open_orders_note(session, listing)
    parts = []
    if change.kind is StockKind.SET and change.quantity:
        parts.append(f"剩余数量改为{change.quantity}")
    if change.kind is StockKind.ADD and change.quantity:
        parts.append(f"新增{change.quantity}")
    if change.price:
        parts.append(f"价格改为{change.price}")
    return f"{label}：" + "，".join(parts)


def plan(
    session: Session, listing_id: int, kind: StockKind, quantity: Quantity | None, price: Price | None
) -> StockChange:
    """Check a change against its listing (units, values) before reading it back; raises StockError."""
    listing = session.get(Listing, listing_id)
    if listing is None:
        raise StockError("这条供货信息已不存在。")
    if quantity is not None and listing.offer == OfferKind.PRE_ORDER.value:
        # A pre-sale's figures are the expected harvest and its pre-orders: only the harvest replaces them.
        name = listing.product.name
        raise StockError(
            f"{listing.place_label}的{name}是预售产品，库存以收获为准：收获后请说“{name}实际收获多少{listing.unit}”；"
            f"预计数量有变，请说“{name}几月上市，预计多少{listing.unit}”。"
        )
    if quantity is not None:
        if quantity.unit != listing.unit:
            raise StockError(f"{listing.product.name}按“{listing.unit}”计，请用{listing.unit}说数量。")
        if quantity.value < 0 or (kind is StockKind.ADD and quantity.value == 0):
            raise StockError("数量不对，请重新说一下。")
        problem = quantity_problem(quantity.value, allow_zero=True)
        total = listing.remaining_quantity + quantity.value if kind is StockKind.ADD else quantity.value
        if problem or total > MAX_QUANTITY:
            raise StockError(f"{problem or '数量太大了，请核对一下'}。")
    if price is not None:
        if price.unit != listing.unit:
            raise StockError(f"{listing.product.name}按“{listing.unit}”计价，请说每{listing.unit}多少钱。")
        if price.fen <= 0:
            raise StockError("价格要大于0。")
        if price.fen > MAX_PRICE_FEN:
            raise StockError("价格太高了，请核对一下。")
    return StockChange(listing_id, kind, quantity, price)


def check_rights(session: Session, identity: Identity, listing_id: int) -> Listing:
    """The listing, if this person may change it; raises StockError otherwise."""
    listing = session.get(Listing, listing_id)
    if listing is None or not listing.active:
        raise StockError("这条供货信息已不存在。")
    if not identity.may_manage(listing):
        raise StockError("您只能修改自己负责的村（乡镇）的产品。")
    return listing


def apply(session: Session, identity: Identity, change: StockChange) -> Listing:
    """Apply a confirmed change as a move of the stock ledger, checking the person's rights again; raises StockError."""
    listing = check_rights(session, identity, change.listing_id)
    try:
        if change.kind is StockKind.SOLD_OUT:
            ledger.sold_out(session, listing.id, identity.user_id)
        elif change.kind is StockKind.SET and change.quantity:
            ledger.stocktake(session, listing.id, change.quantity.value, identity.user_id)
        elif change.kind is StockKind.ADD and change.quantity:
            ledger.new_batch(session, listing.id, change.quantity.value, identity.user_id)
    except ledger.LedgerError as exc:
        raise StockError(str(exc)) from exc
    if change.price:
        session.execute(
            update(Listing)
            .where(Listing.id == listing.id)
            .values(price_fen=change.price.fen, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    session.flush()
    session.refresh(listing)
    logger.info("stock change %s on listing %s by %s", change.kind.value, listing.id, identity.external_id)
    return listing
