"""Reading complaints: the county's list (by status and township), and the quarter's figures for the overview."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from fupin.complaints.states import COMPLAINT_PARTS, NOT_CLOSED, SETTLED, UNSETTLED, ComplaintError
from fupin.models import Complaint, ComplaintEvent, Listing, Order, Township, User, utcnow
from fupin.places import Gazetteer
from fupin.settings import TIMEZONE
from fupin.values import ComplaintCategory, ComplaintStatus

logger = logging.getLogger(__name__)

SETTLE_WITHIN_DAYS = 3  # the overview's figure: complaints answered or closed within this many days of filing


@dataclass(frozen=True)
class ComplaintView:
    """A complaint as the county's list shows it."""

    number: str
    order_no: str
    buyer: str
    township: str
    village: str
    product: str
    category: ComplaintCategory
    status: ComplaintStatus
    created: datetime  # aware, UTC; show it in Asia/Shanghai
    handler: str
    days_open: int  # whole days from filing to closing, or to now while not closed
    last_note: str
    text: str

    def line(self) -> str:
        """One line for a message or the console."""
        handler = f"，处理人{self.handler}" if self.handler else ""
        note = f"，最新答复：{self.last_note}" if self.last_note else ""
        return (
            f"{self.number} 订单{self.order_no} {self.buyer} {self.product}（{self.township}{self.village}）"
            f"【{self.category.value}】【{self.status.value}】{self.created.astimezone(TIMEZONE):%Y-%m-%d}，"
            f"{self.days_open}天{handler}{note}"
        )


def user_label(user: User | None) -> str:
    """How a user is named in lists: their display name, else channel:id; empty for nobody."""
    if user is None:
        return ""
    return user.display_name or f"{user.channel}:{user.external_id}"


def _last_note(events: list[ComplaintEvent]) -> str:
    return next((e.note for e in reversed(events) if e.note), "")


def township_id_named(session: Session, name: str) -> int:
    """The id of the township a name denotes (龙角镇, 龙角); raises ComplaintError for any other name."""
    township = Gazetteer.load(session).township_named(name)
    if township is None:
        raise ComplaintError(f"云阳县没有叫“{name}”的乡镇（街道），请写全称，比如“龙角镇”。")
    return township.id


def view_of(complaint: Complaint, now: datetime | None = None) -> ComplaintView:
    """The view of a complaint (its events loaded)."""
    order = complaint.order
    listing = order.listing
    status = ComplaintStatus(complaint.status)
    events = list(complaint.events)
    end = events[-1].at if status is ComplaintStatus.CLOSED and events else (now or utcnow())
    return ComplaintView(
        number=complaint.complaint_no,
        order_no=order.order_no,
        buyer=order.buyer.name,
        township=listing.township.name,
        village=listing.village.short_name if listing.village else "",
        product=listing.product.name + (f"（{listing.variety}）" if listing.variety else ""),
        category=ComplaintCategory(complaint.category),
        status=status,
        created=complaint.created_at,
        handler=user_label(complaint.handler),
        days_open=max((end - complaint.created_at).days, 0),
        last_note=_last_note(events),
        text=complaint.text,
    )


def complaints_for(
    session: Session, open_only: bool = False, township: str | None = None, now: datetime | None = None
) -> list[ComplaintView]:
    """Complaints oldest first: all, or only those not closed (未结案); of one township's listings when named.

    Raises ComplaintError for a township name the county does not have.
    """
    query = (
        select(Complaint)
        .join(Order, Complaint.order_id == Order.id)
        .join(Listing, Order.listing_id == Listing.id)
        .options(*COMPLAINT_PARTS, selectinload(Complaint.events))
        .order_by(Complaint.created_at, Complaint.id)
    )
    if township is not None:
        query = query.where(Listing.township_id == township_id_named(session, township))
    if open_only:
        query = query.where(Complaint.status.in_([s.value for s in NOT_CLOSED]))
    return [view_of(c, now) for c in session.scalars(query).unique()]


def unsettled_since(session: Session, cutoff: datetime) -> list[Complaint]:
    """Complaints filed before `cutoff` still waiting for action (待处理, 处理中, 已升级), oldest first."""
    return list(
        session.scalars(
            select(Complaint)
            .where(Complaint.status.in_([s.value for s in UNSETTLED]), Complaint.created_at < cutoff)
            .options(*COMPLAINT_PARTS)
            .order_by(Complaint.created_at, Complaint.id)
        ).unique()
    )


@dataclass(frozen=True)
class TownshipComplaints:
    """One township's complaints of a period, by category."""

    township: str
    by_category: dict[ComplaintCategory, int]

    @property
    def total(self) -> int:
        """All its complaints."""
        return sum(self.by_category.values())


@dataclass(frozen=True)
class ComplaintFigures:
    """Complaints filed in a period: by township (code order) and category, and how many were settled in time."""

    start: date
    end: date  # the day after the period
    townships: list[TownshipComplaints] = field(default_factory=list)
    settled_in_time: int = 0

    @property
    def total(self) -> int:
        """Every complaint filed in the period."""
        return sum(t.total for t in self.townships)

    @property
    def by_category(self) -> dict[ComplaintCategory, int]:
        """The county's complaints by category, every category listed."""
        counts = dict.fromkeys(ComplaintCategory, 0)
        for township in self.townships:
            for category, count in township.by_category.items():
                counts[category] += count
        return counts

    @property
    def settled_share(self) -> Decimal | None:
        """The share settled (已解决 or 已结案) within SETTLE_WITHIN_DAYS of filing; None without complaints."""
        return None if not self.total else Decimal(self.settled_in_time) / Decimal(self.total)

    def summary_line(self) -> str:
        """The figures in one Chinese sentence."""
        if not self.total:
            return "质量投诉：0件。"
        share = self.settled_share or Decimal(0)
        categories = "、".join(f"{c.value}{n}件" for c, n in self.by_category.items() if n)
        return (
            f"质量投诉{self.total}件（{categories}），{SETTLE_WITHIN_DAYS}天内解决{self.settled_in_time}件，"
            f"占{share * 100:.1f}%。"
        )


def _local_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=TIMEZONE)


def complaint_figures(session: Session, start_date: date, end_date: date) -> ComplaintFigures:
    """Complaints filed on start_date <= day < end_date (Asia/Shanghai) by township and category, and the number
    settled (first reached 已解决 or 已结案) within SETTLE_WITHIN_DAYS days of filing."""
    rows = session.execute(
        select(Complaint.id, Complaint.category, Complaint.created_at, Listing.township_id)
        .join(Order, Complaint.order_id == Order.id)
        .join(Listing, Order.listing_id == Listing.id)
        .where(Complaint.created_at >= _local_start(start_date), Complaint.created_at < _local_start(end_date))
    ).all()
    settled_at: dict[int, datetime] = {}
    ids = [row[0] for row in rows]
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):  # bounded IN lists
        events = session.execute(
            select(ComplaintEvent.complaint_id, ComplaintEvent.at)
            .where(ComplaintEvent.complaint_id.in_(chunk), ComplaintEvent.to_status.in_([s.value for s in SETTLED]))
            .order_by(ComplaintEvent.id)
        )
        for complaint_id, at in events:
            settled_at.setdefault(complaint_id, at)
    names = {row[0]: row[1] for row in session.execute(select(Township.id, Township.name).order_by(Township.code))}
    counts: dict[str, dict[ComplaintCategory, int]] = defaultdict(lambda: dict.fromkeys(ComplaintCategory, 0))
    in_time = 0
    limit = timedelta(days=SETTLE_WITHIN_DAYS)
    for complaint_id, category, created, township_id in rows:
        counts[names[township_id]][ComplaintCategory(category)] += 1
        settled = settled_at.get(complaint_id)
        if settled is not None and settled - created <= limit:
            in_time += 1
    # In the townships' code order, as the overview lists them; townships without complaints are left out.
    townships = [TownshipComplaints(name, counts[name]) for name in names.values() if name in counts]
    return ComplaintFigures(start_date, end_date, townships, in_time)
