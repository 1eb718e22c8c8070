"""Reminders to report before the quarter's deadline: 附件2 to townships, 附件3 to lead units."""

from __future__ import annotations

from abc import abstractmethod
from datetime import date, datetime, timedelta
from typing import ClassVar

from fupin.outreach.reminders.audience import Audience
from fupin.outreach.reminders.base import Reminder
from fupin.outreach.reminders.config import ReminderConfig
from fupin.outreach.reminders.kinds import ReminderKind
from fupin.outreach.reminders.occurrences import Occurrence, Recipient
from fupin.outreach.reminders.wording import days_left
from fupin.periods import Period, quarter_of
from fupin.reporting.formatting import chinese_date
from fupin.reporting.kinds import ReportKind
from fupin.values import Role


class _ReportDeadline(Reminder):
    """Due the configured days before a quarter's deadline, to those who have not submitted its form."""

    dated = True
    report_kind: ClassVar[ReportKind]

    def occurrences_on(self, day: date, due: datetime, config: ReminderConfig) -> list[Occurrence]:
        """One occurrence per configured offset whose deadline is a quarter's."""
        found = []
        for offset in sorted(set(config.report_days_before), reverse=True):
            deadline = day + timedelta(days=offset)
            quarter = quarter_of(deadline)
            if quarter.deadline == deadline:
                found.append(Occurrence(self.kind, due, quarter.code, offset, deadline))
        return found

    def message(self, occurrence: Occurrence, recipient: Recipient, config: ReminderConfig) -> str:
        """The deadline, how many days are left, and what to fill in."""
        assert occurrence.deadline is not None
        period = occurrence.quarter
        deadline = chinese_date(occurrence.deadline)
        return (
            f"【报送提醒】{period.label}消费扶贫数据{days_left(occurrence.offset)}（{deadline}）。\n"
            f"{self.task(recipient, period)}，于{deadline}前报送县商务委。采购对象是合作社的，请填上涉及的贫困户人数。"
        )

    @abstractmethod
    def task(self, recipient: Recipient, period: Period) -> str:
        """What the recipient is asked to fill in."""


class SalesReminder(_ReportDeadline):
    """附件2: to the contacts of each township that has not submitted the quarter's sales."""

    kind = ReminderKind.SALES
    report_kind = ReportKind.SALES

    def recipients(self, audience: Audience, occurrence: Occurrence, reference: datetime) -> list[Recipient]:
        """The township-level contacts of each township yet to report (its village contacts when it has none)."""
        done = audience.submitted(self.report_kind, occurrence.quarter)
        contacts = audience.users(Role.CONTACT)
        found = []
        for township_id, name in audience.townships().items():
            if name in done:
                continue
            theirs = [u for u in contacts if u.township_id == township_id]
            # The township's own contacts report 附件2; its village contacts only when it has none.
            reporters = [u for u in theirs if u.village_id is None] or theirs
            found += [audience.recipient(u, name) for u in reporters]
        return found

    def task(self, recipient: Recipient, period: Period) -> str:
        """Fill in the township's 附件2."""
        return f"请汇总{recipient.about}{period.label}贫困户产品销售情况，填写《乡镇（街道）贫困户产品销售情况表》（附件2）"


class PurchasesReminder(_ReportDeadline):
    """附件3: to the contacts of each lead unit that has not submitted the quarter's purchases."""

    kind = ReminderKind.PURCHASES
    report_kind = ReportKind.PURCHASES

    def recipients(self, audience: Audience, occurrence: Occurrence, reference: datetime) -> list[Recipient]:
        """The lead-unit contacts whose unit is yet to report."""
        done = audience.submitted(self.report_kind, occurrence.quarter)
        return [
            audience.recipient(u, u.lead_unit)
            for u in audience.users(Role.LEAD)
            if u.lead_unit and u.lead_unit not in done
        ]

    def task(self, recipient: Recipient, period: Period) -> str:
        """Collect the sector's purchases into 附件3."""
        return (
            f"请{recipient.about}收集汇总本系统（行业）{period.label}购买贫困户产品的采购情况，"
            "填写《牵头单位系统（行业）购买贫困户产品采购情况表》（附件3）"
        )
