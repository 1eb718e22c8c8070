"""Scheduled reminders of the plan: report deadlines, the quarterly overview, stale catalogues, unpaid orders.

The calendar (`calendar`) lists occurrences — kind, due time in Asia/Shanghai, period, offset — from
the plan's dates; `upcoming` adds who each one is for; `run_due` writes the due ones to the push
outbox (`fupin.outreach.notifications`). Every push carries the dedupe key (kind, period, offset, recipient),
written in the outbox before anything is sent, so a reminder goes out at most once whatever restarts,
catch-ups after downtime or second processes do. Knows nothing of Telegram or APScheduler.

Catch-up policy: `run_due(now, catch_up)` writes the occurrences due in (now - catch_up, now]; an
occurrence older than that is not sent any more (a reminder days late misleads more than it helps):
it is logged and returned as skipped.
"""

from __future__ import annotations

import bisect
import logging
import shutil
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.models import Listing, Notification, Order, Product, Township, User, Village, utcnow
from fupin.orders.lifecycle import view
from fupin.outreach.notifications import enqueue
from fupin.periods import Period, parse_period, quarter_of
from fupin.reporting.kinds import ReportKind
from fupin.reporting.overview_workbook import write_overview
from fupin.reporting.quarter import known_lead_units
from fupin.reporting.submissions import submitted
from fupin.settings import PROJECT_ROOT, TIMEZONE, Settings
from fupin.values import OrderStatus, Role, format_yuan

logger = logging.getLogger(__name__)

# Kinds of reminder; each is also the outbox row's `kind`.
SALES = "reminder_sales"  # 附件2 to a township's contacts
PURCHASES = "reminder_purchases"  # 附件3 to a lead unit's contacts
OVERVIEW = "reminder_overview"  # the quarter's overview to the county admins
CATALOGUE = "reminder_catalogue"  # listings not updated for a month, to their contacts
PAYMENT = "reminder_payment"  # delivered but unpaid orders, to the buyer who ordered
PAYMENT_ADMIN = "reminder_payment_admin"  # the list of those orders, to the county admins
KINDS: tuple[str, ...] = (SALES, PURCHASES, OVERVIEW, CATALOGUE, PAYMENT, PAYMENT_ADMIN)
KIND_LABELS: dict[str, str] = {
    SALES: "附件2销售表报送提醒",
    PURCHASES: "附件3采购表报送提醒",
    OVERVIEW: "季度消费扶贫情况通报",
    CATALOGUE: "供应目录更新提醒",
    PAYMENT: "付款提醒",
    PAYMENT_ADMIN: "拖欠货款清单",
}
# Kinds fixed by the plan's dates: listed even when nobody is left to remind.
DATED_KINDS = frozenset({SALES, PURCHASES, OVERVIEW})

DEFAULT_CATCH_UP = timedelta(days=1)
DEFAULT_LOOKBACK = timedelta(days=7)
MAX_LISTED = 20  # lines of listings or orders in one message; the rest are counted

OverviewWriter = Callable[[Session, Period, Path], Sequence[Path]]


@dataclass(frozen=True)
class ReminderConfig:
    """When reminders fall due and what counts as late (from Settings)."""

    at: time = time(9, 0)
    report_days_before: tuple[int, ...] = (10, 3, 1)
    overview_day: int = 10
    catalogue_stale_days: int = 30
    payment_overdue_days: int = 30
    payment_weekday: int = 1  # ISO weekday: 1 = Monday
    overview_dir: Path = PROJECT_ROOT / "var" / "overviews"

    @classmethod
    def from_settings(cls, settings: Settings) -> ReminderConfig:
        """The reminder part of the settings."""
        return cls(
            at=settings.reminder_time,
            report_days_before=settings.report_reminder_days,
            overview_day=settings.overview_day,
            catalogue_stale_days=settings.catalogue_stale_days,
            payment_overdue_days=settings.payment_overdue_days,
            payment_weekday=settings.payment_reminder_weekday,
            overview_dir=settings.overview_dir,
        )


@dataclass(frozen=True)
class Recipient:
    """One user a reminder goes to, with what it is about for them."""

    user_id: int
    channel: str
    external_id: str
    name: str
    about: str = ""  # the township, lead unit or buying unit concerned
    items: tuple[str, ...] = ()  # the listings, orders or figures the message lists

    @property
    def label(self) -> str:
        """How the command line shows the recipient: 龙角镇 李某（telegram:123）."""
        who = self.name or self.external_id
        return f"{self.about + ' ' if self.about else ''}{who}（{self.channel}:{self.external_id}）"


@dataclass(frozen=True)
class Occurrence:
    """One reminder of the calendar: kind, due time (Asia/Shanghai), period, offset and recipients."""

    kind: str
    due: datetime
    period: str  # 2019Q3 for reports and the overview, 2019-09 for catalogues, 2019-W38 for payments
    offset: int = 0  # days before the deadline (report reminders); 0 otherwise
    deadline: date | None = None  # the report deadline, or the overview's date
    recipients: tuple[Recipient, ...] = ()

    def key(self, user_id: int) -> str:
        """The outbox dedupe key: one push per (kind, period, offset, recipient)."""
        return f"{self.kind}:{self.period}:{self.offset}:u{user_id}"

    @property
    def label(self) -> str:
        """The kind in Chinese."""
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class RunResult:
    """What one `run_due` did."""

    enqueued: tuple[str, ...] = ()  # dedupe keys written by this run
    duplicates: int = 0  # pushes already written by an earlier run or another process
    skipped: tuple[Occurrence, ...] = ()  # missed by more than the catch-up window: not sent, logged
    due: tuple[Occurrence, ...] = field(default=(), repr=False)  # the occurrences in the window


def fmt_date(day: date) -> str:
    """A date as people write it: 2019年9月30日."""
    return f"{day.year}年{day.month}月{day.day}日"


def _iso_week(day: date) -> str:
    iso = day.isocalendar()
    return f"{iso[0]}-W{iso[1]:02d}"


def calendar(start: date, end: date, config: ReminderConfig | None = None) -> list[Occurrence]:
    """Every occurrence due on the days start <= day < end, without recipients, in due order."""
    config = config or ReminderConfig()
    found: list[Occurrence] = []
    day = start
    while day < end:
        due = datetime.combine(day, config.at, tzinfo=TIMEZONE)
        for offset in sorted(set(config.report_days_before), reverse=True):
            deadline = day + timedelta(days=offset)
            quarter = quarter_of(deadline)
            if quarter.deadline == deadline:
                found.append(Occurrence(SALES, due, quarter.code, offset, deadline))
                found.append(Occurrence(PURCHASES, due, quarter.code, offset, deadline))
        if day.month in (1, 4, 7, 10) and day.day == config.overview_day:
            found.append(Occurrence(OVERVIEW, due, quarter_of(day).previous().code, 0, day))
        # Checked daily, sent at most once a month per contact (the key's period is the month).
        found.append(Occurrence(CATALOGUE, due, f"{day:%Y-%m}", 0))
        if day.isoweekday() == config.payment_weekday:
            found.append(Occurrence(PAYMENT, due, _iso_week(day), 0))
            found.append(Occurrence(PAYMENT_ADMIN, due, _iso_week(day), 0))
        day += timedelta(days=1)
    return sorted(found, key=lambda o: (o.due, KINDS.index(o.kind), -o.offset))


@dataclass(frozen=True)
class _StaleListing:
    id: int
    township_id: int
    village_id: int | None
    product: str
    village: str
    updated_at: datetime


class _Audience:
    """Who reminders are for, read from the database once per call and kept only for that call."""

    def __init__(self, session: Session, config: ReminderConfig, now: datetime, until: datetime) -> None:
        self.session = session
        self.config = config
        self.now = now
        self.until = max(now, until)  # the latest reference time asked about
        self._users: list[User] | None = None
        self._submitted: dict[tuple[str, str], set[str]] = {}
        self._stale: list[_StaleListing] | None = None
        self._overdue: list[Order] | None = None
        self._townships: dict[int, str] | None = None
        self._catalogue_by_count: dict[int, list[Recipient]] = {}
        self._stale_times: list[datetime] | None = None

    def resolve(self, occurrence: Occurrence, as_of: datetime | None = None) -> Occurrence:
        """The occurrence with its recipients as of `as_of` (default: its due time, or now when later)."""
        reference = as_of or max(occurrence.due, self.now)
        if occurrence.kind == SALES:
            recipients = self._report_sales(occurrence)
        elif occurrence.kind == PURCHASES:
            recipients = self._report_purchases(occurrence)
        elif occurrence.kind == OVERVIEW:
            recipients = self._overview(occurrence)
        elif occurrence.kind == CATALOGUE:
            recipients = self._catalogue(reference)
        elif occurrence.kind == PAYMENT:
            recipients = self._payment(reference)
        else:
            recipients = self._payment_admin(reference)
        return replace(occurrence, recipients=tuple(sorted(recipients, key=lambda r: r.user_id)))

    def users(self, role: Role) -> list[User]:
        """Users of a role, loaded once."""
        if self._users is None:
            roles = (Role.CONTACT.value, Role.LEAD.value, Role.ADMIN.value)
            self._users = list(self.session.scalars(select(User).where(User.role.in_(roles)).order_by(User.id)))
        return [u for u in self._users if u.role == role.value]

    def submitted(self, kind: str, period: Period) -> set[str]:
        """Who submitted a report for the period, read once per call."""
        if (kind, period.code) not in self._submitted:
            self._submitted[(kind, period.code)] = submitted(self.session, kind, period)
        return self._submitted[(kind, period.code)]

    def townships(self) -> dict[int, str]:
        """Township names by id, in the order of their codes."""
        if self._townships is None:
            rows = self.session.execute(select(Township.id, Township.name).order_by(Township.code)).all()
            self._townships = {row[0]: row[1] for row in rows}
        return self._townships

    def _recipient(self, user: User, about: str = "", items: Iterable[str] = ()) -> Recipient:
        return Recipient(user.id, user.channel, user.external_id, user.display_name, about, tuple(items))

    def _report_sales(self, occurrence: Occurrence) -> list[Recipient]:
        period = _period(occurrence)
        done = self.submitted(ReportKind.SALES, period)
        names = self.townships()
        contacts = self.users(Role.CONTACT)
        found = []
        for township_id, name in names.items():
            if name in done:
                continue
            theirs = [u for u in contacts if u.township_id == township_id]
            # The township's own contacts report 附件2; its village contacts only when it has none.
            reporters = [u for u in theirs if u.village_id is None] or theirs
            found += [self._recipient(u, name) for u in reporters]
        return found

    def _report_purchases(self, occurrence: Occurrence) -> list[Recipient]:
        done = self.submitted(ReportKind.PURCHASES, _period(occurrence))
        return [
            self._recipient(u, u.lead_unit) for u in self.users(Role.LEAD) if u.lead_unit and u.lead_unit not in done
        ]

    def _overview(self, occurrence: Occurrence) -> list[Recipient]:
        period = _period(occurrence)
        townships = list(self.townships().values())
        figures = (
            _coverage("附件2（乡镇销售表）", townships, self.submitted(ReportKind.SALES, period)),
            _coverage(
                "附件3（牵头单位采购表）",
                known_lead_units(self.session),
                self.submitted(ReportKind.PURCHASES, period),
            ),
        )
        return [self._recipient(u, "县级管理员", figures) for u in self.users(Role.ADMIN)]

    def stale_listings(self) -> list[_StaleListing]:
        """Active listings not updated for the stale period as of the latest reference time."""
        if self._stale is None:
            cutoff = self.until - timedelta(days=self.config.catalogue_stale_days)
            rows = self.session.execute(
                select(
                    Listing.id,
                    Listing.township_id,
                    Listing.village_id,
                    Product.name,
                    Listing.variety,
                    Village.short_name,
                    Listing.updated_at,
                )
                .join(Product, Product.id == Listing.product_id)
                .outerjoin(Village, Village.id == Listing.village_id)
                .where(Listing.active.is_(True), Listing.updated_at < cutoff)
                .order_by(Listing.updated_at, Listing.id)
            ).all()
            self._stale = [
                _StaleListing(
                    row[0], row[1], row[2], row[3] + (f"（{row[4]}）" if row[4] else ""), row[5] or "", row[6]
                )
                for row in rows
            ]
        return self._stale

    def _catalogue(self, reference: datetime) -> list[Recipient]:
        stale = self.stale_listings()
        cutoff = reference - timedelta(days=self.config.catalogue_stale_days)
        # Listings are sorted by update time: those stale at `reference` are a prefix of the list, and
        # days with the same prefix (most days of a long listing) have the same recipients.
        if self._stale_times is None:
            self._stale_times = [s.updated_at for s in stale]
        count = bisect.bisect_left(self._stale_times, cutoff)
        if count not in self._catalogue_by_count:
            self._catalogue_by_count[count] = self._catalogue_of(stale[:count])
        return self._catalogue_by_count[count]

    def _catalogue_of(self, stale: Sequence[_StaleListing]) -> list[Recipient]:
        names = self.townships()
        by_place: dict[int, list[User]] = {}
        for contact in self.users(Role.CONTACT):
            by_place.setdefault(contact.township_id or 0, []).append(contact)
        stale_by_user: dict[int, list[_StaleListing]] = {}
        users: dict[int, User] = {}
        for listing in stale:
            # Same rule as the order pushes: the village's contacts answer for it, else the township's.
            of_place = by_place.get(listing.township_id, [])
            village = [u for u in of_place if u.village_id is not None and u.village_id == listing.village_id]
            for user in village or [u for u in of_place if u.village_id is None]:
                stale_by_user.setdefault(user.id, []).append(listing)
                users[user.id] = user
        found = []
        for user_id, theirs in stale_by_user.items():
            user = users[user_id]
            place = names.get(user.township_id or 0, "")
            if user.village_id is not None:
                village_row = self.session.get(Village, user.village_id)
                place += village_row.short_name if village_row else ""
            lines = [f"{s.product}（{names.get(s.township_id, '')}{s.village}）" for s in theirs]
            found.append(self._recipient(user, place, lines))
        return found

    def overdue_orders(self) -> list[Order]:
        """Orders delivered but not paid for the overdue period as of the latest reference time."""
        if self._overdue is None:
            cutoff = self.until - timedelta(days=self.config.payment_overdue_days)
            self._overdue = list(
                self.session.scalars(
                    select(Order)
                    .where(Order.status == OrderStatus.DELIVERED.value, Order.updated_at <= cutoff)
                    .order_by(Order.updated_at, Order.id)
                )
            )
        return self._overdue

    def _overdue_at(self, reference: datetime) -> list[Order]:
        cutoff = reference - timedelta(days=self.config.payment_overdue_days)
        return [o for o in self.overdue_orders() if o.updated_at <= cutoff]

    def _payment(self, reference: datetime) -> list[Recipient]:
        by_user: dict[int, list[Order]] = {}
        for order in self._overdue_at(reference):
            if order.user_id is not None:
                by_user.setdefault(order.user_id, []).append(order)
        found = []
        for user_id, orders in by_user.items():
            user = self.session.get(User, user_id)
            if user is not None:
                buyers = "、".join(sorted({o.buyer.name for o in orders}))
                found.append(self._recipient(user, buyers, [_order_line(o, with_buyer=False) for o in orders]))
        return found

    def _payment_admin(self, reference: datetime) -> list[Recipient]:
        orders = self._overdue_at(reference)
        if not orders:
            return []
        lines = [_order_line(o, with_buyer=True) for o in orders]
        return [self._recipient(u, "县级管理员", lines) for u in self.users(Role.ADMIN)]


def _period(occurrence: Occurrence) -> Period:
    period = parse_period(occurrence.period)
    if period is None or period.quarter is None:
        raise ValueError(f"not a quarter: {occurrence.period}")
    return period


def _coverage(form: str, expected: Sequence[str], done: set[str]) -> str:
    missing = [name for name in expected if name not in done]
    line = f"{form}：已报送{len(expected) - len(missing)}个，未报送{len(missing)}个"
    if missing:
        shown = "、".join(missing[:MAX_LISTED])
        line += f"（{shown}{'等' if len(missing) > MAX_LISTED else ''}）"
    return line


def _order_line(order: Order, with_buyer: bool) -> str:
    shown = view(order)
    delivered = order.updated_at.astimezone(TIMEZONE).date()
    contact = f"，供货联系人{shown.contact_name} {shown.contact_phone}" if shown.contact_name else ""
    return (
        f"{shown.order_no}{' ' + shown.buyer if with_buyer else ''} {shown.product}{shown.quantity}"
        f" {format_yuan(shown.amount_fen)}元（{shown.place}，{fmt_date(delivered)}送达{contact}）"
    )


def _listed(items: Sequence[str]) -> str:
    lines = [f"- {item}" for item in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        lines.append(f"……等共{len(items)}项")
    return "\n".join(lines)


def _days_left(offset: int) -> str:
    return "今天截止" if offset == 0 else ("明天截止" if offset == 1 else f"还有{offset}天截止")


def message(occurrence: Occurrence, recipient: Recipient, config: ReminderConfig | None = None) -> str:
    """The Chinese text of a reminder for one recipient."""
    config = config or ReminderConfig()
    kind = occurrence.kind
    if kind in (SALES, PURCHASES):
        assert occurrence.deadline is not None
        period = _period(occurrence)
        deadline = fmt_date(occurrence.deadline)
        if kind == SALES:
            task = (
                f"请汇总{recipient.about}{period.label}贫困户产品销售情况，"
                "填写《乡镇（街道）贫困户产品销售情况表》（附件2）"
            )
        else:
            task = (
                f"请{recipient.about}收集汇总本系统（行业）{period.label}购买贫困户产品的采购情况，"
                "填写《牵头单位系统（行业）购买贫困户产品采购情况表》（附件3）"
            )
        return (
            f"【报送提醒】{period.label}消费扶贫数据{_days_left(occurrence.offset)}（{deadline}）。\n"
            f"{task}，于{deadline}前报送县商务委。采购对象是合作社的，请填上涉及的贫困户人数。"
        )
    if kind == OVERVIEW:
        assert occurrence.deadline is not None
        period = _period(occurrence)
        return (
            f"【季度通报】{period.label}消费扶贫总体情况已汇总，汇总表和图表见附件。\n"
            + "\n".join(recipient.items)
            + f"\n按方案，县商务委应在每季度初月10日前通报上季度消费扶贫总体情况，请于{fmt_date(occurrence.deadline)}前完成通报。"
        )
    if kind == CATALOGUE:
        return (
            f"【目录更新提醒】{recipient.about}有以下{len(recipient.items)}条供货信息已超过"
            f"{config.catalogue_stale_days}天没有更新：\n{_listed(recipient.items)}\n"
            "按方案，贫困户农特产品信息至少每月更新一次。请核对剩余数量和价格，直接发消息告诉我，"
            "例如“土豆还剩两百斤”“蜂蜜卖完了”“把脐橙的价格改成4元/斤”。"
        )
    if kind == PAYMENT:
        return (
            f"【付款提醒】以下订单已送达超过{config.payment_overdue_days}天，还没有登记付款：\n"
            f"{_listed(recipient.items)}\n"
            "请尽快向供货联系人付款，不要拖欠贫困户货款。如已付款，请告知供货联系人在“我的订单”中标记“已付款”。"
        )
    return (
        f"【拖欠货款清单】以下{len(recipient.items)}笔订单已送达超过{config.payment_overdue_days}天仍未付款：\n"
        f"{_listed(recipient.items)}\n请督促相关采购单位尽快付款，防止拖欠贫困户货款。"
    )


def existing_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """The dedupe keys among `keys` already in the outbox."""
    wanted = sorted(set(keys))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):  # bounded IN lists
        chunk = wanted[start : start + 500]
        found.update(session.scalars(select(Notification.dedupe_key).where(Notification.dedupe_key.in_(chunk))))
    return found


def upcoming(
    session: Session, start: date, days: int, config: ReminderConfig | None = None, now: datetime | None = None
) -> list[Occurrence]:
    """The reminders of `days` days from `start` and whom they would go to, as the data stand now."""
    # Recipients already in the outbox are left out; daily and weekly checks are listed only when
    # someone would get them, the plan's dated reminders always.
    config = config or ReminderConfig()
    now = now or utcnow()
    end = start + timedelta(days=days)
    audience = _Audience(session, config, now, datetime.combine(end, time.min, tzinfo=TIMEZONE))
    resolved = [audience.resolve(slot) for slot in calendar(start, end, config)]
    seen = existing_keys(session, (o.key(r.user_id) for o in resolved for r in o.recipients))
    listed = []
    for occurrence in resolved:
        fresh = [r for r in occurrence.recipients if occurrence.key(r.user_id) not in seen]
        seen.update(occurrence.key(r.user_id) for r in fresh)  # a month's or week's key is used once
        if fresh or occurrence.kind in DATED_KINDS:
            listed.append(replace(occurrence, recipients=tuple(fresh)))
    return listed


def run_due(
    session: Session,
    now: datetime,
    catch_up: timedelta = DEFAULT_CATCH_UP,
    *,
    config: ReminderConfig | None = None,
    lookback: timedelta = DEFAULT_LOOKBACK,
    overview_writer: OverviewWriter | None = None,
) -> RunResult:
    """Write every reminder due in (now - catch_up, now] to the outbox, once; the caller commits."""
    # Occurrences due in the `lookback` before that window that never reached some recipient are
    # skipped: logged and returned, never written late.
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one")
    config = config or ReminderConfig()
    writer = overview_writer or write_overview
    horizon = now - catch_up
    first_day = (horizon - lookback).astimezone(TIMEZONE).date()
    last_day = now.astimezone(TIMEZONE).date()
    audience = _Audience(session, config, now, now)
    enqueued: list[str] = []
    duplicates = 0
    skipped: list[Occurrence] = []
    due: list[Occurrence] = []
    slots = calendar(first_day, last_day + timedelta(days=1), config)
    for slot in slots:
        if horizon < slot.due <= now:
            occurrence = audience.resolve(slot)
            due.append(occurrence)
            written, repeated = _write(session, occurrence, config, writer, now)
            enqueued += written
            duplicates += repeated
    # After the writes: a month's or week's reminder written just now was not missed earlier.
    reported: set[str] = set()
    for slot in slots:
        if horizon - lookback < slot.due <= horizon:
            occurrence = audience.resolve(slot, as_of=slot.due)  # who it was for when it fell due
            keys = {r.user_id: occurrence.key(r.user_id) for r in occurrence.recipients}
            sent = existing_keys(session, keys.values()) | reported
            missed = tuple(r for r in occurrence.recipients if keys[r.user_id] not in sent)
            reported.update(keys[r.user_id] for r in missed)  # a daily check missed on several days: once
            if missed:
                logger.warning(
                    "reminder %s %s (offset %d) due %s skipped: missed by %s, more than the catch-up window %s; "
                    "not sent to %d recipients",
                    occurrence.kind,
                    occurrence.period,
                    occurrence.offset,
                    occurrence.due.isoformat(),
                    now - occurrence.due,
                    catch_up,
                    len(missed),
                )
                skipped.append(replace(occurrence, recipients=missed))
    if enqueued:
        logger.info("reminders written: %d (already written: %d)", len(enqueued), duplicates)
    return RunResult(tuple(enqueued), duplicates, tuple(skipped), tuple(due))


def _write(
    session: Session, occurrence: Occurrence, config: ReminderConfig, writer: OverviewWriter, now: datetime
) -> tuple[list[str], int]:
    # Checked first so that the overview files are written only when someone still needs them;
    # the unique dedupe key still decides when two processes race past this check.
    sent = existing_keys(session, (occurrence.key(r.user_id) for r in occurrence.recipients))
    pending = [r for r in occurrence.recipients if occurrence.key(r.user_id) not in sent]
    repeated = len(occurrence.recipients) - len(pending)
    if not pending:
        return [], repeated
    attachments: list[str] = []
    out_dir: Path | None = None
    if occurrence.kind == OVERVIEW:
        # A directory of its own per run: a concurrent run never writes into the files this one attaches.
        stamp = now.astimezone(TIMEZONE).strftime("%Y%m%d-%H%M%S")
        out_dir = config.overview_dir / occurrence.period / f"{stamp}-{uuid.uuid4().hex[:6]}"
        out_dir.mkdir(parents=True, exist_ok=True)
        attachments = [str(path) for path in writer(session, _period(occurrence), out_dir)]
    written = []
    for recipient in pending:
        user = session.get(User, recipient.user_id)
        key = occurrence.key(recipient.user_id)
        if user is not None and enqueue(
            session,
            user,
            occurrence.kind,
            message(occurrence, recipient, config),
            attachments=attachments,
            dedupe_key=key,
        ):
            written.append(key)
        else:
            repeated += 1
    if out_dir is not None and not written:
        shutil.rmtree(out_dir, ignore_errors=True)  # another process attached its own files
    return written, repeated
