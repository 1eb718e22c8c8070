"""The optional separate action server (`python -m bot actions`): the same executor behind a small aiohttp app.

It answers Rasa's action calls at /webhook only with the shared secret (ACTION_SERVER_TOKEN) in a header,
listens on 127.0.0.1 unless told otherwise, and refuses bodies over MAX_BODY_BYTES, compressed or not.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
import zlib
from typing import Any

from aiohttp import web
from rasa_sdk.executor import ActionExecutor

from bot.dialogue.actions import TOKEN_HEADER, answer_action_call

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # an action call carries one conversation session: far below this
EXECUTOR_KEY: web.AppKey[ActionExecutor] = web.AppKey("executor", ActionExecutor)
TOKEN_KEY: web.AppKey[str] = web.AppKey("token", str)
HEALTH_PATH = "/health"


class TooLarge(web.HTTPRequestEntityTooLarge):
    """A body over the limit once decompressed."""

    def __init__(self) -> None:
        super().__init__(max_size=MAX_BODY_BYTES, actual_size=MAX_BODY_BYTES + 1)


def _inflate(body: bytes) -> bytes:
    """A deflate body (Rasa's COMPRESS_ACTION_SERVER_REQUEST) inflated to at most the limit."""
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(body, MAX_BODY_BYTES + 1)
    except zlib.error as exc:
        raise web.HTTPBadRequest(text="invalid deflate body") from exc
    if len(data) > MAX_BODY_BYTES or inflater.unconsumed_tail:
        raise TooLarge()
    return data


@web.middleware
async def require_token(request: web.Request, handler: Any) -> web.StreamResponse:
    """401 without the shared secret, 403 with a wrong one (the health check excepted); before the body is read."""
    if request.path != HEALTH_PATH:
        given = request.headers.get(TOKEN_HEADER)
        if given is None:
            raise web.HTTPUnauthorized(text="missing action server token")
        if not hmac.compare_digest(given.encode(), request.app[TOKEN_KEY].encode()):
            raise web.HTTPForbidden(text="wrong action server token")
    response: web.StreamResponse = await handler(request)
    return response


async def webhook(request: web.Request) -> web.Response:
    """Run one action call, answering as rasa_sdk's own server does (200, or 400/404/500 with its error body)."""
    body = await request.read()  # bounded by the app's client_max_size (413 beyond)
    encoding = request.headers.get("Content-Encoding", "identity").lower()
    if encoding == "deflate":
        body = _inflate(body)
    elif encoding != "identity":
        raise web.HTTPUnsupportedMediaType(text=f"unsupported Content-Encoding {encoding}")
    try:
        action_call = json.loads(body)
    except ValueError:
        action_call = None
    if not isinstance(action_call, dict):
        return web.json_response({"error": "Invalid body request"}, status=400)
    status, answer = await answer_action_call(request.app[EXECUTOR_KEY], action_call)
    return web.json_response(answer, status=status)


async def health(_request: web.Request) -> web.Response:
    """Liveness check (no token needed, nothing revealed)."""
    return web.json_response({"status": "ok"})


def make_app(executor: ActionExecutor, token: str) -> web.Application:
    """The action server's application; refuses to exist without a token."""
    if not token:
        raise ValueError("ACTION_SERVER_TOKEN is not set: the action server does not start without a shared secret")
    app = web.Application(middlewares=[require_token], client_max_size=MAX_BODY_BYTES)
    app[EXECUTOR_KEY] = executor
    app[TOKEN_KEY] = token
    app.router.add_post("/webhook", webhook)
    app.router.add_get(HEALTH_PATH, health)
    return app


async def serve(executor: ActionExecutor, token: str, host: str, port: int, stop: asyncio.Event) -> None:
    """Run the action server until `stop` is set."""
    # auto_decompress off: aiohttp would inflate a body whole before any size check; `_inflate` is bounded.
    runner = web.AppRunner(make_app(executor, token), auto_decompress=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        logger.info("action server listening on %s:%d", host, port)
        await stop.wait()
    finally:
        await runner.cleanup()


def run(executor: ActionExecutor, token: str, host: str, port: int) -> None:
    """Run the action server until SIGINT or SIGTERM."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(executor, token, host, port, stop)

    asyncio.run(main())
