"""The kinds of reminder; each value is also the outbox row's `kind` and the start of its dedupe keys."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType


class ReminderKind(str, enum.Enum):
    """A kind of reminder, in the order the calendar lists the reminders of one moment."""

    SALES = "reminder_sales"  # 附件2 to a township's contacts
    PURCHASES = "reminder_purchases"  # 附件3 to a lead unit's contacts
    OVERVIEW = "reminder_overview"  # the quarter's overview to the county admins
    CATALOGUE = "reminder_catalogue"  # listings not updated for a month, to their contacts
    PAYMENT = "reminder_payment"  # delivered but unpaid orders, to the buyer who ordered
    PAYMENT_ADMIN = "reminder_payment_admin"  # the list of those orders, to the county admins
    PAYMENT_LEAD = "reminder_payment_lead"  # monthly, each lead unit's buyers' unpaid orders, to that unit
    COMPLAINT_OPEN = "reminder_complaint_open"  # daily, complaints unhandled for days, to their handler or contacts
    PAIRING = "reminder_pairing"  # a month before a quarter's deadline, paired firms with no purchase there yet
    UNION_BUDGET = "reminder_union_budget"  # 30 September, unions below half their budget, to their contacts

    def __str__(self) -> str:
        return self.value

    @property
    def label(self) -> str:
        """The kind in Chinese (附件2销售表报送提醒)."""
        return _LABELS[self]

    @property
    def rank(self) -> int:
        """The kind's place in the calendar's order."""
        return _RANKS[self]


_LABELS: Mapping[ReminderKind, str] = MappingProxyType(
    {
        ReminderKind.SALES: "附件2销售表报送提醒",
        ReminderKind.PURCHASES: "附件3采购表报送提醒",
        ReminderKind.OVERVIEW: "季度消费扶贫情况通报",
        ReminderKind.CATALOGUE: "供应目录更新提醒",
        ReminderKind.PAYMENT: "付款提醒",
        ReminderKind.PAYMENT_ADMIN: "拖欠货款清单",
        ReminderKind.PAYMENT_LEAD: "拖欠货款月报（牵头单位）",
        ReminderKind.COMPLAINT_OPEN: "质量投诉处理提醒",
        ReminderKind.PAIRING: "百企帮百村采购提醒",
        ReminderKind.UNION_BUDGET: "工会消费扶贫额度提醒",
    }
)
_RANKS: Mapping[ReminderKind, int] = MappingProxyType({kind: rank for rank, kind in enumerate(ReminderKind)})
