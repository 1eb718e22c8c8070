"""Phone-style orders: quoting, placing with stock reserved, and the order's life until paid."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from fupin.catalog import ledger
from fupin.logistics.records import ShipmentError, ShipmentInput, record_shipment
from fupin.models import ORDER_SOURCE, Buyer, Household, Listing, Order, SaleRecord, utcnow
from fupin.orders.buyers import clean_unit_name, find_or_register_buyer, purchase_remark
from fupin.orders.overdue import hold_message, holding_orders
from fupin.orders.pushes import push_new_order, push_status_change
from fupin.orders.rules import OrderRules
from fupin.outreach.users import Identity, user_for
from fupin.parsing import parse_phone
from fupin.settings import TIMEZONE
from fupin.values import (
    BuyerCategory,
    Carrier,
    OfferKind,
    OrderStatus,
    Price,
    Quantity,
    SupplyMethod,
    amount_fen,
    format_yuan,
    quantity_problem,
    supply_method_labels,
    under_one_fen,
)

logger = logging.getLogger(__name__)

OPEN = (OrderStatus.PENDING, OrderStatus.CONFIRMED)
# Transitions that settle what an order holds in the stock ledger.
SETTLING = (OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.DELIVERED)
LOGISTICS_RULE = "物流费用由采购单位（个人）自行承担，不得向贫困户另行收取。"


class OrderError(Exception):
    """An order that cannot be placed or changed; the message is a Chinese reason for the user.

    `field` names the part of the order at fault (quantity, supply_method, listing), when one is.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DuplicateOrder(OrderError):
    """The read-back was confirmed before (a double press, or again after a crash): its order exists."""

    def __init__(self, order_no: str) -> None:
        super().__init__(f"订单{order_no}已经下好了，不用再确认。说“我的订单”可以查看状态。")
        self.order_no = order_no


@dataclass(frozen=True)
class Quote:
    """What an order would be: listing, quantity, price, amount and how it is supplied."""

    listing_id: int
    product: str
    place: str
    quantity: Quantity
    price: Price
    amount_fen: int
    supply_method: SupplyMethod
    contact_name: str
    contact_phone: str
    # What the listing offers: a 预售 pre-order with its expected month, or a 认养 adoption with its terms.
    offer: OfferKind = OfferKind.IN_HAND
    expected_month: date | None = None
    terms: str = ""

    @property
    def supply_label(self) -> str:
        """The supply method in Chinese."""
        return supply_method_labels(self.supply_method)[0]


# A listing with what an order's quote and view read of it, in one query.
LISTING_PARTS = (
    joinedload(Listing.product),
    joinedload(Listing.township),
    joinedload(Listing.village),
    joinedload(Listing.contact),
)


def _listing(session: Session, listing_id: int) -> Listing:
    listing = session.get(Listing, listing_id, options=LISTING_PARTS)
    if listing is None or not listing.active:
        raise OrderError("这条供货信息已不存在，请重新查找。", "listing_id")
    return listing


def quote(session: Session, listing_id: int, quantity: Quantity, supply_method: SupplyMethod) -> Quote:
    """Check an order against its listing (unit, stock, supply method) and price it; raises OrderError."""
    listing = _listing(session, listing_id)
    product = listing.product.name
    if problem := quantity_problem(quantity.value):
        raise OrderError(f"{problem}。", "quantity")
    if quantity.unit != listing.unit:
        raise OrderError(
            f"{product}按“{listing.unit}”卖，请用{listing.unit}说数量（比如 30{listing.unit}）。", "quantity"
        )
    if quantity.value > listing.remaining_quantity:
        left = Quantity(listing.remaining_quantity, listing.unit)
        raise OrderError(f"{listing.place_label}的{product}只剩{left}了，请少订一些或换一家。", "quantity")
    if not supply_method or SupplyMethod(supply_method) not in SupplyMethod(listing.supply_methods):
        offered = "、".join(supply_method_labels(listing.supply_methods))
        raise OrderError(f"这家只支持：{offered}。", "supply_method")
    price = Price(listing.price_fen, listing.unit)
    if under_one_fen(quantity, price):
        raise OrderError("数量太少了，金额不到1分钱。", "quantity")
    contact = listing.contact
    return Quote(
        listing_id=listing.id,
        product=product + (f"（{listing.variety}）" if listing.variety else ""),
        place=listing.place_label,
        quantity=quantity,
        price=price,
        amount_fen=amount_fen(quantity, price),
        supply_method=SupplyMethod(supply_method),
        contact_name=contact.name if contact else "",
        contact_phone=contact.phone if contact else "",
        offer=OfferKind(listing.offer),
        expected_month=listing.expected_month,
        terms=listing.terms,
    )


def _new_order_no() -> str:
    # Date plus random letters: short to read out on the phone, impossible to guess or enumerate.
    return f"XF{datetime.now(TIMEZONE):%y%m%d}{secrets.token_hex(3).upper()}"


def place_order(
    session: Session,
    *,
    sender_id: str,
    listing_id: int,
    quantity: Quantity,
    buyer_name: str,
    phone: str,
    supply_method: SupplyMethod,
    remarks: str = "",
    request_key: str | None = None,
    rules: OrderRules | None = None,
) -> tuple[Order, Quote]:
    """Record an order and reserve its stock in the caller's transaction; raises OrderError.

    The stock is taken with one conditional UPDATE, so two buyers can never be promised the same
    last 100 斤, whatever the database; the reservation is a RESERVE move of the stock ledger. `request_key`
    is the confirmed read-back's key: a second confirmation of it raises DuplicateOrder (the unique key decides a
    race), and the caller's transaction, rolled back, releases what the loser reserved. With `rules` (the chat
    passes the settings'), the buyer's unconfirmed orders are capped; None places without caps (county staff).
    """
    if request_key:
        refuse_if_placed(session, request_key)
    offer = quote(session, listing_id, quantity, supply_method)
    # The dialogue checks these as they are asked; a button payload can carry any value, so check again here.
    if parse_phone(phone) != phone:
        raise OrderError("电话号码不对，请输入11位手机号或带区号的座机号。", "phone")
    if not 2 <= len(clean_unit_name(buyer_name)) <= 60:
        raise OrderError("请告诉我采购单位的全称，比如“县人民医院食堂”。", "org")
    buyer, _created = find_or_register_buyer(session, buyer_name, phone=phone)
    user = user_for(session, sender_id)
    if rules is not None:
        holding = holding_orders(session, buyer.id, user.id, utcnow(), rules.payment_hold_days)
        if holding:
            raise OrderError(hold_message(holding, rules.payment_hold_days))
        _check_caps(session, user.id, _listing(session, listing_id), quantity, rules)
    if not ledger.reserve(session, listing_id, quantity.value):
        session.expire_all()
        listing = _listing(session, listing_id)
        left = Quantity(listing.remaining_quantity, listing.unit)
        raise OrderError(f"刚刚被别人订走了一部分，{offer.place}的{offer.product}现在只剩{left}。", "quantity")
    for _attempt in range(5):
        order = Order(
            order_no=_new_order_no(),
            listing_id=listing_id,
            buyer_id=buyer.id,
            user_id=user.id,
            quantity=quantity.value,
            unit=quantity.unit,
            unit_price_fen=offer.price.fen,
            amount_fen=offer.amount_fen,
            supply_method=int(supply_method),
            phone=phone,
            status=OrderStatus.PENDING.value,
            reserved_quantity=quantity.value,
            remarks=remarks,
            request_key=request_key or None,
            offer=offer.offer.value,
        )
        try:
            with session.begin_nested():
                session.add(order)
        except IntegrityError:
            if request_key:
                refuse_if_placed(session, request_key)  # another confirmation of this read-back won
            continue  # an order number collision: draw another
        ledger.record_reservation(session, order, user.id)
        logger.info("order %s placed: listing=%s %s buyer=%s", order.order_no, listing_id, quantity, buyer.name)
        push_new_order(session, order)
        return order, offer
    raise OrderError("系统繁忙，请稍后再试。")


def refuse_if_placed(session: Session, request_key: str) -> None:
    """Raise DuplicateOrder when an order was already placed under this read-back's key."""
    placed = session.scalar(select(Order.order_no).where(Order.request_key == request_key))
    if placed is not None:
        logger.info("order %s: its read-back was confirmed again", placed)
        raise DuplicateOrder(placed)


def _check_caps(session: Session, user_id: int, listing: Listing, quantity: Quantity, rules: OrderRules) -> None:
    # Unconfirmed orders only: what the supply contact has accepted is the contact's decision, not a hoard.
    waiting = (Order.user_id == user_id, Order.status == OrderStatus.PENDING.value)
    if rules.max_open_orders > 0:
        count = session.scalar(select(func.count()).select_from(Order).where(*waiting)) or 0
        if count >= rules.max_open_orders:
            raise OrderError(
                f"您已有{count}个订单在等供货方确认（最多{rules.max_open_orders}个）。"
                "请等供货方确认后再下新订单，或先取消一个（说“我的订单”查看）。"
            )
    if rules.max_share_percent > 0:
        mine = Decimal(
            session.scalar(
                select(func.coalesce(func.sum(Order.quantity), 0)).where(*waiting, Order.listing_id == listing.id)
            )
            or 0
        )
        # The share is of what the listing had for this buyer: its stock left plus the buyer's own reservations.
        cap = ((listing.remaining_quantity + mine) * rules.max_share_percent / 100).quantize(
            Decimal("0.01"), rounding=ROUND_DOWN
        )
        if mine + quantity.value > cap:
            held = f"，您已有{Quantity(mine, listing.unit)}在等确认" if mine else ""
            raise OrderError(
                f"为了让更多单位都能买到，一个采购方待确认的订单最多可订这家可订数量的"
                f"{rules.max_share_percent}%（{Quantity(cap, listing.unit)}）{held}。"
                "请少订一些，或等供货方确认后再订。",
                "quantity",
            )


@dataclass(frozen=True)
class OrderView:
    """An order as its buyer or supply contact sees it; `phone` is empty for a viewer who may not see it."""

    order_no: str
    status: OrderStatus
    product: str
    place: str
    quantity: Quantity
    amount_fen: int
    buyer: str
    phone: str
    supply_method: str
    contact_name: str
    contact_phone: str
    created_at: datetime
    listing_id: int

    def line(self) -> str:
        """One line for a chat message."""
        return (
            f"{self.order_no} {self.product}{self.quantity}（{self.place}）"
            f" {format_yuan(self.amount_fen)}元 【{self.status.value}】"
        )


def view(order: Order, viewer: Identity | None = None) -> OrderView:
    """The view of an order; the buyer's phone only for a viewer who may see it (none without a viewer)."""
    listing = order.listing
    contact = listing.contact
    return OrderView(
        order_no=order.order_no,
        status=OrderStatus(order.status),
        product=listing.product.name,
        place=listing.place_label,
        quantity=Quantity(order.quantity, order.unit),
        amount_fen=order.amount_fen,
        buyer=order.buyer.name,
        phone=order.phone if viewer is not None and viewer.may_see_buyer_phone(listing, order.user_id) else "",
        supply_method="、".join(supply_method_labels(order.supply_method)),
        contact_name=contact.name if contact else "",
        contact_phone=contact.phone if contact else "",
        created_at=order.created_at,
        listing_id=order.listing_id,
    )


def orders_for(session: Session, identity: Identity, limit: int = 10) -> list[OrderView]:
    """The orders someone should see: admins all, contacts their places', buyers their own."""
    query = (
        select(Order)
        .join(Listing)
        # What `view` reads of each order, in the same query (many-to-one each) instead of six more per order.
        .options(
            joinedload(Order.buyer),
            joinedload(Order.listing).options(*LISTING_PARTS),
        )
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit)
    )
    if identity.is_admin:
        pass
    elif identity.is_contact:
        # Their places' orders, and the orders they placed themselves as a buyer somewhere else.
        places = Listing.township_id == identity.township_id
        if identity.village_id is not None:
            places = and_(places, Listing.village_id == identity.village_id)
        query = query.where(or_(places, Order.user_id == identity.user_id) if identity.user_id else places)
    elif identity.user_id is not None:
        query = query.where(Order.user_id == identity.user_id)
    else:
        return []
    return [view(order, identity) for order in session.scalars(query)]


# (from states, to state, who may): "buyer" = the user who placed it, "contact" = who manages the listing.
TRANSITIONS: dict[str, tuple[tuple[OrderStatus, ...], OrderStatus, str]] = {
    "cancel": (OPEN, OrderStatus.CANCELLED, "buyer"),
    "confirm": ((OrderStatus.PENDING,), OrderStatus.CONFIRMED, "contact"),
    "reject": (OPEN, OrderStatus.REJECTED, "contact"),
    "deliver": (OPEN, OrderStatus.DELIVERED, "contact"),
    "pay": ((OrderStatus.DELIVERED,), OrderStatus.PAID, "contact"),
}


def change_order(
    session: Session, order_no: str, action: str, actor: Identity, shipment: ShipmentInput | None = None
) -> Order:
    """Move an order along its life (cancel, confirm, reject, deliver, pay); raises OrderError.

    Cancelling or rejecting releases the stock the order holds; delivering consumes it and records the
    purchase (附件2/3) and how it travelled (`shipment`, the supply side's own delivery when None); each is a
    move of the stock ledger. The status changes with a conditional UPDATE, so a button pressed twice acts once.
    """
    allowed_from, target, who = TRANSITIONS[action]
    order = session.scalar(select(Order).where(Order.order_no == order_no.strip().upper()))
    if order is None:
        raise OrderError(f"没有找到订单 {order_no}。")
    listing = order.listing
    is_owner = actor.user_id is not None and order.user_id == actor.user_id
    permitted = actor.may_manage(listing) or (who == "buyer" and is_owner)
    if not permitted:
        raise OrderError("您没有权限处理这个订单。")
    current = OrderStatus(order.status)
    if current not in allowed_from:
        raise OrderError(f"订单 {order.order_no} 现在是“{current.value}”，不能再{_VERBS[action]}。")
    if target is OrderStatus.DELIVERED:
        try:
            record_shipment(session, order, shipment or ShipmentInput(Carrier.SELF), actor.user_id)
        except ShipmentError as exc:
            raise OrderError(str(exc)) from exc
    if target in SETTLING:
        # Held stock goes back (cancel, reject) or is consumed (deliver): a movement of the ledger.
        moved = ledger.close_order(session, order, target, actor.user_id)
    else:
        moved = (
            session.execute(
                update(Order)
                .where(Order.id == order.id, Order.status == current.value)
                .values(status=target.value, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        )
    if not moved:
        raise OrderError(f"订单 {order.order_no} 刚刚已被处理，请查看最新状态。")
    if target is OrderStatus.DELIVERED:
        session.add(_sale_record(order))
    session.flush()
    session.expire_all()
    logger.info("order %s: %s -> %s by %s", order.order_no, current.value, target.value, actor.external_id)
    refreshed = session.scalar(select(Order).where(Order.id == order.id))
    assert refreshed is not None
    push_status_change(session, refreshed, actor)
    return refreshed


_VERBS = {"cancel": "取消", "confirm": "确认", "reject": "拒绝", "deliver": "标记送达", "pay": "标记付款"}


def _sale_record(order: Order) -> SaleRecord:
    listing = order.listing
    buyer: Buyer = order.buyer
    household: Household | None = listing.household
    return SaleRecord(
        township_id=listing.township_id,
        village_id=listing.village_id,
        household_name=household.name if household else "",
        poor_households=household.poor_households if household and household.is_cooperative else None,
        buyer_id=buyer.id,
        buyer_name=buyer.name,
        product_name=listing.product.name + (f"（{listing.variety}）" if listing.variety else ""),
        quantity=Decimal(order.quantity),
        unit=order.unit,
        amount_fen=order.amount_fen,
        sold_on=datetime.now(TIMEZONE).date(),
        remarks=purchase_remark(BuyerCategory(buyer.category)),
        order_id=order.id,
        source=ORDER_SOURCE,
    )
