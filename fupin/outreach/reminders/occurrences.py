"""What the calendar lists and a run returns: occurrences of a reminder, their recipients, a run's result."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from fupin.outreach.reminders.kinds import ReminderKind
from fupin.periods import Period, parse_period


@dataclass(frozen=True)
class Recipient:
    """One user a reminder goes to, with what it is about for them."""

    user_id: int
    channel: str
    external_id: str
    name: str
    about: str = ""  # the township, lead unit or buying unit concerned
    items: tuple[str, ...] = ()  # the listings, orders or figures the message lists

    @property
    def label(self) -> str:
        """How the command line shows the recipient: 龙角镇 李某（telegram:123）."""
        who = self.name or self.external_id
        return f"{self.about + ' ' if self.about else ''}{who}（{self.channel}:{self.external_id}）"


@dataclass(frozen=True)
class Occurrence:
    """One reminder of the calendar: kind, due time (Asia/Shanghai), period, offset and recipients."""

    kind: ReminderKind
    due: datetime
    period: str  # 2019Q3 for reports and the overview, 2019-09 for catalogues, 2019-W38 for payments
    offset: int = 0  # days before the deadline (report reminders); 0 otherwise
    deadline: date | None = None  # the report deadline, or the overview's date
    recipients: tuple[Recipient, ...] = ()

    def key(self, user_id: int) -> str:
        """The outbox dedupe key: one push per (kind, period, offset, recipient)."""
        return f"{self.kind.value}:{self.period}:{self.offset}:u{user_id}"

    @property
    def label(self) -> str:
        """The kind in Chinese."""
        return self.kind.label

    @property
    def quarter(self) -> Period:
        """The quarter a report or overview reminder is about; ValueError for other periods."""
        period = parse_period(self.period)
        if period is None or period.quarter is None:
            raise ValueError(f"not a quarter: {self.period}")
        return period


@dataclass(frozen=True)
class RunResult:
    """What one `run_due` did."""

    enqueued: tuple[str, ...] = ()  # dedupe keys written by this run
    duplicates: int = 0  # pushes already written by an earlier run or another process
    skipped: tuple[Occurrence, ...] = ()  # missed by more than the catch-up window: not sent, logged
    due: tuple[Occurrence, ...] = field(default=(), repr=False)  # the occurrences in the window
