"""Reminders: the plan's calendar, controlled time, catch-up, once-only writes, who gets what, leases."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from fupin.models import Notification, Order
from fupin.outreach.leases import acquire, current, release
from fupin.outreach.reminders.calendar import calendar
from fupin.outreach.reminders.config import ReminderConfig
from fupin.outreach.reminders.kinds import ReminderKind
from fupin.outreach.reminders.occurrences import RunResult
from fupin.outreach.reminders.registry import REMINDERS, UnknownReminderKind, reminder_for
from fupin.outreach.reminders.schedule import run_due, upcoming
from fupin.periods import Period
from fupin.reporting.submissions import submit_report
from fupin.settings import PROJECT_ROOT, TIMEZONE, Settings
from fupin.values import OrderStatus, Role
from harness.waiting import wait_until
from tests.conftest import Database
from tests.reminder_data import a_village, listing, order, township_id, user


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A moment in Asia/Shanghai."""
    return datetime(year, month, day, hour, minute, tzinfo=TIMEZONE)


def no_files(_session: Session, _period: Period, _out_dir: Path) -> list[Path]:
    """Stand-in overview writer for tests that are not about the overview."""
    return []


def run(db: Database, now: datetime, catch_up: timedelta = timedelta(days=1), **kwargs: object) -> RunResult:
    """run_due in a transaction of its own, as the scheduler's job does."""
    kwargs.setdefault("overview_writer", no_files)
    with db.sessions() as session, session.begin():
        return run_due(session, now, catch_up, **kwargs)  # type: ignore[arg-type]


def pushes(db: Database, kind: str | None = None) -> list[Notification]:
    """The outbox rows, oldest first."""
    query = select(Notification).order_by(Notification.id)
    if kind:
        query = query.where(Notification.kind == kind)
    with db.sessions() as session:
        return list(session.scalars(query))


def add(db: Database, build: object) -> None:
    """Run a builder in a committed transaction."""
    with db.sessions() as session, session.begin():
        build(session)  # type: ignore[operator]


# ------------------------------------------------------------------------------------------ calendar


def test_2019q3_reminders_fall_10_3_and_1_days_before_the_deadline_at_nine() -> None:
    occurrences = calendar(date(2019, 9, 1), date(2019, 11, 1))
    for kind in (ReminderKind.SALES, ReminderKind.PURCHASES):
        mine = [o for o in occurrences if o.kind == kind]
        assert [(o.due, o.offset) for o in mine] == [(at(2019, 9, 20), 10), (at(2019, 9, 27), 3), (at(2019, 9, 29), 1)]
        assert {(o.period, o.deadline) for o in mine} == {("2019Q3", date(2019, 9, 30))}
    overview = [o for o in occurrences if o.kind == ReminderKind.OVERVIEW]
    assert [(o.due, o.period) for o in overview] == [(at(2019, 10, 10), "2019Q3")]
    assert all(o.due.utcoffset() == timedelta(hours=8) for o in occurrences)


def test_a_whole_year_of_reminders() -> None:
    occurrences = calendar(date(2027, 1, 1), date(2028, 1, 1))
    report_days = [o.due.date() for o in occurrences if o.kind == ReminderKind.SALES]
    assert report_days == [date(2027, m, d) for m in (3, 6, 9, 12) for d in (20, 27, 29)]
    assert [o.due.date() for o in occurrences if o.kind == ReminderKind.PURCHASES] == report_days
    assert [(o.due.date(), o.period) for o in occurrences if o.kind == ReminderKind.OVERVIEW] == [
        (date(2027, 1, 10), "2026Q4"),
        (date(2027, 4, 10), "2027Q1"),
        (date(2027, 7, 10), "2027Q2"),
        (date(2027, 10, 10), "2027Q3"),
    ]
    catalogue = [o for o in occurrences if o.kind == ReminderKind.CATALOGUE]
    assert len(catalogue) == 365 and len({o.period for o in catalogue}) == 12
    mondays = [o.due.date() for o in occurrences if o.kind == ReminderKind.PAYMENT]
    assert len(mondays) == 52 and {d.isoweekday() for d in mondays} == {1}
    assert [o.due.date() for o in occurrences if o.kind == ReminderKind.PAYMENT_ADMIN] == mondays
    lead_days = [o.due.date() for o in occurrences if o.kind == ReminderKind.PAYMENT_LEAD]
    assert lead_days == [date(2027, m, 1) for m in range(1, 13)]
    assert {o.due.time() for o in occurrences} == {time(9, 0)}
    assert [o.due for o in occurrences] == sorted(o.due for o in occurrences)


def test_the_calendar_follows_the_settings() -> None:
    settings = Settings.from_env(
        {"REMINDER_TIME": "08:30", "REPORT_REMINDER_DAYS": "7,0", "OVERVIEW_DAY": "5", "PAYMENT_REMINDER_WEEKDAY": "5"}
    )
    occurrences = calendar(date(2027, 3, 1), date(2027, 4, 30), ReminderConfig.from_settings(settings))
    assert [(o.due, o.offset) for o in occurrences if o.kind == ReminderKind.SALES] == [
        (at(2027, 3, 23, 8, 30), 7),
        (at(2027, 3, 30, 8, 30), 0),
    ]
    assert [o.due for o in occurrences if o.kind == ReminderKind.OVERVIEW] == [at(2027, 4, 5, 8, 30)]
    assert {o.due.isoweekday() for o in occurrences if o.kind == ReminderKind.PAYMENT} == {5}


# ------------------------------------------------------------------------------- reports, time, once


def test_report_reminders_go_out_at_the_controlled_time(db: Database) -> None:
    with db.sessions() as session, session.begin():
        longjiao = user(session, "101", Role.CONTACT, "龙角镇", name="李某").id
        village = a_village(session, "泥溪镇")
        nixi = user(session, "102", Role.CONTACT, "泥溪镇", village_id=village.id).id  # no township-level contact
        longjiao_village = user(session, "103", Role.CONTACT, "龙角镇", a_village(session, "龙角镇").id).id
        lead = user(session, "201", Role.LEAD, lead_unit="县教委", name="张某").id
        user(session, "301", Role.BUYER)
    assert run(db, at(2019, 9, 20, 8, 59)).enqueued == ()
    result = run(db, at(2019, 9, 20, 9, 0))
    assert sorted(result.enqueued) == sorted(
        [
            f"reminder_sales:2019Q3:10:u{longjiao}",
            f"reminder_sales:2019Q3:10:u{nixi}",
            f"reminder_purchases:2019Q3:10:u{lead}",
        ]
    )
    by_user = {p.user_id: p for p in pushes(db)}
    assert longjiao_village not in by_user  # the township's own contact reports 附件2
    sales = by_user[longjiao]
    assert sales.kind == ReminderKind.SALES and sales.status == "pending" and sales.channel == "telegram"
    assert "龙角镇2019年第3季度" in sales.text and "附件2" in sales.text
    assert "2019年9月30日前报送县商务委" in sales.text and "还有10天" in sales.text
    purchases = by_user[lead]
    assert purchases.kind == ReminderKind.PURCHASES and "县教委" in purchases.text and "附件3" in purchases.text
    assert "2019年9月30日" in purchases.text
    last = run(db, at(2019, 9, 29, 9, 0))
    assert len(last.enqueued) == 3 and all("明天截止" in p.text for p in pushes(db)[-3:])


def test_each_reminder_is_written_once(db: Database) -> None:
    add(db, lambda s: (user(s, "101", Role.CONTACT, "龙角镇"), user(s, "201", Role.LEAD, lead_unit="县教委")))
    first = run(db, at(2019, 9, 20))
    again = run(db, at(2019, 9, 20))
    later = run(db, at(2019, 9, 20, 18, 0))
    assert len(first.enqueued) == 2
    assert again.enqueued == () and again.duplicates == 2
    assert later.enqueued == () and later.duplicates == 2
    assert len(pushes(db)) == 2
    next_offset = run(db, at(2019, 9, 27))
    assert len(next_offset.enqueued) == 2
    keys = [p.dedupe_key for p in pushes(db)]
    assert len(keys) == 4 and len(set(keys)) == 4


def test_a_township_that_submitted_gets_no_reminder(db: Database) -> None:
    with db.sessions() as session, session.begin():
        done = user(session, "101", Role.CONTACT, "龙角镇").id
        late = user(session, "102", Role.CONTACT, "泥溪镇").id
        done_lead = user(session, "201", Role.LEAD, lead_unit="县教委").id
        late_lead = user(session, "202", Role.LEAD, lead_unit="县卫生健康委").id
        for kind, reporter, township in (
            ("sales", "龙角镇", township_id(session, "龙角镇")),
            ("purchases", "县教委", None),
        ):
            submit_report(
                session,
                kind=kind,
                period=Period(2019, 3),
                reporter=reporter,
                township_id=township,
                user_id=None,
                source="chat",
                rows=1,
                amount_fen=9000,
            )
    run(db, at(2019, 9, 27))
    assert {p.user_id for p in pushes(db)} == {late, late_lead}
    # The submission is for one quarter: the next quarter reminds everyone again.
    run(db, at(2019, 12, 20))
    assert {p.user_id for p in pushes(db) if "2019Q4" in (p.dedupe_key or "")} == {done, late, done_lead, late_lead}


def test_catch_up_sends_late_within_the_window_and_skips_older(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    add(db, lambda s: user(s, "101", Role.CONTACT, "龙角镇"))
    # Down from the 19th until 20:00 on the 20th: the 09:00 reminder goes out 11 hours late.
    late = run(db, at(2019, 9, 20, 20, 0))
    assert len(late.enqueued) == 1 and late.skipped == ()
    # Down from the 26th until 10:00 on the 28th: the 27th's reminder is 25 hours late: skipped.
    with caplog.at_level(logging.WARNING, logger="fupin.outreach.reminders"):
        missed = run(db, at(2019, 9, 28, 10, 0))
    assert missed.enqueued == ()
    assert [(o.kind, o.period, o.offset) for o in missed.skipped] == [(ReminderKind.SALES, "2019Q3", 3)]
    assert "skipped" in caplog.text and "2019Q3" in caplog.text
    assert len(pushes(db)) == 1
    # The skipped one is never sent later (only reported again within the look-back); the next is on time.
    on_time = run(db, at(2019, 9, 29, 9, 0))
    assert len(on_time.enqueued) == 1 and [o.offset for o in on_time.skipped] == [3]
    assert run(db, at(2019, 9, 29, 9, 1), lookback=timedelta(minutes=2)).skipped == ()
    assert [p.dedupe_key for p in pushes(db)][-1].startswith("reminder_sales:2019Q3:1:")
    # The window is the caller's: with 6 hours, 11 hours late is too late.
    narrow = run(db, at(2019, 12, 20, 20, 0), catch_up=timedelta(hours=6))
    assert narrow.enqueued == () and [o.offset for o in narrow.skipped] == [10]


def test_naive_times_are_refused(db: Database) -> None:
    with db.sessions() as session, pytest.raises(ValueError):
        run_due(session, datetime(2019, 9, 20, 9, 0))


# ----------------------------------------------------------------------------- catalogue and payment


def test_catalogue_reminder_for_listings_not_updated_for_30_days(db: Database) -> None:
    now = at(2019, 9, 3)
    with db.sessions() as session, session.begin():
        village = a_village(session, "龙角镇")
        township_contact = user(session, "101", Role.CONTACT, "龙角镇").id
        village_contact = user(session, "102", Role.CONTACT, "龙角镇", village.id).id
        nixi = user(session, "103", Role.CONTACT, "泥溪镇").id
        listing(session, "龙角镇", now - timedelta(days=31), "土豆")
        listing(session, "龙角镇", now - timedelta(days=45), "蜂蜜", village_id=village.id)
        listing(session, "泥溪镇", now - timedelta(days=29), "核桃")
    first = run(db, now)
    sent = {p.user_id: p.text for p in pushes(db, ReminderKind.CATALOGUE)}
    assert set(sent) == {township_contact, village_contact}
    assert "- 土豆（龙角镇）" in sent[township_contact] and "- 蜂蜜" not in sent[township_contact]
    assert f"- 蜂蜜（龙角镇{village.short_name}）" in sent[village_contact] and "- 土豆" not in sent[village_contact]
    # August's checks, before any run: only the 蜂蜜 (stale since 8-19) was due then, reported once.
    assert [(o.period, [r.user_id for r in o.recipients]) for o in first.skipped] == [("2019-08", [village_contact])]
    assert "超过30天没有更新" in sent[township_contact] and "至少每月更新一次" in sent[township_contact]
    # Checked daily, sent once a month: not again in September, again in October if still stale.
    assert run(db, now + timedelta(days=1)).enqueued == ()
    # 泥溪镇's listing (updated 8-5 09:00) is more than 30 days old from 9-5: September's reminder then.
    assert run(db, at(2019, 9, 5)).enqueued == (f"reminder_catalogue:2019-09:0:u{nixi}",)
    assert run(db, at(2019, 9, 30)).enqueued == ()
    october = run(db, at(2019, 10, 1))
    assert sorted(october.enqueued) == sorted(
        f"reminder_catalogue:2019-10:0:u{u}" for u in (township_contact, village_contact, nixi)
    )


def test_unpaid_orders_are_reminded_weekly_to_the_buyer_and_the_admins(db: Database) -> None:
    monday = at(2019, 9, 16)
    with db.sessions() as session, session.begin():
        user(session, "101", Role.CONTACT, "龙角镇")
        buyer = user(session, "301", Role.BUYER, name="食堂张")
        admin = user(session, "401", Role.ADMIN).id
        fresh = listing(session, "龙角镇", monday - timedelta(days=1))
        overdue = order(session, fresh, buyer, OrderStatus.DELIVERED, monday - timedelta(days=31)).order_no
        recent = order(session, fresh, buyer, OrderStatus.DELIVERED, monday - timedelta(days=10)).order_no
        paid = order(session, fresh, buyer, OrderStatus.PAID, monday - timedelta(days=60)).order_no
        unknown_buyer = order(session, fresh, None, OrderStatus.DELIVERED, monday - timedelta(days=40)).order_no
        buyer_id = buyer.id
    run(db, monday)
    (to_buyer,) = pushes(db, ReminderKind.PAYMENT)
    assert to_buyer.user_id == buyer_id
    assert overdue in to_buyer.text and recent not in to_buyer.text and paid not in to_buyer.text
    assert unknown_buyer not in to_buyer.text and "付款" in to_buyer.text and "2019年8月16日送达" in to_buyer.text
    (to_admin,) = pushes(db, ReminderKind.PAYMENT_ADMIN)
    assert to_admin.user_id == admin
    assert overdue in to_admin.text and unknown_buyer in to_admin.text and "县人民医院食堂" in to_admin.text
    assert recent not in to_admin.text and "防止拖欠" in to_admin.text
    # Deduped per week: not again on Tuesday, again next Monday; paying ends it.
    assert run(db, monday + timedelta(days=1)).enqueued == ()
    assert len(run(db, monday + timedelta(days=7)).enqueued) == 2
    with db.sessions() as session, session.begin():
        session.execute(update(Order).values(status=OrderStatus.PAID.value))
    assert [k for k in run(db, monday + timedelta(days=14)).enqueued if "payment" in k] == []


def test_unpaid_orders_go_monthly_to_the_buyers_lead_unit(db: Database) -> None:
    first = at(2019, 10, 1)
    with db.sessions() as session, session.begin():
        buyer = user(session, "302", Role.BUYER, name="食堂李")
        health = user(session, "501", Role.LEAD, lead_unit="县卫生健康委").id
        user(session, "502", Role.LEAD, lead_unit="县教委")  # leads none of the buyers that owe
        fresh = listing(session, "龙角镇", first - timedelta(days=1))
        # The hospital canteen's lead unit is 县卫生健康委 (tests/reminder_data.py).
        overdue = order(session, fresh, buyer, OrderStatus.DELIVERED, first - timedelta(days=45)).order_no
        recent = order(session, fresh, buyer, OrderStatus.DELIVERED, first - timedelta(days=5)).order_no
    run(db, first)
    (to_lead,) = pushes(db, ReminderKind.PAYMENT_LEAD)
    assert to_lead.user_id == health
    assert overdue in to_lead.text and recent not in to_lead.text
    assert (
        "县卫生健康委牵头的采购单位有1笔订单送达超过30天仍未付款" in to_lead.text and "县人民医院食堂" in to_lead.text
    )
    # Once a month: not on the 2nd, again on November's first day; paying ends it.
    assert [k for k in run(db, at(2019, 10, 2)).enqueued if "lead" in k] == []
    assert [k for k in run(db, at(2019, 11, 1)).enqueued if "lead" in k] == [
        f"reminder_payment_lead:2019-11:0:u{health}"
    ]
    with db.sessions() as session, session.begin():
        session.execute(update(Order).values(status=OrderStatus.PAID.value))
    assert [k for k in run(db, at(2019, 12, 1)).enqueued if "lead" in k] == []


def test_the_lead_units_day_past_a_months_end_falls_on_its_last_day() -> None:
    config = ReminderConfig(payment_lead_day=31)
    days = [
        o.due.date()
        for o in calendar(date(2019, 1, 1), date(2019, 5, 1), config)
        if o.kind == ReminderKind.PAYMENT_LEAD
    ]
    assert days == [date(2019, 1, 31), date(2019, 2, 28), date(2019, 3, 31), date(2019, 4, 30)]


# ------------------------------------------------------------------------------------------ overview


def test_the_overview_goes_to_the_admins_with_its_files_written_once(db: Database, tmp_path: Path) -> None:
    with db.sessions() as session, session.begin():
        admins = {user(session, "401", Role.ADMIN).id, user(session, "402", Role.ADMIN).id}
    calls: list[tuple[Period, Path]] = []

    def writer(_session: Session, period: Period, out_dir: Path) -> list[Path]:
        calls.append((period, out_dir))
        path = out_dir / "overview.xlsx"
        path.write_bytes(b"xlsx")
        return [path]

    config = ReminderConfig(overview_dir=tmp_path)
    run(db, at(2019, 10, 10), config=config, overview_writer=writer)
    run(db, at(2019, 10, 10, 12, 0), config=config, overview_writer=writer)
    assert [period for period, _ in calls] == [Period(2019, 3)]
    assert calls[0][1].is_relative_to(tmp_path / "2019Q3")
    sent = pushes(db, ReminderKind.OVERVIEW)
    assert {p.user_id for p in sent} == admins
    for push in sent:
        assert json.loads(push.attachments) == [str(calls[0][1] / "overview.xlsx")]
        assert "2019年第3季度" in push.text and "2019年10月10日" in push.text
        assert "附件2（乡镇销售表）：已报送0个，未报送42个" in push.text


def test_the_overview_attaches_the_real_workbook_and_charts(sqlite_db: Database, tmp_path: Path) -> None:
    add(sqlite_db, lambda s: user(s, "401", Role.ADMIN))
    with sqlite_db.sessions() as session, session.begin():
        run_due(session, at(2027, 1, 10), config=ReminderConfig(overview_dir=tmp_path))
    (push,) = pushes(sqlite_db, ReminderKind.OVERVIEW)
    files = [Path(p) for p in json.loads(push.attachments)]
    assert {f.suffix for f in files} == {".xlsx", ".png"} and all(f.is_file() for f in files)
    assert "2026年第4季度" in push.text


# ------------------------------------------------------------------------------------------ upcoming


def test_upcoming_lists_who_would_be_reminded(db: Database) -> None:
    with db.sessions() as session, session.begin():
        late = user(session, "101", Role.CONTACT, "龙角镇", name="李某").id
        user(session, "102", Role.CONTACT, "泥溪镇")
        listing(session, "龙角镇", at(2019, 8, 1))
        submit_report(
            session,
            kind="sales",
            period=Period(2019, 3),
            reporter="泥溪镇",
            township_id=township_id(session, "泥溪镇"),
            user_id=None,
            source="file",
            rows=3,
            amount_fen=100,
        )
    with db.sessions() as session:
        listed = upcoming(session, date(2019, 9, 15), 15, now=at(2019, 9, 15, 8, 0))
    sales = [o for o in listed if o.kind == ReminderKind.SALES]
    assert [o.due for o in sales] == [at(2019, 9, 20), at(2019, 9, 27), at(2019, 9, 29)]
    assert all([r.user_id for r in o.recipients] == [late] for o in sales)
    assert sales[0].recipients[0].label == "龙角镇 李某（telegram:101）"
    # Dated reminders are listed even with nobody to remind; a monthly check once in the month.
    assert [len(o.recipients) for o in listed if o.kind == ReminderKind.PURCHASES] == [0, 0, 0]
    assert [(o.due, [r.user_id for r in o.recipients]) for o in listed if o.kind == ReminderKind.CATALOGUE] == [
        (at(2019, 9, 15), [late])
    ]
    # Once written, a reminder is no longer upcoming.
    run(db, at(2019, 9, 20))
    with db.sessions() as session:
        after = upcoming(session, date(2019, 9, 20), 1, now=at(2019, 9, 20, 10, 0))
    assert [len(o.recipients) for o in after if o.kind == ReminderKind.SALES] == [0]


# -------------------------------------------------------------------------------------------- leases


def test_one_lease_holder_until_expiry_then_takeover(db: Database) -> None:
    start = datetime(2027, 1, 1, tzinfo=timezone.utc)
    ttl = timedelta(seconds=60)

    def attempt(holder: str, seconds: int) -> bool:
        with db.sessions() as session, session.begin():
            return acquire(session, "scheduler", holder, ttl, now=start + timedelta(seconds=seconds))

    assert attempt("a", 0)
    assert not attempt("b", 30)
    assert attempt("a", 50)  # renewed until 110 s
    assert not attempt("b", 100)
    assert attempt("b", 111)  # expired: taken over
    assert not attempt("a", 112)
    with db.sessions() as session, session.begin():
        state = current(session, "scheduler", now=start + timedelta(seconds=112))
        assert state is not None and state.holder == "b"
        assert not release(session, "scheduler", "a")
        assert release(session, "scheduler", "b")
    assert attempt("a", 113)  # released: no need to wait for expiry


def test_only_one_of_many_racing_contenders_gets_the_lease(db: Database) -> None:
    contenders = [f"p{i}" for i in range(6)]
    barrier = threading.Barrier(len(contenders))

    def contend(holder: str) -> bool:
        barrier.wait()
        with db.sessions() as session, session.begin():
            return acquire(session, "race", holder, timedelta(minutes=1))

    with ThreadPoolExecutor(len(contenders)) as pool:
        won = list(pool.map(contend, contenders))
    assert sum(won) == 1
    with db.sessions() as session:
        state = current(session, "race")
        assert state is not None and state.holder == contenders[won.index(True)]


# ------------------------------------------------------------------------------- two real processes


def _schema(db: Database) -> str:
    if db.backend == "sqlite":
        return "-"
    with db.engine.connect() as connection:
        return str(connection.execute(text("SELECT current_schema()")).scalar())


@pytest.mark.process
def test_two_processes_at_once_never_write_a_reminder_twice(db: Database, tmp_path: Path) -> None:
    with db.sessions() as session, session.begin():
        names = [n for (n,) in session.execute(text("SELECT name FROM townships ORDER BY code")).all()][:30]
        for number, name in enumerate(names):
            user(session, f"c{number}", Role.CONTACT, name)
        user(session, "lead", Role.LEAD, lead_unit="县教委")
    moments = [at(2019, 9, 20).isoformat(), at(2019, 9, 27).isoformat(), at(2019, 9, 29).isoformat()]
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "LOG_LEVEL": "WARNING"}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.reminder_worker",
                db.url,
                _schema(db),
                str(tmp_path / f"ready{i}"),
                str(go),
                *moments,
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    wait_until(lambda: all((tmp_path / f"ready{i}").exists() for i in range(2)), 60, lambda: "workers did not start")
    go.touch()  # both start at the same moment
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err for _, err in outputs]
    results = [json.loads(out) for out, _ in outputs]
    written = [key for r in results for key in r["written"]]
    expected = 3 * (len(names) + 1)
    assert len(written) == len(set(written)) == expected
    assert sum(r["duplicates"] for r in results) == expected  # whatever one wrote, the other found
    keys = [p.dedupe_key for p in pushes(db)]
    assert len(keys) == len(set(keys)) == expected


# ------------------------------------------------------------------------------------------ registry


def test_every_kind_has_one_reminder_class_and_an_unknown_kind_raises() -> None:
    assert list(REMINDERS) == list(ReminderKind)
    assert all(REMINDERS[kind].kind is kind for kind in ReminderKind)
    assert [kind.value for kind in ReminderKind] == [
        "reminder_sales",
        "reminder_purchases",
        "reminder_overview",
        "reminder_catalogue",
        "reminder_payment",
        "reminder_payment_admin",
        "reminder_payment_lead",
        "reminder_complaint_open",
        "reminder_pairing",
        "reminder_union_budget",
    ]
    assert reminder_for("reminder_payment") is REMINDERS[ReminderKind.PAYMENT]
    # Before, a kind nobody knew was answered as the admins' list of unpaid orders.
    with pytest.raises(UnknownReminderKind, match="reminder_nonsense"):
        reminder_for("reminder_nonsense")
