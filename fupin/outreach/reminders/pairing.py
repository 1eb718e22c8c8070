"""The 百企帮百村 reminder: a paired firm that has bought nothing from its paired village(s) this quarter is
reminded once, a month before the quarter's reporting deadline, through its buying unit's chat users."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from fupin.models import User
from fupin.orders.buyers import buyer_users
from fupin.outreach.reminders.audience import Audience
from fupin.outreach.reminders.base import Reminder
from fupin.outreach.reminders.config import ReminderConfig
from fupin.outreach.reminders.kinds import ReminderKind
from fupin.outreach.reminders.occurrences import Occurrence, Recipient
from fupin.pairing.figures import overlaps, pairing_amounts
from fupin.pairing.register import pairing_views
from fupin.periods import quarter_of
from fupin.reporting.formatting import chinese_date
from fupin.settings import TIMEZONE
from fupin.values import BuyerCategory


def month_before(day: date) -> date:
    """The same day a month earlier, or that month's last day when it is shorter (30 March → 29 February)."""
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class PairingReminder(Reminder):
    """Once a quarter, a month before its deadline, to the users of each paired firm with no purchase there yet."""

    kind = ReminderKind.PAIRING

    def occurrences_on(self, day: date, due: datetime, config: ReminderConfig) -> list[Occurrence]:
        """The day a month before the quarter's deadline, keyed by the quarter."""
        quarter = quarter_of(day)
        if day != month_before(quarter.deadline):
            return []
        return [Occurrence(self.kind, due, quarter.code, 0, quarter.deadline)]

    def recipients(self, audience: Audience, occurrence: Occurrence, reference: datetime) -> list[Recipient]:
        """The chat users of each 爱心企业 paired during the quarter that has bought nothing from its villages."""
        period = occurrence.quarter
        # Purchases up to the reference day count (a sale recorded today stops today's reminder).
        until = min(period.end, reference.astimezone(TIMEZONE).date() + timedelta(days=1))
        places: dict[int, list[str]] = {}
        names: dict[int, str] = {}
        bought: set[int] = set()
        for view in pairing_views(audience.session, categories=(BuyerCategory.CHARITY_FIRM,)):
            if not overlaps(view, period.start, until):
                continue
            names[view.buyer_id] = view.buyer
            places.setdefault(view.buyer_id, []).append(view.place)
            if pairing_amounts(audience.session, view, period.start, until)[0]:
                bought.add(view.buyer_id)
        users: dict[int, User] = {}
        firms: dict[int, list[int]] = {}
        for buyer_id in sorted(set(places) - bought, key=lambda b: names[b]):
            for user in buyer_users(audience.session, buyer_id):
                users[user.id] = user
                firms.setdefault(user.id, []).append(buyer_id)
        return [
            audience.recipient(
                users[user_id],
                "、".join(names[b] for b in buyer_ids),
                [f"{names[b]}（结对：{'、'.join(places[b])}）" for b in buyer_ids],
            )
            for user_id, buyer_ids in firms.items()
        ]

    def message(self, occurrence: Occurrence, recipient: Recipient, config: ReminderConfig) -> str:
        """Which pairings have no purchase yet this quarter, and how to find the villages' products."""
        assert occurrence.deadline is not None
        period = occurrence.quarter
        pairs = "；".join(recipient.items)
        return (
            f"【百企帮百村提醒】{pairs}，{period.label}还没有从结对村采购贫困户农特产品。"
            f"本季度消费扶贫数据于{chinese_date(occurrence.deadline)}截止统计，"
            "欢迎在此之前以购代捐、以买代帮，采购结对村的农特产品（直接问我“某某村有什么特产”）。"
        )
