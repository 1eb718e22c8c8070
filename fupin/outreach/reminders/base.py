"""What every kind of reminder says about itself: when it falls due, whom it is for, and what it says."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import ClassVar

from sqlalchemy.orm import Session

from fupin.outreach.reminders.audience import Audience
from fupin.outreach.reminders.config import OverviewWriter, ReminderConfig
from fupin.outreach.reminders.kinds import ReminderKind
from fupin.outreach.reminders.occurrences import Occurrence, Recipient


@dataclass(frozen=True)
class Attachments:
    """Files written for one occurrence, and the folder made for them (removed when nobody gets them)."""

    paths: tuple[str, ...] = ()
    folder: Path | None = None


class Reminder(ABC):
    """One kind of reminder: its calendar rule, its audience and its text (stateless; one per kind)."""

    kind: ClassVar[ReminderKind]
    # Fixed by the plan's dates: listed by `upcoming` even when nobody is left to remind.
    dated: ClassVar[bool] = False

    @abstractmethod
    def occurrences_on(self, day: date, due: datetime, config: ReminderConfig) -> list[Occurrence]:
        """The occurrences of this kind due on `day` (at `due`), without recipients."""

    @abstractmethod
    def recipients(self, audience: Audience, occurrence: Occurrence, reference: datetime) -> list[Recipient]:
        """Whom the occurrence is for as the data stand at `reference`."""

    @abstractmethod
    def message(self, occurrence: Occurrence, recipient: Recipient, config: ReminderConfig) -> str:
        """The Chinese text for one recipient."""

    def attachments(
        self, session: Session, occurrence: Occurrence, config: ReminderConfig, writer: OverviewWriter, now: datetime
    ) -> Attachments:
        """Files every recipient of the occurrence gets with the text; none by default."""
        return Attachments()
