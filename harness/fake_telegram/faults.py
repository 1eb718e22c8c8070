"""Injected faults of the fake Bot API: error answers, delays, blocked and never-started chats."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

from harness.fake_telegram.errors import ApiError
from harness.fake_telegram.state import ChatState

FAULT_DESCRIPTIONS = {
    400: "Bad Request: injected error",
    401: "Unauthorized",
    403: "Forbidden: injected error",
    404: "Not Found",
    409: "Conflict: injected error",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    delay: float | None

    def error(self) -> ApiError:
        if self.status == 429:
            seconds = self.retry_after if self.retry_after is not None else 1
            return ApiError(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})
        try:
            default = f"{HTTPStatus(self.status).phrase}"
        except ValueError:
            default = "Injected error"
        return ApiError(self.status, FAULT_DESCRIPTIONS.get(self.status, default))


class Faults(ChatState):
    """What a test can make go wrong (mixed into FakeTelegram; the state lives in ChatState)."""

    def block(self, user_id: int) -> None:
        """The user blocked the bot: anything sent to their chat gets 403."""
        with self._lock:
            self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        """The user unblocked the bot."""
        with self._lock:
            self._blocked.discard(user_id)

    def never_started(self, user_id: int) -> None:
        """The user never opened a chat with the bot: anything sent there gets 400 chat not found."""
        with self._lock:
            self._not_started.add(user_id)

    def fail_next(
        self, method: str, status: int, times: int = 1, retry_after: int | None = None, delay: float | None = None
    ) -> None:
        """The next `times` calls of a method get `status` (after `delay` s); a 2xx status only delays them."""
        if not 200 <= status <= 599:
            raise ValueError(f"not an HTTP status: {status}")
        with self._lock:
            queue = self._faults.setdefault(method.lower(), [])
            queue.extend(_Fault(status, retry_after, delay) for _ in range(times))

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            queue = self._faults.get(method.lower())
            return queue.pop(0) if queue else None
