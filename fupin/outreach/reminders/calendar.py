"""The plan's calendar of reminders: every occurrence due in a range of days, in due order."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fupin.outreach.reminders.config import ReminderConfig
from fupin.outreach.reminders.occurrences import Occurrence
from fupin.outreach.reminders.registry import REMINDERS
from fupin.settings import TIMEZONE


def calendar(start: date, end: date, config: ReminderConfig | None = None) -> list[Occurrence]:
    """Every occurrence due on the days start <= day < end, without recipients, in due order."""
    config = config or ReminderConfig()
    found: list[Occurrence] = []
    day = start
    while day < end:
        due = datetime.combine(day, config.at, tzinfo=TIMEZONE)
        for reminder in REMINDERS.values():
            found += reminder.occurrences_on(day, due, config)
        day += timedelta(days=1)
    return sorted(found, key=lambda o: (o.due, o.kind.rank, -o.offset))
