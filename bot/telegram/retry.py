"""Calls to the Bot API with retries: honour 429's retry_after, back off on 5xx and network errors.

A request that timed out while Telegram was reading or answering it may already have been
delivered, so a message is re-sent only when it surely was not (connection or pool timeouts,
errors answered by the server); idempotent calls (edits, callback answers, downloads) always retry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import httpx
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.telegram.aiohttp_request import NotSentTimeout

logger = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 4
BASE_DELAY = 0.5  # seconds; doubled on each attempt
MAX_RETRY_AFTER = 60.0  # a longer flood wait is not waited out inside one conversation turn


class NotSent(Exception):
    """A call given up on; `maybe_delivered` when Telegram may have received it anyway."""

    def __init__(self, reason: str, maybe_delivered: bool = False) -> None:
        super().__init__(reason)
        self.maybe_delivered = maybe_delivered


def retry_after_seconds(error: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def surely_not_sent(error: TimedOut) -> bool:
    """A timeout before the request reached Telegram (connecting, or waiting for a free connection)."""
    return isinstance(error.__cause__, (httpx.ConnectTimeout, httpx.PoolTimeout, NotSentTimeout))


async def call_with_retry(
    call: Callable[[], Awaitable[T]],
    *,
    what: str,
    idempotent: bool = False,
    attempts: int = ATTEMPTS,
    base_delay: float = BASE_DELAY,
) -> T:
    """Run a Bot API call, retrying transient failures; Forbidden and BadRequest are raised at once."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except (Forbidden, BadRequest):
            raise
        except RetryAfter as exc:
            delay = retry_after_seconds(exc)
            if delay > MAX_RETRY_AFTER or attempt == attempts:
                raise NotSent(f"{what}: flood control, retry after {delay:.0f}s") from exc
            logger.info("%s: 429, waiting %.1fs as Telegram asks (attempt %d)", what, delay, attempt)
        except TimedOut as exc:
            if not idempotent and not surely_not_sent(exc):
                # Telegram may have delivered it: sending again could show the message twice.
                raise NotSent(f"{what}: timed out, maybe delivered", maybe_delivered=True) from exc
            if attempt == attempts:
                raise NotSent(f"{what}: timed out {attempts} times") from exc
            delay = base_delay * 2 ** (attempt - 1)
            logger.info("%s: timed out before sending, retrying in %.1fs", what, delay)
        except NetworkError as exc:
            if attempt == attempts:
                raise NotSent(f"{what}: {exc.message}") from exc
            delay = base_delay * 2 ** (attempt - 1)
            logger.info("%s: %s, retrying in %.1fs (attempt %d)", what, exc.message, delay, attempt)
        await asyncio.sleep(delay)
    raise AssertionError("unreachable")
