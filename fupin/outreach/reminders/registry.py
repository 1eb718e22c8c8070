"""Every kind of reminder, keyed by its kind; an unknown kind is an error, never another kind's."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from fupin.outreach.reminders.base import Reminder
from fupin.outreach.reminders.catalogue import CatalogueReminder
from fupin.outreach.reminders.complaints import ComplaintReminder
from fupin.outreach.reminders.kinds import ReminderKind
from fupin.outreach.reminders.pairing import PairingReminder
from fupin.outreach.reminders.payments import PaymentAdminReminder, PaymentLeadReminder, PaymentReminder
from fupin.outreach.reminders.quarterly_overview import OverviewReminder
from fupin.outreach.reminders.report_deadlines import PurchasesReminder, SalesReminder
from fupin.outreach.reminders.unions import UnionBudgetReminder


class UnknownReminderKind(ValueError):
    """A kind no reminder class is registered for."""


def _registry(*reminders: Reminder) -> Mapping[ReminderKind, Reminder]:
    found = {reminder.kind: reminder for reminder in reminders}
    missing = set(ReminderKind) - set(found)
    if missing or len(found) != len(reminders):
        raise RuntimeError(f"each reminder kind needs exactly one class; missing: {sorted(missing)}")
    # In the kinds' order: the calendar lists a moment's reminders in this order.
    return MappingProxyType({kind: found[kind] for kind in ReminderKind})


REMINDERS: Mapping[ReminderKind, Reminder] = _registry(
    SalesReminder(),
    PurchasesReminder(),
    OverviewReminder(),
    CatalogueReminder(),
    PaymentReminder(),
    PaymentAdminReminder(),
    PaymentLeadReminder(),
    ComplaintReminder(),
    PairingReminder(),
    UnionBudgetReminder(),
)


def reminder_for(kind: ReminderKind | str) -> Reminder:
    """The reminder class of a kind (or of a stored kind's value); UnknownReminderKind for any other."""
    try:
        return REMINDERS[ReminderKind(kind)]
    except (ValueError, KeyError):
        raise UnknownReminderKind(f"unknown reminder kind {kind!r}") from None
