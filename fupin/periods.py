"""Quarters and years of the plan, in Asia/Shanghai: parsing "2019Q3" or 这个季度, and their deadlines."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from fupin.settings import TIMEZONE


@dataclass(frozen=True)
class Period:
    """A reporting period: one quarter, or a whole year (quarter None)."""

    year: int
    quarter: int | None = None

    @property
    def start(self) -> date:
        """First day of the period."""
        return date(self.year, 1 if self.quarter is None else 3 * self.quarter - 2, 1)

    @property
    def end(self) -> date:
        """Day after the last day of the period."""
        if self.quarter is None or self.quarter == 4:
            return date(self.year + 1, 1, 1)
        return date(self.year, 3 * self.quarter + 1, 1)

    @property
    def label(self) -> str:
        """The period in Chinese (2019年第3季度, 2019年)."""
        return f"{self.year}年" + (f"第{self.quarter}季度" if self.quarter else "")

    @property
    def code(self) -> str:
        """The period as the command line writes it (2019Q3, 2019)."""
        return f"{self.year}Q{self.quarter}" if self.quarter else str(self.year)

    @property
    def deadline(self) -> date:
        """When reports for a quarter are due: the 30th of its last month (the plan's rule)."""
        if self.quarter is None:
            raise ValueError("a year has no report deadline")
        return date(self.year, 3 * self.quarter, 30)

    def previous(self) -> Period:
        """The quarter before (or the year before)."""
        if self.quarter is None:
            return Period(self.year - 1)
        return Period(self.year, self.quarter - 1) if self.quarter > 1 else Period(self.year - 1, 4)


def today() -> date:
    """Today in Asia/Shanghai."""
    return datetime.now(TIMEZONE).date()


def quarter_of(day: date) -> Period:
    """The quarter a day falls in."""
    return Period(day.year, (day.month - 1) // 3 + 1)


# Years a period may name: the programme's, with room either side (0000年 or 9999Q4 are no dates to sum over).
YEARS = range(2000, 2101)


def parse_period(text: str, on: date | None = None) -> Period | None:
    """A period from 2019Q3, 2019年第三季度, 这个季度, 上季度, 今年, 去年; None when none is named."""
    period = _parse_period(text, on or today())
    return period if period is not None and period.year in YEARS else None


def _parse_period(text: str, on: date) -> Period | None:
    text = text.strip()
    match = re.fullmatch(r"(\d{4})\s*[Qq]([1-4])", text)
    if match:
        return Period(int(match[1]), int(match[2]))
    match = re.search(r"(\d{4})年?第?([1-4一二三四])季度?", text)
    if match:
        return Period(int(match[1]), "一二三四".index(match[2]) + 1 if not match[2].isdigit() else int(match[2]))
    if re.search(r"上个?季度", text):
        return quarter_of(on).previous()
    if re.search(r"这个?季度|本季度|该季度|季度", text):
        return quarter_of(on)
    if re.search(r"去年|上一?年", text):
        return Period(on.year - 1)
    if re.search(r"今年|本年|全年|年度", text):
        return Period(on.year)
    match = re.fullmatch(r"(\d{4})年?", text)
    if match:
        return Period(int(match[1]))
    return None
