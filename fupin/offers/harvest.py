"""The real harvest of a 预售 listing: pre-orders filled in the order they were placed, the rest released.

One transaction (the caller's): the listing is taken first, then its open pre-orders are read in placing
order (created_at, id). Whole orders are filled while they fit; the first that does not fit gets what is left
(its quantity and amount reduced) when anything is; every later one becomes 未满足 (UNFILLED). Each order whose
hold shrinks has a RELEASE move; one HARVEST move then makes the filled orders hold what they get (goods now on
hand) and sets available to the leftover, with the plan raised to cover it (the ledger's invariants hold).
The listing becomes 现货. Every buyer, and the contacts who did not confirm it themselves, get a push.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fupin.catalog import ledger
from fupin.models import Listing, MoveKind, Order, User, utcnow
from fupin.offers import wording
from fupin.offers.moves import OfferError, open_pre_orders
from fupin.outreach.notifications import PUSH_CHANNELS, enqueue
from fupin.outreach.users import Identity, users_for_listing
from fupin.values import (
    OfferKind,
    OrderStatus,
    Price,
    Quantity,
    amount_fen,
    format_decimal,
    quantity_problem,
    under_one_fen,
)

logger = logging.getLogger(__name__)
ZERO = Decimal(0)


class HarvestPushKind(str, enum.Enum):
    """The outbox kinds of a harvest's pushes; their dedupe keys name the order or listing."""

    ORDER = "preorder_harvest"
    CONTACT = "harvest_summary"


@dataclass(frozen=True)
class Filling:
    """One pre-order's share of the harvest: what it ordered and what it gets (0: unfilled)."""

    order_no: str
    ordered: Decimal
    filled: Decimal
    amount_fen: int

    @property
    def whole(self) -> bool:
        """Filled entirely."""
        return self.filled == self.ordered


@dataclass(frozen=True)
class HarvestResult:
    """What confirming a harvest did: the pre-orders filled, filled in part and unfilled, and what is left."""

    listing_id: int
    product: str
    place: str
    real: Quantity
    left: Quantity
    filled: list[Filling] = field(default_factory=list)
    partly: list[Filling] = field(default_factory=list)
    unfilled: list[Filling] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The summary for the contact."""
        return wording.harvest_summary(
            self.product, self.place, self.real, len(self.filled), len(self.partly), len(self.unfilled), self.left
        )


def share_out(real: Decimal, ordered: list[Decimal]) -> list[Decimal]:
    """What each order (in placing order) gets of a harvest: whole while it fits, then the rest once, then 0."""
    rest = real
    shares = []
    for quantity in ordered:
        share = min(quantity, rest)
        shares.append(share)
        rest -= share
    return shares


def harvest_listing(session: Session, identity: Identity, listing_id: int) -> Listing:
    """The 预售 listing this person may confirm the harvest of; raises OfferError."""
    listing = session.get(Listing, listing_id)
    if listing is None or not listing.active:
        raise OfferError("这条供货信息已不存在。")
    if not identity.may_manage(listing):
        raise OfferError("您只能确认自己负责的村（乡镇）的收获。")
    if listing.offer != OfferKind.PRE_ORDER.value:
        raise OfferError(
            f"{listing.place_label}的{listing.product.name}不是预售产品，不用确认收获；改库存请说“还剩多少”。"
        )
    return listing


def preview(session: Session, listing_id: int, real: Quantity) -> str:
    """The harvest read back before it applies: how many pre-orders it fills, in part, or not at all."""
    listing = session.get(Listing, listing_id)
    assert listing is not None
    # The same shares the confirmation will give (a remnant under a fen included), so the read-back holds.
    fillings = _fillings(open_pre_orders(session, listing_id), real.value)
    whole = sum(1 for f in fillings if f.whole)
    part = sum(1 for f in fillings if f.filled and not f.whole)
    none = sum(1 for f in fillings if not f.filled)
    left = real.value - sum((f.filled for f in fillings), ZERO)
    parts = [
        f"{listing.place_label}的{listing.product.name}实际收获{real}",
        f"{len(fillings)}个预订中{whole}个全部满足",
    ]
    if part:
        parts.append(f"{part}个部分满足")
    if none:
        parts.append(f"{none}个未满足（会通知采购方并释放）")
    return "，".join(parts) + f"；剩余{Quantity(left, listing.unit)}转为现货可售"


def confirm_harvest(session: Session, identity: Identity, listing_id: int, real: Quantity) -> HarvestResult:
    """Confirm a 预售 listing's real harvest: fill its pre-orders in placing order and release the rest.

    Raises OfferError (not the contact's listing, not a pre-sale, a wrong unit or quantity).
    """
    listing = harvest_listing(session, identity, listing_id)
    if real.unit != listing.unit:
        raise OfferError(f"{listing.product.name}按“{listing.unit}”计，请用{listing.unit}说收获了多少。")
    if problem := quantity_problem(real.value, allow_zero=True):
        raise OfferError(f"{problem}。")
    ledger.lock(session, listing_id)
    orders = open_pre_orders(session, listing_id)  # read after the lock: no order slips in between
    fillings = _fillings(orders, real.value)
    filled = [f for f in fillings if f.whole]
    partly = [f for f in fillings if f.filled and not f.whole]
    unfilled = [f for f in fillings if not f.filled]
    moves: list[ledger.Move] = []
    released = ZERO
    for order, filling in zip(orders, fillings, strict=True):
        held = Decimal(order.reserved_quantity)
        freed = held - min(held, filling.filled)
        if not filling.filled:
            _settle(session, order, status=OrderStatus.UNFILLED.value, reserved_quantity=ZERO)
        elif not filling.whole:
            _settle(
                session, order, quantity=filling.filled, amount_fen=filling.amount_fen, reserved_quantity=held - freed
            )
        if freed:
            released += freed
            verb = "未满足" if not filling.filled else f"部分满足{format_decimal(filling.filled)}{order.unit}"
            moves.append(
                ledger.Move(
                    listing_id,
                    MoveKind.RELEASE,
                    quantity=freed,
                    reserved_change=-freed,
                    user_id=identity.user_id,
                    order_id=order.id,
                    reason=f"订单{order.order_no}预订{format_decimal(filling.ordered)}{order.unit}，收获后{verb}",
                )
            )
    ledger.record(session, moves)
    ledger.change_listing(session, listing_id, released)
    # The harvest is on hand: each filled pre-order holds its whole share, and the rest is for sale.
    raised = ZERO
    for order, filling in zip(orders, fillings, strict=True):
        kept = min(Decimal(order.reserved_quantity), filling.filled)
        if filling.filled and kept != filling.filled:
            raised += filling.filled - kept
            _settle(session, order, reserved_quantity=filling.filled)
    after = ledger.figures(session, listing_id)
    left = real.value - sum((f.filled for f in fillings), ZERO)
    planned = after.plan_raise(left)
    # expected_month stays: a 附件1 re-sent with the same "预售，12月上市" must not reopen a harvest already in.
    ledger.change_listing(session, listing_id, left - after.available, planned, offer=OfferKind.IN_HAND.value)
    ledger.record(
        session,
        [
            ledger.Move(
                listing_id,
                MoveKind.HARVEST,
                quantity=left - after.available,
                reserved_change=raised,
                planned_change=planned,
                user_id=identity.user_id,
                reason=f"实际收获{format_decimal(real.value)}{listing.unit}：{len(filled)}个预订全部满足、"
                f"{len(partly)}个部分满足、{len(unfilled)}个未满足，剩余{format_decimal(left)}{listing.unit}转为现货",
            )
        ],
    )
    session.flush()
    session.expire_all()
    result = HarvestResult(
        listing_id, listing.product.name, listing.place_label, real, Quantity(left, real.unit), filled, partly, unfilled
    )
    _push(session, identity, result)
    logger.info(
        "harvest of listing %s: %s, filled=%d partly=%d unfilled=%d",
        listing_id, real, len(filled), len(partly), len(unfilled),
    )  # fmt: skip
    return result


def _fillings(orders: list[Order], real: Decimal) -> list[Filling]:
    fillings = []
    for order, share in zip(orders, share_out(real, [Decimal(o.quantity) for o in orders]), strict=True):
        price = Price(order.unit_price_fen, order.unit)
        if share and share < order.quantity and under_one_fen(Quantity(share, order.unit), price):
            share = ZERO  # a remnant worth less than a fen is no order
        fen = order.amount_fen if share == order.quantity else amount_fen(Quantity(share, order.unit), price)
        fillings.append(Filling(order.order_no, Decimal(order.quantity), share, fen))
    return fillings


def _settle(session: Session, order: Order, **values: object) -> None:
    session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )


def _push(session: Session, actor: Identity, result: HarvestResult) -> int:
    listing = session.get(Listing, result.listing_id)
    assert listing is not None
    contact = listing.contact
    phone = f"（供货联系人 {contact.name} {contact.phone}）" if contact else ""
    sent = 0
    for filling in [*result.filled, *result.partly, *result.unfilled]:
        order = session.scalar(select(Order).where(Order.order_no == filling.order_no))
        assert order is not None
        buyer = session.get(User, order.user_id) if order.user_id is not None else None
        if buyer is None or buyer.channel not in PUSH_CHANNELS or buyer.id == actor.user_id:
            continue
        ordered = Quantity(filling.ordered, order.unit)
        if filling.whole:
            text = wording.harvest_filled(order.order_no, result.product, ordered, phone)
        elif filling.filled:
            filled = Quantity(filling.filled, order.unit)
            text = wording.harvest_partly(order.order_no, result.product, ordered, filled, filling.amount_fen, phone)
        else:
            text = wording.harvest_unfilled(order.order_no, result.product, ordered, phone)
        kind = HarvestPushKind.ORDER.value
        enqueue(session, buyer, kind, text, dedupe_key=f"{kind}:{order.order_no}:{buyer.id}")
        sent += 1
    for user in users_for_listing(session, listing):
        if user.channel in PUSH_CHANNELS and user.id != actor.user_id:
            kind = HarvestPushKind.CONTACT.value
            enqueue(
                session, user, kind, result.text, dedupe_key=f"{kind}:{listing.id}:{utcnow().isoformat()}:{user.id}"
            )
            sent += 1
    return sent
