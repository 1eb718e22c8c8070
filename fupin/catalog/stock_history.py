"""A listing's stock history: every move of its ledger with running balances, and its Chinese text."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.catalog.listings import canonical_product_name
from fupin.catalog.search import CatalogNames
from fupin.catalog.stock import Purpose, candidates
from fupin.models import CatalogImport, Listing, MoveKind, Order, Product, StockMove, Township, User
from fupin.outreach.users import Identity
from fupin.settings import TIMEZONE
from fupin.values import format_decimal

logger = logging.getLogger(__name__)

KIND_LABELS: dict[MoveKind, str] = {
    MoveKind.OPENING: "期初",
    MoveKind.PLAN: "附件1导入",
    MoveKind.RESERVE: "预订",
    MoveKind.RELEASE: "释放",
    MoveKind.DELIVER: "送达",
    MoveKind.STOCKTAKE: "盘点",
    MoveKind.NEW_BATCH: "新到",
    MoveKind.SOLD_OUT: "卖完",
    MoveKind.CORRECTION: "更正",
}


@dataclass(frozen=True)
class HistoryLine:
    """One move and the balances after it."""

    at: datetime
    kind: MoveKind
    quantity: Decimal
    reserved_change: Decimal
    planned_change: Decimal
    available: Decimal
    held: Decimal
    planned: Decimal
    reason: str
    who: str = ""
    order_no: str | None = None
    import_file: str | None = None


@dataclass(frozen=True)
class StockHistory:
    """A listing's moves, oldest first, with running balances."""

    listing_id: int
    label: str
    unit: str
    lines: list[HistoryLine]

    @property
    def available(self) -> Decimal:
        """The ledger's available balance (equal to the listing's cached figure)."""
        return self.lines[-1].available if self.lines else Decimal(0)

    def text(self, last: int | None = None) -> str:
        """The history in Chinese, times in Asia/Shanghai; `last` keeps only the most recent moves."""
        shown = self.lines[-last:] if last else self.lines
        head = f"{self.label} 库存记录（单位：{self.unit}，共{len(self.lines)}条）"
        if not self.lines:
            return head + "\n（还没有记录）"
        out = [head]
        if len(shown) < len(self.lines):
            out.append(f"……（只显示最近{len(shown)}条）")
        out.extend(line_text(line) for line in shown)
        return "\n".join(out)


def _signed(value: Decimal) -> str:
    return ("+" if value > 0 else "") + format_decimal(value)


def line_text(line: HistoryLine, with_time: bool = True) -> str:
    """One move in Chinese: what changed, the balances after it, why and who (and when, in Asia/Shanghai)."""
    changes = [
        f"{name}{_signed(value)}"
        for name, value in (("可售", line.quantity), ("预订", line.reserved_change), ("计划", line.planned_change))
        if value
    ]
    balance = (
        f"可售{format_decimal(line.available)} 已预订{format_decimal(line.held)} 计划{format_decimal(line.planned)}"
    )
    notes = [line.reason] if line.reason else []
    if line.import_file:
        notes.append(f"文件：{line.import_file}")
    if line.who:
        notes.append(f"经办：{line.who}")
    text = f"{KIND_LABELS[line.kind]} {' '.join(changes) or '无变化'} → {balance}  {'；'.join(notes)}".rstrip()
    return f"{line.at.astimezone(TIMEZONE):%Y-%m-%d %H:%M} {text}" if with_time else text


def stock_history(session: Session, listing_id: int) -> StockHistory | None:
    """Every move of a listing's stock with running balances, or None if there is no such listing."""
    listing = session.get(Listing, listing_id)
    if listing is None:
        return None
    rows = session.execute(
        select(StockMove, User.display_name, User.external_id, Order.order_no, CatalogImport.file_name)
        .outerjoin(User, StockMove.user_id == User.id)
        .outerjoin(Order, StockMove.order_id == Order.id)
        .outerjoin(CatalogImport, StockMove.import_id == CatalogImport.id)
        .where(StockMove.listing_id == listing_id)
        .order_by(StockMove.id)
    ).all()
    available = held = planned = Decimal(0)
    lines = []
    for move, display_name, external_id, order_no, file_name in rows:
        available += move.quantity
        held += move.reserved_change
        planned += move.planned_change
        lines.append(
            HistoryLine(
                at=move.created_at,
                kind=MoveKind(move.kind),
                quantity=move.quantity,
                reserved_change=move.reserved_change,
                planned_change=move.planned_change,
                available=available,
                held=held,
                planned=planned,
                reason=move.reason,
                who=display_name or external_id or "",
                order_no=order_no,
                import_file=file_name,
            )
        )
    who = f" {listing.household.name}" if listing.household else ""
    variety = f"（{listing.variety}）" if listing.variety else ""
    label = f"#{listing.id} {listing.place_label}{who} {listing.product.name}{variety}"
    return StockHistory(listing.id, label, listing.unit, lines)


def listings_of(session: Session, township: str, product: str) -> list[int]:
    """The ids of a township's listings of a product (written name or alias), in catalogue order."""
    name = canonical_product_name(session, product)
    if name is None:
        return []
    return list(
        session.scalars(
            select(Listing.id)
            .join(Product, Listing.product_id == Product.id)
            .join(Township, Listing.township_id == Township.id)
            .where(Product.name == name, Township.name == township.strip())
            .order_by(Listing.id)
        )
    )


def history_reply(
    session: Session,
    identity: Identity,
    product: str,
    place: str | None = None,
    last: int = 10,
    names: CatalogNames | None = None,
) -> str:
    """The chat answer to "土豆的库存记录": the recent moves of each listing this person manages; raises StockError.

    `names`: the process's cached vocabulary and gazetteer (read afresh from the database without it).
    """
    found = candidates(session, identity, product, place, names=names, purpose=Purpose.HISTORY)
    histories = [h for c in found if (h := stock_history(session, c.listing_id)) is not None]
    return "\n\n".join(h.text(last=last) for h in histories)
