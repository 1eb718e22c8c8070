"""python-telegram-bot's Bot API requests over aiohttp instead of httpx: a third of the CPU per request.

Each turn makes two or three requests (the reply; for a button also the callback answer and the keyboard's
retirement), and httpx spends about 1 ms of CPU on each on this machine, aiohttp about 0.35 ms
(bench/load_bench.py; aiohttp's HTTP parser is compiled). The contract is python-telegram-bot's
`BaseRequest.do_request`: the status and body of the answer; `TimedOut` when a timeout ran out, with a
cause telling whether the request surely never left (waiting for a free connection, or connecting:
`NotSentTimeout`) or may have reached Telegram (reading the answer); `NetworkError` for anything else that
went wrong on the way.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

logger = logging.getLogger(__name__)


class NotSentTimeout(Exception):
    """The cause of a `TimedOut` raised before any byte of the request was sent (pool or connect)."""


class AiohttpRequest(BaseRequest):
    """Requests to the Bot API through one aiohttp session with at most `connection_pool_size` connections."""

    def __init__(
        self,
        connection_pool_size: int = 1,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._timeouts = {"read": read_timeout, "write": write_timeout, "connect": connect_timeout}
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._slots: asyncio.Semaphore | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout in seconds."""
        return self._timeouts["read"]

    async def initialize(self) -> None:
        """Open the session (on the running event loop)."""
        if self._session is None or self._session.closed:
            # A request holds a slot from before it takes a connection until its answer is read, so that
            # waiting for a free connection is told apart from connecting (aiohttp times both as "connect").
            self._slots = asyncio.Semaphore(self._pool_size)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
                # python-telegram-bot decodes the JSON itself; no cookies to keep.
                cookie_jar=aiohttp.DummyCookieJar(),
            )

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request and return the answer's status and body (see `BaseRequest.do_request`)."""
        if self._session is None or self._session.closed or self._slots is None:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        read = self._timeouts["read"] if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._timeouts["connect"] if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        write = write_timeout
        if isinstance(write, DefaultValue):
            write = self._media_write_timeout if files else self._timeouts["write"]
        try:
            await asyncio.wait_for(self._slots.acquire(), pool)
        except asyncio.TimeoutError:
            raise TimedOut(
                "Pool timeout: All connections in the connection pool are occupied. Request was *not* sent to "
                "Telegram. Consider adjusting the connection pool size or the pool timeout."
            ) from NotSentTimeout("pool")
        try:
            return await self._send(url, method, request_data, files, connect, write, read)
        finally:
            self._slots.release()

    async def _send(
        self,
        url: str,
        method: str,
        request_data: RequestData | None,
        files: Any,
        connect: float | None,
        write: float | None,
        read: float | None,
    ) -> tuple[int, bytes]:
        assert self._session is not None
        data: Any = None
        if request_data is not None:
            data = _form(request_data.json_parameters, files) if files else request_data.json_parameters
        # aiohttp has no write timeout of its own: for an upload, writing the body and reading the answer
        # share the socket read timeout, raised to the (media) write timeout when that is longer.
        sock_read = read
        if files and read is not None:
            sock_read = None if write is None else max(read, write)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=sock_read)
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as answer:
                return answer.status, await answer.read()
        except aiohttp.ServerTimeoutError as exc:
            if _while_connecting(exc):
                raise TimedOut("Connect timeout: request was not sent to Telegram") from NotSentTimeout("connect")
            raise TimedOut from exc
        except asyncio.TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc


def _while_connecting(error: aiohttp.ServerTimeoutError) -> bool:
    """Whether a timeout hit while connecting (aiohttp 3.9 tells only by its class or message)."""
    connect_error = getattr(aiohttp, "ConnectionTimeoutError", None)  # aiohttp ≥ 3.10
    if connect_error is not None and isinstance(error, connect_error):
        return True
    return str(error).startswith("Connection timeout")


def _form(fields: dict[str, str], files: dict[str, Any]) -> aiohttp.FormData:
    """A multipart body: the JSON-encoded parameters and the files (name → (filename, content, mime type))."""
    # File names as UTF-8, as httpx sends them (quoting would show 附件2 as %E9%99%84… in the chat).
    form = aiohttp.FormData(quote_fields=False)
    for name, value in fields.items():
        form.add_field(name, value)
    for name, part in files.items():
        filename, content, mimetype = part
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
