"""When reminders fall due and what counts as late, and the bounds of a run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from fupin.periods import Period
from fupin.settings import PROJECT_ROOT, Settings
from fupin.values import UNION_BUDGET_PER_MEMBER_FEN

DEFAULT_CATCH_UP = timedelta(days=1)
DEFAULT_LOOKBACK = timedelta(days=7)
MAX_LISTED = 20  # lines of listings or orders in one message; the rest are counted

# Writes the quarter's overview files into a folder and returns them (fupin.reporting.overview_workbook).
OverviewWriter = Callable[[Session, Period, Path], Sequence[Path]]


@dataclass(frozen=True)
class ReminderConfig:
    """When reminders fall due and what counts as late (from Settings)."""

    at: time = time(9, 0)
    report_days_before: tuple[int, ...] = (10, 3, 1)
    overview_day: int = 10
    catalogue_stale_days: int = 30
    payment_overdue_days: int = 30
    payment_weekday: int = 1  # ISO weekday: 1 = Monday
    payment_lead_day: int = 1  # day of the month of the lead units' list
    complaint_remind_days: int = 3  # a complaint unhandled for longer is reminded daily; 0 = never
    union_budget_per_member_fen: int = (
        UNION_BUDGET_PER_MEMBER_FEN  # a union's yearly budget per member (UNION_BUDGET_PER_MEMBER_YUAN)
    )
    overview_dir: Path = PROJECT_ROOT / "var" / "overviews"

    @classmethod
    def from_settings(cls, settings: Settings) -> ReminderConfig:
        """The reminder part of the settings."""
        return cls(
            at=settings.reminder_time,
            report_days_before=settings.report_reminder_days,
            overview_day=settings.overview_day,
            catalogue_stale_days=settings.catalogue_stale_days,
            payment_overdue_days=settings.payment_overdue_days,
            payment_weekday=settings.payment_reminder_weekday,
            payment_lead_day=settings.payment_lead_day,
            complaint_remind_days=settings.complaint_remind_days,
            union_budget_per_member_fen=settings.union_budget_per_member_fen,
            overview_dir=settings.overview_dir,
        )
