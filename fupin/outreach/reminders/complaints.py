"""The reminder to handle quality complaints: daily, each complaint unhandled for days, to whoever should act.

A complaint waiting for action (待处理, 处理中 or 已升级) more than `complaint_remind_days` after it was filed goes
to its handler, or, while nobody has taken it up, to the supply contacts of the order's listing. Keyed by the
day: each recipient gets one message a day listing their complaints, so each complaint is reminded once a day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fupin.complaints.queries import unsettled_since
from fupin.models import Complaint, User
from fupin.outreach.reminders.audience import Audience
from fupin.outreach.reminders.base import Reminder
from fupin.outreach.reminders.config import ReminderConfig
from fupin.outreach.reminders.kinds import ReminderKind
from fupin.outreach.reminders.occurrences import Occurrence, Recipient
from fupin.outreach.reminders.wording import listed
from fupin.outreach.users import users_for_listing


def _line(complaint: Complaint, reference: datetime) -> str:
    order = complaint.order
    listing = order.listing
    days = (reference - complaint.created_at).days
    return (
        f"{complaint.complaint_no} {order.buyer.name} {listing.product.name}（{listing.place_label}，订单{order.order_no}）"
        f"【{complaint.category}】{complaint.status}，已{days}天"
    )


class ComplaintReminder(Reminder):
    """Daily, to each complaint's handler (or the listing's contacts), the complaints unhandled for days."""

    kind = ReminderKind.COMPLAINT_OPEN

    def occurrences_on(self, day: date, due: datetime, config: ReminderConfig) -> list[Occurrence]:
        """Every day, keyed by the day (none when the reminder is off)."""
        if config.complaint_remind_days <= 0:
            return []
        return [Occurrence(self.kind, due, f"{day:%Y-%m-%d}", 0)]

    def recipients(self, audience: Audience, occurrence: Occurrence, reference: datetime) -> list[Recipient]:
        """Whoever should act on each complaint unhandled at `reference`, each with their complaints."""
        days = timedelta(days=audience.config.complaint_remind_days)
        waiting = audience.memo(
            (self.kind, "unsettled"), lambda: unsettled_since(audience.session, audience.until - days)
        )
        users: dict[int, User] = {}
        lines: dict[int, list[str]] = {}
        for complaint in waiting:
            if complaint.created_at >= reference - days:
                continue
            handler = complaint.handler
            for user in (
                [handler] if handler is not None else users_for_listing(audience.session, complaint.order.listing)
            ):
                users[user.id] = user
                lines.setdefault(user.id, []).append(_line(complaint, reference))
        return [audience.recipient(users[user_id], "", items) for user_id, items in lines.items()]

    def message(self, occurrence: Occurrence, recipient: Recipient, config: ReminderConfig) -> str:
        """The complaints waiting for this person and what to do."""
        return (
            f"【质量投诉处理提醒】以下{len(recipient.items)}件质量投诉提出已超过{config.complaint_remind_days}天，"
            f"还没有处理完：\n{listed(recipient.items)}\n"
            "请尽快联系采购方核实处理，并回复处理结果（比如“已处理：补发10斤”“已退款50元”）。"
            "处理不了的，请联系县市场监管人员。"
        )
