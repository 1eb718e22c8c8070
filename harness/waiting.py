"""Waiting for a condition instead of sleeping a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable

POLL_INTERVAL = 0.02  # seconds between checks: short against the waits, long against a check's cost


def wait_until(
    predicate: Callable[[], bool],
    timeout: float = 30.0,
    describe: Callable[[], str] = lambda: "",
    interval: float = POLL_INTERVAL,
) -> None:
    """Return as soon as predicate() holds; AssertionError (with describe()) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s\n{describe()}".rstrip())
        time.sleep(interval)
