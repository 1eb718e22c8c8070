"""Rasa's action endpoint: the custom actions in this process (the default), or a pooled HTTP connection
to a separately started action server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from http import HTTPStatus
from typing import Any

import aiohttp
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, ClientResponseError, EndpointConfig
from rasa_sdk.executor import ActionExecutor

from bot.dialogue.actions import TOKEN_HEADER, answer_action_call

logger = logging.getLogger(__name__)

ACTION_CONNECTIONS = 16  # connections to the action server at most; more calls wait for one
ACTION_KEEPALIVE = 2.0  # seconds an idle connection is kept
IN_PROCESS_URL = "in-process://actions"  # named in Rasa's error messages; never connected to


class InProcessEndpoint(EndpointConfig):
    """The action endpoint as rasa_sdk's executor in this process: no HTTP, no child process, no port.

    Rasa's RemoteAction hands its action call to `request`, which answers what the action server would:
    the executor's result through a JSON round trip (plain JSON values, nothing shared with the caller),
    and for a refused or unknown action the same error (status and body) an HTTP answer would raise.
    """

    def __init__(self, executor: ActionExecutor) -> None:
        super().__init__(url=IN_PROCESS_URL)
        self._executor = executor

    async def request(
        self,
        method: str = "post",
        subpath: str | None = None,
        content_type: str | None = "application/json",
        compress: bool = False,
        **kwargs: Any,
    ) -> Any | None:
        """Run the action call in `json` through the executor and return the action server's answer."""
        action_call = json.loads(json.dumps(kwargs.get("json")))
        status, body = await answer_action_call(self._executor, action_call)
        if status >= 400:
            raise ClientResponseError(status, HTTPStatus(status).phrase, json.dumps(body, ensure_ascii=False))
        return json.loads(json.dumps(body))

    async def close(self) -> None:
        """Nothing to close (the same interface as the pooled endpoint)."""


class PooledEndpoint(EndpointConfig):
    """A separately started action server's endpoint, keeping its HTTP connections from one call to the next.

    Rasa's `EndpointConfig.request` opens a new client session, hence a new TCP connection, for each call
    and closes it afterwards, on both sides of the call. Here the session lives until `close()`, called on
    the event loop that made it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One session per event loop (tests run several loops in one process), made on first use.
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
            weakref.WeakKeyDictionary()
        )

    def session(self) -> Any:
        """The running loop's shared client session, handed over so that Rasa's `async with` keeps it open."""
        loop = asyncio.get_running_loop()
        shared = self._sessions.get(loop)
        if shared is None or shared.closed:
            shared = aiohttp.ClientSession(
                headers=self.headers,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                # Idle connections are dropped here before the action server drops them, so a call never
                # goes out on a connection the server is closing.
                connector=aiohttp.TCPConnector(limit=ACTION_CONNECTIONS, keepalive_timeout=ACTION_KEEPALIVE),
            )
            self._sessions[loop] = shared
        return contextlib.nullcontext(shared)

    async def close(self) -> None:
        """Close the session of the running loop."""
        shared = self._sessions.pop(asyncio.get_running_loop(), None)
        if shared is not None:
            await shared.close()


def pooled_endpoint(url: str, token: str = "") -> PooledEndpoint:
    """The endpoint of an action server at `url`, sending the shared secret it requires."""
    return PooledEndpoint(url=url, headers={TOKEN_HEADER: token} if token else None)
