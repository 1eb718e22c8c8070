"""Reminders about unpaid orders: each buyer's own and the whole list to the admins (weekly), and each lead
unit's buyers' orders to that unit (monthly), for its own system (防止拖欠货款)."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from sqlalchemy import select

from fupin.models import Order, User
from fupin.orders.overdue import unpaid_since
from fupin.outreach.reminders.audience import Audience
from fupin.outreach.reminders.base import Reminder
from fupin.outreach.reminders.config import ReminderConfig
from fupin.outreach.reminders.kinds import ReminderKind
from fupin.outreach.reminders.occurrences import Occurrence, Recipient
from fupin.outreach.reminders.wording import listed, order_line
from fupin.values import Role

_OVERDUE = "overdue orders"  # the audience's memo key: both kinds read the same orders once per call


def _overdue_orders(audience: Audience) -> list[Order]:
    cutoff = audience.until - timedelta(days=audience.config.payment_overdue_days)
    return list(
        audience.session.scalars(select(Order).where(*unpaid_since(cutoff)).order_by(Order.updated_at, Order.id))
    )


def overdue_at(audience: Audience, reference: datetime) -> list[Order]:
    """Orders delivered but not paid for the overdue period as of `reference`, oldest first."""
    cutoff = reference - timedelta(days=audience.config.payment_overdue_days)
    return [o for o in audience.memo(_OVERDUE, lambda: _overdue_orders(audience)) if o.updated_at <= cutoff]


def _weekly(kind: ReminderKind, day: date, due: datetime, config: ReminderConfig) -> list[Occurrence]:
    if day.isoweekday() != config.payment_weekday:
        return []
    iso = day.isocalendar()
    return [Occurrence(kind, due, f"{iso[0]}-W{iso[1]:02d}", 0)]


class PaymentReminder(Reminder):
    """Weekly, to each user who ordered what is overdue, with their orders."""

    kind = ReminderKind.PAYMENT

    def occurrences_on(self, day: date, due: datetime, config: ReminderConfig) -> list[Occurrence]:
        """The configured weekday, keyed by its ISO week."""
        return _weekly(self.kind, day, due, config)

    def recipients(self, audience: Audience, occurrence: Occurrence, reference: datetime) -> list[Recipient]:
        """The users who placed overdue orders, each with their orders and buying units."""
        by_user: dict[int, list[Order]] = {}
        for order in overdue_at(audience, reference):
            if order.user_id is not None:
                by_user.setdefault(order.user_id, []).append(order)
        found = []
        for user_id, orders in by_user.items():
            user = audience.session.get(User, user_id)
            if user is not None:
                buyers = "、".join(sorted({o.buyer.name for o in orders}))
                found.append(audience.recipient(user, buyers, [order_line(o, with_buyer=False) for o in orders]))
        return found

    def message(self, occurrence: Occurrence, recipient: Recipient, config: ReminderConfig) -> str:
        """The user's overdue orders and how to settle them."""
        return (
            f"【付款提醒】以下订单已送达超过{config.payment_overdue_days}天，还没有登记付款：\n"
            f"{listed(recipient.items)}\n"
            "请尽快向供货联系人付款，不要拖欠贫困户货款。如已付款，请告知供货联系人在“我的订单”中标记“已付款”。"
        )


class PaymentAdminReminder(Reminder):
    """Weekly, to every admin, the list of all overdue orders (none when nothing is overdue)."""

    kind = ReminderKind.PAYMENT_ADMIN

    def occurrences_on(self, day: date, due: datetime, config: ReminderConfig) -> list[Occurrence]:
        """The configured weekday, keyed by its ISO week."""
        return _weekly(self.kind, day, due, config)

    def recipients(self, audience: Audience, occurrence: Occurrence, reference: datetime) -> list[Recipient]:
        """Every admin with every overdue order, or nobody when none is overdue."""
        orders = overdue_at(audience, reference)
        if not orders:
            return []
        lines = [order_line(o, with_buyer=True) for o in orders]
        return [audience.recipient(u, "县级管理员", lines) for u in audience.users(Role.ADMIN)]

    def message(self, occurrence: Occurrence, recipient: Recipient, config: ReminderConfig) -> str:
        """The overdue orders for the admins to follow up."""
        return (
            f"【拖欠货款清单】以下{len(recipient.items)}笔订单已送达超过{config.payment_overdue_days}天仍未付款：\n"
            f"{listed(recipient.items)}\n请督促相关采购单位尽快付款，防止拖欠贫困户货款。"
        )


def _monthly(kind: ReminderKind, day: date, due: datetime, config: ReminderConfig) -> list[Occurrence]:
    # A day past the month's end (31 in February) falls on its last day.
    last = calendar.monthrange(day.year, day.month)[1]
    if day.day != min(config.payment_lead_day, last):
        return []
    return [Occurrence(kind, due, f"{day:%Y-%m}", 0)]


class PaymentLeadReminder(Reminder):
    """Monthly, to each lead unit's users (牵头单位), the overdue orders of the buyers it leads."""

    kind = ReminderKind.PAYMENT_LEAD

    def occurrences_on(self, day: date, due: datetime, config: ReminderConfig) -> list[Occurrence]:
        """The configured day of the month, keyed by the month."""
        return _monthly(self.kind, day, due, config)

    def recipients(self, audience: Audience, occurrence: Occurrence, reference: datetime) -> list[Recipient]:
        """The users of each lead unit with overdue orders of its buyers, each with those orders."""
        by_unit: dict[str, list[Order]] = {}
        for order in overdue_at(audience, reference):
            if order.buyer.lead_unit:
                by_unit.setdefault(order.buyer.lead_unit, []).append(order)
        return [
            audience.recipient(u, u.lead_unit, [order_line(o, with_buyer=True) for o in by_unit[u.lead_unit]])
            for u in audience.users(Role.LEAD)
            if u.lead_unit in by_unit
        ]

    def message(self, occurrence: Occurrence, recipient: Recipient, config: ReminderConfig) -> str:
        """The unit's buyers' overdue orders, for the unit to follow up in its own system."""
        return (
            f"【拖欠货款月报】{recipient.about}牵头的采购单位有{len(recipient.items)}笔订单"
            f"送达超过{config.payment_overdue_days}天仍未付款：\n{listed(recipient.items)}\n"
            "请在本系统内督促这些单位尽快付款，防止拖欠贫困户货款。"
        )
