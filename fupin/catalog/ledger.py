"""The stock ledger: every movement of a listing's stock is a row, and the listing's figures are its balances.

Terms, in the listing's unit:

- **available** (``Listing.remaining_quantity``): what may still be promised to a new order (可售).
- **held** (``Order.reserved_quantity`` of the open orders): stock promised to an open order and counted as
  on hand; it goes back to available only if that order is cancelled or rejected.
- **on hand** = available + held: what the contact has, as far as the ledger knows.
- **planned** (``Listing.planned_quantity``): the township's plan (附件1 计划销量), raised by new batches.

Every ``StockMove`` carries the signed change of available (``quantity``), of held (``reserved_change``)
and of planned (``planned_change``). The listing's two columns are caches equal to the sums of its moves:
each function here changes them with atomic UPDATEs in the same transaction as the move row (the caller
owns the transaction), never by writing back a value read earlier.

Rules:

- RESERVE q (order placed): available −q, held +q, by one conditional UPDATE that never goes below 0.
- RELEASE (cancelled, rejected): the order's held stock goes back to available.
- DELIVER: the order's held stock is consumed; available does not change.
- STOCKTAKE X (还剩X): the contact counts X on hand. Open orders have the first claim on it, oldest first
  (each holds min(its quantity, what is left of X)); available = X − held.
- SOLD_OUT (卖完了): available 0. Open orders stay valid (the contact still delivers them), but what they
  held is no longer counted: cancelling one afterwards does not bring stock back. A later 还剩X counts again.
- NEW_BATCH q (新到q): available +q and planned +q, one atomic increment.
- PLAN (附件1 import): a new listing opens with its plan; a re-import is the township's new plan P′ for an
  existing one, and moves available by P′ − P (never below 0), so stock already sold or promised is never
  made available again. A county export's 剩余 column can only lower available, never raise it.
- CORRECTION: an admin sets available to a figure, with a reason; held is untouched.
- EXPECTED E (预售, fupin/offers/expected.py): available = E − what open pre-orders ordered (never below 0).
- HARVEST R (fupin/offers/harvest.py): pre-orders filled in placing order, a RELEASE for each one's freed hold
  (partly filled or 未满足), then available = what R leaves and the filled orders hold their shares.

Invariants (checked by tests/test_stock_ledger.py after every step): available = SUM(quantity) ≥ 0,
held = SUM(reserved_change), planned = SUM(planned_change), and planned − delivered ≥ available + open
orders' quantities: a plan (from any source) is raised to at least what is delivered, promised and available.

Locking: a movement that depends on current figures first takes the listing's row (an UPDATE of it: a row
lock on PostgreSQL, the write lock on SQLite) and only then reads them, and the order rows after the listing,
so concurrent orders, releases, stocktakes and imports of one listing queue instead of losing a movement.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from fupin.models import Listing, MoveKind, Order, StockMove, utcnow
from fupin.values import OrderStatus, format_decimal

logger = logging.getLogger(__name__)

OPEN_STATUSES = (OrderStatus.PENDING.value, OrderStatus.CONFIRMED.value)
DELIVERED_STATUSES = (OrderStatus.DELIVERED.value, OrderStatus.PAID.value)
ZERO = Decimal(0)


class LedgerError(Exception):
    """A stock movement that cannot be made; the message is a Chinese reason for the user."""


@dataclass(frozen=True)
class Move:
    """A movement to record: its kind, the three signed changes, and who, why and what it belongs to."""

    listing_id: int
    kind: MoveKind
    quantity: Decimal = ZERO
    reserved_change: Decimal = ZERO
    planned_change: Decimal = ZERO
    user_id: int | None = None
    order_id: int | None = None
    import_id: int | None = None
    reason: str = ""

    def row(self) -> dict[str, Any]:
        """The values of its stock_moves row."""
        return {
            "listing_id": self.listing_id,
            "kind": self.kind.value,
            "quantity": self.quantity,
            "reserved_change": self.reserved_change,
            "planned_change": self.planned_change,
            "user_id": self.user_id,
            "order_id": self.order_id,
            "import_id": self.import_id,
            "reason": self.reason,
            "created_at": utcnow(),
        }


def record(session: Session, moves: Sequence[Move]) -> None:
    """Write move rows (one executemany); the caller has already changed the cached figures to match."""
    if moves:
        session.execute(insert(StockMove), [m.row() for m in moves])


@dataclass(frozen=True)
class Figures:
    """A listing's figures read under its lock."""

    available: Decimal
    planned: Decimal
    open_quantity: Decimal  # what the open orders ordered
    held: Decimal  # what they hold
    delivered: Decimal  # what delivered (and paid) orders took

    def plan_floor(self, available: Decimal) -> Decimal:
        """The least plan that covers what is delivered, promised and (with this figure) available."""
        return self.delivered + self.open_quantity + available

    def plan_raise(self, available: Decimal) -> Decimal:
        """How much the plan must rise to cover that floor (never a fall: a plan is only lowered by an import)."""
        return max(self.planned, self.plan_floor(available)) - self.planned


def lock(session: Session, listing_id: int) -> Figures:
    """Take the listing's row for this transaction and read its figures; raises LedgerError if it is gone."""
    taken = session.execute(
        update(Listing)
        .where(Listing.id == listing_id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        raise LedgerError("这条供货信息已不存在。")
    return figures(session, listing_id)


def figures(session: Session, listing_id: int) -> Figures:
    """A listing's figures as stored now (column reads: never a stale object of the session)."""
    available, planned = session.execute(
        select(Listing.remaining_quantity, Listing.planned_quantity).where(Listing.id == listing_id)
    ).one()
    open_quantity, held = session.execute(
        select(func.sum(Order.quantity), func.sum(Order.reserved_quantity)).where(
            Order.listing_id == listing_id, Order.status.in_(OPEN_STATUSES)
        )
    ).one()
    delivered = session.scalar(
        select(func.sum(Order.quantity)).where(Order.listing_id == listing_id, Order.status.in_(DELIVERED_STATUSES))
    )
    return Figures(available, planned, _decimal(open_quantity), _decimal(held), _decimal(delivered))


def _decimal(raw: Any) -> Decimal:
    # SUM keeps the column's type, so it already comes back as a Decimal (None over no rows).
    return ZERO if raw is None else Decimal(raw)


def change_listing(
    session: Session, listing_id: int, available: Decimal, planned: Decimal = ZERO, **columns: Any
) -> None:
    """Add to a listing's available and planned figures (and set other columns) by one atomic UPDATE.

    The caller records the matching move; never a value read earlier written back.
    """
    values: dict[str, Any] = {"updated_at": utcnow(), **columns}
    if available:
        values["remaining_quantity"] = Listing.remaining_quantity + available
    if planned:
        values["planned_quantity"] = Listing.planned_quantity + planned
    session.execute(
        update(Listing).where(Listing.id == listing_id).values(values).execution_options(synchronize_session=False)
    )


def reserve(session: Session, listing_id: int, quantity: Decimal) -> bool:
    """Take stock for an order by one conditional UPDATE; False when not that much is available.

    Call `record_reservation` once the order exists, in the same transaction.
    """
    taken = session.execute(
        update(Listing)
        .where(Listing.id == listing_id, Listing.active.is_(True), Listing.remaining_quantity >= quantity)
        .values(remaining_quantity=Listing.remaining_quantity - quantity, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(taken.rowcount == 1)


def record_reservation(session: Session, order: Order, user_id: int | None) -> None:
    """The RESERVE move of an order whose stock `reserve` took (the order holds all it ordered)."""
    quantity = Decimal(order.quantity)
    record(
        session,
        [
            Move(
                order.listing_id,
                MoveKind.RESERVE,
                quantity=-quantity,
                reserved_change=quantity,
                user_id=user_id,
                order_id=order.id,
                reason=f"订单{order.order_no}预订",
            )
        ],
    )


def close_order(session: Session, order: Order, target: OrderStatus, user_id: int | None) -> bool:
    """Move an open order to a closed or open status, settling what it holds; False if it changed meanwhile.

    Cancelled, rejected or expired: its held stock goes back to available (RELEASE). Delivered: held stock is
    consumed (DELIVER). The status moves with a conditional UPDATE, after the listing is taken.
    """
    lock(session, order.listing_id)
    current, held = session.execute(select(Order.status, Order.reserved_quantity).where(Order.id == order.id)).one()
    if current != order.status:
        return False
    changed = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == current)
        .values(status=target.value, reserved_quantity=ZERO, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        return False
    if target is OrderStatus.DELIVERED:
        move = Move(
            order.listing_id,
            MoveKind.DELIVER,
            reserved_change=-held,
            user_id=user_id,
            order_id=order.id,
            reason=f"订单{order.order_no}送达{_amount(order)}",
        )
    else:
        change_listing(session, order.listing_id, held)
        verb = {OrderStatus.CANCELLED: "取消", OrderStatus.EXPIRED: "过期未确认"}.get(target, "拒绝")
        note = "" if held == Decimal(order.quantity) else f"（其中{_fmt(held)}{order.unit}仍计为库存）"
        move = Move(
            order.listing_id,
            MoveKind.RELEASE,
            quantity=held,
            reserved_change=-held,
            user_id=user_id,
            order_id=order.id,
            reason=f"订单{order.order_no}{verb}{_amount(order)}{note}",
        )
    record(session, [move])
    return True


def _amount(order: Order) -> str:
    return f"{_fmt(Decimal(order.quantity))}{order.unit}"


def _fmt(value: Decimal) -> str:
    return format_decimal(value)


@dataclass(frozen=True)
class Count:
    """What a stocktake or sold-out did: on hand, what open orders hold of it, and what is for sale."""

    on_hand: Decimal
    promised: Decimal
    available: Decimal
    open_orders: int


def allocate(counted: Decimal, open_orders: Iterable[tuple[int, Decimal]]) -> dict[int, Decimal]:
    """Split a counted quantity over open orders (id, quantity), oldest first: what each then holds."""
    rest = counted
    held: dict[int, Decimal] = {}
    for order_id, quantity in open_orders:
        share = min(quantity, rest)
        held[order_id] = share
        rest -= share
    return held


def _open_orders(session: Session, listing_id: int) -> list[tuple[int, Decimal, Decimal]]:
    rows = session.execute(
        select(Order.id, Order.quantity, Order.reserved_quantity)
        .where(Order.listing_id == listing_id, Order.status.in_(OPEN_STATUSES))
        .order_by(Order.id)
    ).all()
    return [(oid, Decimal(q), Decimal(h)) for oid, q, h in rows]


def promised_of(session: Session, listing_id: int, counted: Decimal) -> Decimal:
    """How much of a counted quantity open orders would claim (for a read-back before the stocktake)."""
    orders = _open_orders(session, listing_id)
    return sum(allocate(counted, [(o, q) for o, q, _h in orders]).values(), ZERO)


def _set_held(session: Session, held: dict[int, Decimal], current: dict[int, Decimal]) -> None:
    changed = [{"p_id": oid, "p_held": h} for oid, h in held.items() if h != current[oid]]
    if changed:
        table = Order.__table__
        session.execute(
            table.update()  # type: ignore[attr-defined]
            # No status filter needed (and none possible in an executemany IN): the caller holds the listing,
            # and an order only leaves the open statuses after taking its listing (close_order).
            .where(table.c.id == bindparam("p_id"))  # type: ignore[attr-defined]
            .values(reserved_quantity=bindparam("p_held", type_=table.c.reserved_quantity.type)),  # type: ignore[attr-defined]
            changed,
        )


def stocktake(session: Session, listing_id: int, counted: Decimal, user_id: int | None, reason: str = "") -> Count:
    """还剩X: X is on hand; open orders claim it first and the rest is available (STOCKTAKE)."""
    now = lock(session, listing_id)
    orders = _open_orders(session, listing_id)
    held = allocate(counted, [(o, q) for o, q, _h in orders])
    promised = sum(held.values(), ZERO)
    available = counted - promised
    _set_held(session, held, {o: h for o, _q, h in orders})
    planned = now.plan_raise(available)
    change_listing(session, listing_id, available - now.available, planned)
    note = (
        f"清点还剩{_fmt(counted)}，其中{_fmt(promised)}已被未完成订单预订" if promised else f"清点还剩{_fmt(counted)}"
    )
    record(
        session,
        [
            Move(
                listing_id,
                MoveKind.STOCKTAKE,
                quantity=available - now.available,
                reserved_change=promised - now.held,
                planned_change=planned,
                user_id=user_id,
                reason=reason or note,
            )
        ],
    )
    return Count(counted, promised, available, len(orders))


def sold_out(session: Session, listing_id: int, user_id: int | None, reason: str = "卖完了") -> Count:
    """卖完了: available 0; open orders stay valid but what they held no longer comes back (SOLD_OUT)."""
    now = lock(session, listing_id)
    orders = _open_orders(session, listing_id)
    _set_held(session, {o: ZERO for o, _q, _h in orders}, {o: h for o, _q, h in orders})
    change_listing(session, listing_id, -now.available)
    record(
        session,
        [
            Move(
                listing_id,
                MoveKind.SOLD_OUT,
                quantity=-now.available,
                reserved_change=-now.held,
                user_id=user_id,
                reason=reason,
            )
        ],
    )
    return Count(ZERO, now.open_quantity, ZERO, len(orders))


def new_batch(session: Session, listing_id: int, quantity: Decimal, user_id: int | None, reason: str = "") -> None:
    """新到X: available and planned +X by one atomic increment (NEW_BATCH)."""
    change_listing(session, listing_id, quantity, quantity)
    record(
        session,
        [
            Move(
                listing_id,
                MoveKind.NEW_BATCH,
                quantity=quantity,
                planned_change=quantity,
                user_id=user_id,
                reason=reason or f"新到{_fmt(quantity)}",
            )
        ],
    )


def correct(session: Session, listing_id: int, available: Decimal, user_id: int | None, reason: str) -> Decimal:
    """An admin sets the available figure, with a reason (CORRECTION); returns the change."""
    if available < 0:
        raise LedgerError("可售数量不能小于0。")
    now = lock(session, listing_id)
    planned = now.plan_raise(available)
    change_listing(session, listing_id, available - now.available, planned)
    record(
        session,
        [
            Move(
                listing_id,
                MoveKind.CORRECTION,
                quantity=available - now.available,
                planned_change=planned,
                user_id=user_id,
                reason=reason,
            )
        ],
    )
    return available - now.available


@dataclass(frozen=True)
class Mismatch:
    """A listing whose cached figures differ from its ledger."""

    listing_id: int
    available: Decimal
    ledger_available: Decimal
    planned: Decimal
    ledger_planned: Decimal
    held: Decimal
    ledger_held: Decimal


def mismatches(session: Session, listing_ids: Sequence[int] | None = None) -> list[Mismatch]:
    """Listings whose available, planned or held figure is not the sum of their moves."""
    moves = (
        select(
            StockMove.listing_id.label("lid"),
            func.sum(StockMove.quantity).label("q"),
            func.sum(StockMove.planned_change).label("p"),
            func.sum(StockMove.reserved_change).label("r"),
        )
        .group_by(StockMove.listing_id)
        .subquery()
    )
    held = (
        select(Order.listing_id.label("lid"), func.sum(Order.reserved_quantity).label("h"))
        .where(Order.status.in_(OPEN_STATUSES))
        .group_by(Order.listing_id)
        .subquery()
    )
    query = (
        select(
            Listing.id, Listing.remaining_quantity, Listing.planned_quantity, moves.c.q, moves.c.p, moves.c.r, held.c.h
        )
        .outerjoin(moves, moves.c.lid == Listing.id)
        .outerjoin(held, held.c.lid == Listing.id)
        .order_by(Listing.id)
    )
    if listing_ids is not None:
        query = query.where(Listing.id.in_(listing_ids))
    found = []
    for lid, available, planned, q, p, r, h in session.execute(query):
        row = Mismatch(lid, available, _decimal(q), planned, _decimal(p), _decimal(h), _decimal(r))
        if (row.available, row.planned, row.held) != (row.ledger_available, row.ledger_planned, row.ledger_held):
            found.append(row)
    return found
