"""The reminder to unions (工会) below half their budget at the end of September: once a year, to their contacts.

A union's purchases from its paired villages and deep-poverty townships and villages (fupin.unions.budget) up
to 30 September under half of its budget (members × the amount per member) get one message to each user who
speaks for it (linked to it, or who ordered for it). Keyed by the year: one push per user and year.
"""

from __future__ import annotations

from datetime import date, datetime

from fupin.models import User
from fupin.orders.buyers import buyer_users
from fupin.outreach.reminders.audience import Audience
from fupin.outreach.reminders.base import Reminder
from fupin.outreach.reminders.config import ReminderConfig
from fupin.outreach.reminders.kinds import ReminderKind
from fupin.outreach.reminders.occurrences import Occurrence, Recipient
from fupin.outreach.reminders.wording import listed
from fupin.reporting.formatting import yuan
from fupin.unions.budget import UnionBudget, union_budgets
from fupin.unions.wording import WHAT_COUNTS, share

# The end of September: three months are left to spend the rest of the year's budget.
REMIND_MONTH, REMIND_DAY = 9, 30


def _line(budget: UnionBudget) -> str:
    return (
        f"{budget.name}：年度额度{yuan(budget.budget_fen)}（会员{budget.members}人），"
        f"已用{yuan(budget.counted_fen)}（{share(budget)}），还剩{yuan(budget.remaining_fen)}"
    )


class UnionBudgetReminder(Reminder):
    """On 30 September, to the contacts of each union that has spent less than half its budget on what counts."""

    kind = ReminderKind.UNION_BUDGET

    def occurrences_on(self, day: date, due: datetime, config: ReminderConfig) -> list[Occurrence]:
        """30 September, keyed by the year."""
        if (day.month, day.day) != (REMIND_MONTH, REMIND_DAY):
            return []
        return [Occurrence(self.kind, due, str(day.year), 0, deadline=day)]

    def recipients(self, audience: Audience, occurrence: Occurrence, reference: datetime) -> list[Recipient]:
        """The users of each union below half its budget with purchases up to 30 September, each with their unions."""
        year = int(occurrence.period)
        end = date(year, REMIND_MONTH + 1, 1)
        budgets = audience.memo(
            (self.kind, year),
            lambda: union_budgets(
                audience.session, year, until=end, per_member=audience.config.union_budget_per_member_fen
            ),
        )
        users: dict[int, User] = {}
        lines: dict[int, list[str]] = {}
        for budget in budgets:
            if not budget.below_half:
                continue
            for user in buyer_users(audience.session, budget.buyer_id):
                users[user.id] = user
                lines.setdefault(user.id, []).append(_line(budget))
        return [audience.recipient(users[user_id], "", items) for user_id, items in lines.items()]

    def message(self, occurrence: Occurrence, recipient: Recipient, config: ReminderConfig) -> str:
        """The union's figures and what to buy."""
        return (
            f"【工会消费扶贫额度提醒】截至{occurrence.period}年9月30日，以下工会用于贫困户产品的额度还没有用到一半：\n"
            f"{listed(recipient.items)}\n"
            f"{WHAT_COUNTS}可以组织干部职工到帮扶的村开展工会活动，集中或分散直购；说“哪里有土豆”“龙角镇有什么特产”"
            "查找产品，说“我们工会还剩多少额度”随时查看进度。"
        )
