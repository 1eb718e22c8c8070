"""The reminder to publish the quarter's overview: to the county admins, with the overview's files."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy.orm import Session

from fupin.outreach.reminders.audience import Audience
from fupin.outreach.reminders.base import Attachments, Reminder
from fupin.outreach.reminders.config import OverviewWriter, ReminderConfig
from fupin.outreach.reminders.kinds import ReminderKind
from fupin.outreach.reminders.occurrences import Occurrence, Recipient
from fupin.outreach.reminders.wording import coverage
from fupin.periods import quarter_of
from fupin.reporting.formatting import chinese_date
from fupin.reporting.kinds import ReportKind
from fupin.reporting.quarter import known_lead_units
from fupin.settings import TIMEZONE
from fupin.values import Role


class OverviewReminder(Reminder):
    """On the overview day of a quarter's first month, about the quarter before, with who has reported."""

    kind = ReminderKind.OVERVIEW
    dated = True

    def occurrences_on(self, day: date, due: datetime, config: ReminderConfig) -> list[Occurrence]:
        """The overview day of January, April, July and October."""
        if day.month in (1, 4, 7, 10) and day.day == config.overview_day:
            return [Occurrence(self.kind, due, quarter_of(day).previous().code, 0, day)]
        return []

    def recipients(self, audience: Audience, occurrence: Occurrence, reference: datetime) -> list[Recipient]:
        """Every admin, with the quarter's 附件2 and 附件3 coverage as the items."""
        period = occurrence.quarter
        townships = list(audience.townships().values())
        figures = (
            coverage("附件2（乡镇销售表）", townships, audience.submitted(ReportKind.SALES, period)),
            coverage(
                "附件3（牵头单位采购表）",
                known_lead_units(audience.session),
                audience.submitted(ReportKind.PURCHASES, period),
            ),
        )
        return [audience.recipient(u, "县级管理员", figures) for u in audience.users(Role.ADMIN)]

    def message(self, occurrence: Occurrence, recipient: Recipient, config: ReminderConfig) -> str:
        """The coverage figures and the date the plan wants the overview by."""
        assert occurrence.deadline is not None
        period = occurrence.quarter
        return (
            f"【季度通报】{period.label}消费扶贫总体情况已汇总，汇总表和图表见附件。\n"
            + "\n".join(recipient.items)
            + f"\n按方案，县商务委应在每季度初月10日前通报上季度消费扶贫总体情况，请于{chinese_date(occurrence.deadline)}前完成通报。"
        )

    def attachments(
        self, session: Session, occurrence: Occurrence, config: ReminderConfig, writer: OverviewWriter, now: datetime
    ) -> Attachments:
        """The overview's workbook and charts, written into a folder of this run's own."""
        # A directory of its own per run: a concurrent run never writes into the files this one attaches.
        stamp = now.astimezone(TIMEZONE).strftime("%Y%m%d-%H%M%S")
        out_dir = config.overview_dir / occurrence.period / f"{stamp}-{uuid.uuid4().hex[:6]}"
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = tuple(str(path) for path in writer(session, occurrence.quarter, out_dir))
        return Attachments(paths, out_dir)
