"""The limits orders live by: how long a read-back stays confirmable, how long a contact has to confirm, caps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fupin.settings import Settings


@dataclass(frozen=True)
class OrderRules:
    """Order limits from the settings; a cap of 0 is off.

    `max_share_percent` is the share of what a listing had available to the buyer (its remaining stock plus
    the buyer's own unconfirmed orders of it) that the buyer's unconfirmed orders of it may take together.
    """

    readback_ttl: timedelta = timedelta(minutes=30)
    confirm_within: timedelta = timedelta(days=3)
    max_open_orders: int = 3
    max_share_percent: int = 50
    payment_hold_days: int = 60  # see fupin.orders.overdue; 0 is off

    @classmethod
    def from_settings(cls, settings: Settings) -> OrderRules:
        """The rules the settings name (READBACK_TTL_MINUTES, ORDER_CONFIRM_DAYS, MAX_…)."""
        return cls(
            readback_ttl=timedelta(minutes=settings.readback_ttl_minutes),
            confirm_within=timedelta(days=settings.order_confirm_days),
            max_open_orders=settings.max_open_orders_per_buyer,
            max_share_percent=settings.max_share_of_listing_percent,
            payment_hold_days=settings.payment_hold_days,
        )

    @property
    def readback_minutes(self) -> int:
        """The read-back's lifetime in whole minutes, for messages."""
        return int(self.readback_ttl.total_seconds() // 60)
