"""Personal data removed once it is no longer needed: old conversations, and buyers' phones of closed orders.

`purge(session, before)` deletes Rasa's conversation events (the `events` table of the SQL tracker store)
older than `before` and blanks the buyer's phone of every closed order (paid, cancelled, rejected) last
changed before it, in the order, in the buying unit once none of its orders keeps a phone, and in the push
texts sent about those orders. Nothing a form or the overview counts is touched: sale records, amounts,
quantities, buyers' names and categories stay as they are.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, delete, inspect, select, update
from sqlalchemy.orm import Session

from fupin.db import make_engine, make_session_factory
from fupin.models import Buyer, Notification, Order
from fupin.orders.pushes import OrderPushKind
from fupin.settings import TIMEZONE, Settings
from fupin.values import OrderStatus

logger = logging.getLogger(__name__)

CLOSED = (OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED)
PHONE_REMOVED = "（已删除）"
# Rasa's SQL tracker store table, as far as the purge needs it (Rasa creates it: rasa.core.tracker_store).
EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("timestamp", Float),
)


@dataclass(frozen=True)
class PurgeResult:
    """What a purge removed."""

    events: int
    orders: int
    buyers: int
    pushes: int

    def lines(self) -> list[str]:
        """The counts in Chinese, for the operator."""
        return [
            f"删除对话记录{self.events}条",
            f"清除已结束订单的采购方电话{self.orders}个",
            f"清除采购单位电话{self.buyers}个",
            f"清除推送消息中的电话{self.pushes}条",
        ]


def purge(session: Session, before: datetime, events: Session | None = None) -> PurgeResult:
    """Remove conversation events and closed orders' buyer phones older than `before` (aware).

    `events`: the session of the conversation store's database when it is not the application's.
    """
    if before.tzinfo is None:
        raise ValueError("before must be an aware datetime")
    removed_events = delete_events(events or session, before)
    phones = dict(
        session.execute(
            select(Order.order_no, Order.phone).where(
                Order.status.in_([s.value for s in CLOSED]), Order.updated_at < before, Order.phone != ""
            )
        ).all()
    )
    if phones:
        session.execute(
            update(Order)
            .where(Order.order_no.in_(list(phones)))
            .values(phone="")
            .execution_options(synchronize_session=False)
        )
    pushes = _blank_pushes(session, phones, before)
    # A buying unit's phone was copied from its first order: it goes when no order keeps one.
    buyers = session.execute(
        update(Buyer)
        .where(
            Buyer.phone != "", Buyer.created_at < before, ~Buyer.id.in_(select(Order.buyer_id).where(Order.phone != ""))
        )
        .values(phone="")
        .execution_options(synchronize_session=False)
    ).rowcount
    result = PurgeResult(events=removed_events, orders=len(phones), buyers=buyers, pushes=pushes)
    logger.info("privacy purge before %s: %s", before.isoformat(), result)
    return result


def delete_events(session: Session, before: datetime) -> int:
    """Delete the conversation events older than `before`; 0 when there is no conversation table."""
    if not inspect(session.connection()).has_table(EVENTS.name):
        return 0
    return int(session.execute(delete(EVENTS).where(EVENTS.c.timestamp < before.timestamp())).rowcount)


def _blank_pushes(session: Session, phones: dict[str, str], before: datetime) -> int:
    # An order's pushes were written as it changed, so all before its last change (and `before`).
    if not phones:
        return 0
    kinds = [kind.value for kind in OrderPushKind]
    rows = session.execute(
        select(Notification.id, Notification.dedupe_key, Notification.text).where(
            Notification.kind.in_(kinds), Notification.created_at < before
        )
    ).all()
    blanked = 0
    for push_id, key, text in rows:
        # The dedupe key names the order: "new_order:XF…:user" or "order_status:XF…:STATUS:user".
        order_no = (key or "").split(":")[1] if ":" in (key or "") else ""
        phone = phones.get(order_no)
        if phone and phone in text:
            session.execute(
                update(Notification).where(Notification.id == push_id).values(text=text.replace(phone, PHONE_REMOVED))
            )
            blanked += 1
    return blanked


def months_before(moment: datetime, months: int) -> datetime:
    """The same local time `months` calendar months earlier (the 31st becomes the month's last day)."""
    local = moment.astimezone(TIMEZONE)
    year, month = divmod(local.year * 12 + local.month - 1 - months, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def start_of(day: date) -> datetime:
    """Midnight of a day in Asia/Shanghai, aware."""
    return datetime.combine(day, time(0), tzinfo=TIMEZONE)


@contextmanager
def _events_session(settings: Settings, session: Session) -> Iterator[Session]:
    # The conversation store lives in the application's database unless TRACKER_STORE_URL names another SQL
    # database ("memory" keeps nothing beyond the process; an old table in the application's is purged).
    url = settings.tracker_store_url
    if not url or url in ("memory", settings.database_url):
        yield session
        return
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as events, events.begin():
            yield events
    finally:
        engine.dispose()


def purge_database(settings: Settings, before: datetime) -> PurgeResult:
    """Run `purge` on the configured databases, one transaction each (for the command line and the job)."""
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session, session.begin(), _events_session(settings, session) as events:
            return purge(session, before, events)
    finally:
        engine.dispose()
