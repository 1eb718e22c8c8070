"""Network pieces for multi-process tests: a TCP proxy that can cut the database off, and a round-robin balancer."""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from aiohttp import ClientSession, ClientTimeout, web

logger = logging.getLogger(__name__)
T = TypeVar("T")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _LoopThread:
    """An event loop in a thread of its own, so synchronous tests can drive servers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


class TcpProxy:
    """Forwards 127.0.0.1:port to a server; `cut()` drops every connection and refuses new ones, like a stopped server."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._runner = _LoopThread()
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def start(self) -> None:
        """Accept connections."""
        self._runner.call(self._listen())

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, upstream_writer}
        await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def cut(self) -> None:
        """The server goes away: open connections are reset and new ones refused."""
        self._runner.call(self._cut())

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        """The server is back."""
        self.start()

    def stop(self) -> None:
        """Close everything."""
        self.cut()
        self._runner.close()


class RoundRobin:
    """An HTTP balancer in front of several webhook workers: each request goes to the next one."""

    def __init__(self, targets: list[str]) -> None:
        self.port = free_port()
        self.targets = targets
        self.forwarded: list[str] = []  # which target took each request
        self._next = itertools.cycle(targets)
        self._runner = _LoopThread()
        self._site_runner: web.AppRunner | None = None

    def start(self) -> None:
        """Listen."""
        self._runner.call(self._start())

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._site_runner = web.AppRunner(app)
        await self._site_runner.setup()
        await web.TCPSite(self._site_runner, "127.0.0.1", self.port).start()

    async def _forward(self, request: web.Request) -> web.Response:
        target = next(self._next)
        self.forwarded.append(target)
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with (
            ClientSession(timeout=ClientTimeout(total=60)) as client,
            client.request(request.method, target + request.path_qs, data=body, headers=headers) as answer,
        ):
            return web.Response(status=answer.status, body=await answer.read())

    def stop(self) -> None:
        """Stop listening."""
        if self._site_runner is not None:
            self._runner.call(self._site_runner.cleanup())
        self._runner.close()
