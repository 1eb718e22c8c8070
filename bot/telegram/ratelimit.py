"""A per-user flood limit: a token bucket for each user, kept by the bot process."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

logger = logging.getLogger(__name__)


class Verdict(str, Enum):
    """What to do with a user's message."""

    OK = "ok"  # handle it
    WARN = "warn"  # refuse it with a notice (the first refusal)
    DROP = "drop"  # ignore it (already told)


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class RateLimiter:
    """Allow a burst of messages per user, then a steady rate; the first refusal says so once."""

    def __init__(
        self,
        burst: int,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        max_users: int = 100_000,
    ) -> None:
        self.burst = float(burst)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._max_users = max_users
        self._buckets: OrderedDict[int, _Bucket] = OrderedDict()

    def check(self, user_id: int) -> Verdict:
        """Whether to handle a user's message, refuse it with a notice, or ignore it."""
        now = self._clock()
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = _Bucket(self.burst, now)
            self._buckets[user_id] = bucket
            if len(self._buckets) > self._max_users:
                self._buckets.popitem(last=False)  # forget the longest-idle user, bounding memory
        else:
            self._buckets.move_to_end(user_id)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.warned = False
            return Verdict.OK
        if bucket.warned:
            return Verdict.DROP
        bucket.warned = True
        return Verdict.WARN
