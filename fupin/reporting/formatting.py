"""How the reports write amounts, dates and targets in Chinese; and the rule that forms are per quarter."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from fupin.periods import Period
from fupin.settings import TIMEZONE
from fupin.values import format_decimal


def require_quarter(period: Period) -> None:
    """Raise ValueError unless the period is a quarter (the forms and the overview are quarterly)."""
    if period.quarter is None:
        raise ValueError("quarterly reports need a quarter, not a whole year")


def yuan(fen: int) -> str:
    """An amount in fen as 元 with two decimals and thousands separators (1,234.50元)."""
    return f"{Decimal(fen) / 100:,.2f}元"


def chinese_date(day: date) -> str:
    """A date as people write it in a message (2019年9月30日)."""
    return f"{day.year}年{day.month}月{day.day}日"


def local_minute(moment: datetime) -> str:
    """A moment in Asia/Shanghai to the minute (2019-09-28 10:00)."""
    return f"{moment.astimezone(TIMEZONE):%Y-%m-%d %H:%M}"


def target_wan(fen: int | None) -> str:
    """A target in 万元 without trailing zeros (6000万元)."""
    # Targets are round numbers of 万元; amounts use `fupin.reporting.sales.wan` with two decimals.
    return f"{format_decimal(Decimal(fen or 0) / 1_000_000)}万元"
