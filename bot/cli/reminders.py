"""Command line of the reminders: `python -m bot reminders list|run-due`."""

from __future__ import annotations

import argparse
import logging
from datetime import date, datetime, timedelta

from bot.cli.context import Context, print_line
from fupin.models import utcnow
from fupin.outreach.reminders.config import ReminderConfig
from fupin.outreach.reminders.schedule import run_due, upcoming
from fupin.periods import today
from fupin.settings import TIMEZONE
from fupin.setup import init_database

logger = logging.getLogger(__name__)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"日期格式应为 2027-03-20：{text}") from exc


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"时间格式应为 2027-03-20T09:00：{text}") from exc
    # A time without a zone is Asia/Shanghai, as every date the county writes.
    return moment if moment.tzinfo else moment.replace(tzinfo=TIMEZONE)


def cmd_reminders_list(ctx: Context, args: argparse.Namespace) -> int:
    """Print the reminders of the coming days with their recipients."""
    init_database(ctx.engine, ctx.sessions)
    start = args.start or today()
    config = ReminderConfig.from_settings(ctx.settings)
    with ctx.sessions() as session:
        occurrences = upcoming(session, start, args.days, config)
    last = start + timedelta(days=args.days - 1)
    print_line(f"{start.isoformat()} 至 {last.isoformat()} 的提醒：共{len(occurrences)}项")
    for occurrence in occurrences:
        offset = f"，截止前{occurrence.offset}天" if occurrence.offset else ""
        due = occurrence.due.astimezone(TIMEZONE)
        count = f"{len(occurrence.recipients)}人" if occurrence.recipients else "无待提醒对象"
        print_line(f"{due:%Y-%m-%d %H:%M} {occurrence.label}（{occurrence.period}{offset}）：{count}")
        for recipient in occurrence.recipients:
            print_line(f"    - {recipient.label}")
    return 0


def cmd_reminders_run_due(ctx: Context, args: argparse.Namespace) -> int:
    """Write the reminders due now (or at --now) to the outbox, each at most once."""
    init_database(ctx.engine, ctx.sessions)
    now = args.now or utcnow()
    catch_up = timedelta(hours=args.catch_up_hours or ctx.settings.reminder_catch_up_hours)
    with ctx.sessions() as session, session.begin():
        result = run_due(session, now, catch_up, config=ReminderConfig.from_settings(ctx.settings))
    print_line(f"已写入提醒{len(result.enqueued)}条，此前已写入（不重复发送）{result.duplicates}条")
    for occurrence in result.skipped:
        due = occurrence.due.astimezone(TIMEZONE)
        print_line(
            f"超过补发时限，未发送：{due:%Y-%m-%d %H:%M} {occurrence.label}（{occurrence.period}）"
            f"{len(occurrence.recipients)}人"
        )
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `reminders list|run-due` to the command line's sub-commands."""
    reminders = commands.add_parser("reminders", help="定时提醒").add_subparsers(
        dest="reminders_command", required=True
    )
    listing = reminders.add_parser("list", help="列出即将发送的提醒及对象")
    listing.add_argument("--from", dest="start", type=_date, help="开始日期，默认今天（如 2027-03-20）")
    listing.add_argument("--days", type=int, default=30, help="列出多少天，默认30天")
    listing.set_defaults(handler=cmd_reminders_list)
    due = reminders.add_parser("run-due", help="立即写入已到期的提醒（每条只写一次）")
    due.add_argument("--now", type=_moment, help="按此时刻计算（北京时间，如 2027-03-20T09:00），默认现在")
    due.add_argument("--catch-up-hours", type=float, help="补发时限（小时），默认取 REMINDER_CATCH_UP_HOURS")
    due.set_defaults(handler=cmd_reminders_run_due)
