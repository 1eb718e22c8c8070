"""The fake Bot API's HTTP side: aiohttp in a thread of its own, long polling, webhook delivery."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import socket
import threading
import time
from types import TracebackType
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from harness.fake_telegram.errors import ApiError
from harness.fake_telegram.faults import Faults
from harness.fake_telegram.methods import BotApiMethods
from harness.fake_telegram.state import (
    DEFAULT_TOKEN,
    POLL_CONFLICT,
    SHUTDOWN_GRACE,
    STRING_PARAMS,
    UPLOAD_LIMIT,
    WEBHOOK_CONFLICT,
    Upload,
    _Record,
    _short,
)

logger = logging.getLogger(__name__)


def _decode_param(name: str, value: str) -> Any:
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class FakeTelegram(Faults, BotApiMethods):
    """A Bot API server on 127.0.0.1 that records every call and lets tests feed updates and faults."""

    def __init__(self, token: str = DEFAULT_TOKEN, bot_id: int = 100, bot_username: str = "fupin_test_bot") -> None:
        super().__init__(token, bot_id, bot_username)
        # The server thread and what lives on its event loop.
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self._worker: asyncio.Task[None] | None = None
        self._changed: asyncio.Event | None = None
        self._stop_event: asyncio.Event | None = None
        self._stopping = False
        self._methods = self.method_table()

    # --- lifecycle -------------------------------------------------------------------------------------

    def __enter__(self) -> FakeTelegram:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """The Bot API URL without the token, for ApplicationBuilder.base_url."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """The file download URL without the token, for ApplicationBuilder.base_file_url."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    def start(self) -> None:
        """Bind 127.0.0.1 on a free port and serve from a background thread; a no-op when running."""
        with self._lifecycle:
            if self._thread is not None:
                return
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            loop = asyncio.new_event_loop()
            ready = threading.Event()
            failure: list[BaseException] = []
            thread = threading.Thread(
                target=self._serve, args=(loop, sock, ready, failure), name=f"fake-telegram-{port}", daemon=True
            )
            thread.start()
            if not ready.wait(10):
                raise RuntimeError("FakeTelegram did not start within 10 s")
            if failure:
                thread.join()
                sock.close()
                raise RuntimeError("FakeTelegram could not start") from failure[0]
            self._port, self._loop, self._thread = port, loop, thread
            logger.info("fake Telegram listening on 127.0.0.1:%d", port)

    def stop(self) -> None:
        """Stop serving (long polls in progress are answered at once); a no-op when not running."""
        with self._lifecycle:
            loop, thread = self._loop, self._thread
            if loop is None or thread is None:
                return
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
            finally:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(timeout=10)
                self._loop = None
                self._thread = None
            logger.info("fake Telegram on port %s stopped", self._port)

    def _serve(
        self, loop: asyncio.AbstractEventLoop, sock: socket.socket, ready: threading.Event, failure: list[BaseException]
    ) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._setup(sock))
        except Exception as exc:  # handed to start(), which raises it in the caller's thread
            failure.append(exc)
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _setup(self, sock: socket.socket) -> None:
        self._stopping = False
        self._changed = asyncio.Event()
        self._stop_event = asyncio.Event()
        app = web.Application(client_max_size=UPLOAD_LIMIT + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api_endpoint)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file_endpoint)
        app.router.add_route("*", "/{tail:.*}", self._unknown_endpoint)
        # handler_cancellation: a long poll whose client went away stops at once instead of lingering.
        runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_GRACE, handler_cancellation=True, access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        self._runner = runner
        self._session = ClientSession(timeout=ClientTimeout(total=10))
        self._worker = asyncio.create_task(self._webhook_worker())

    async def _shutdown(self) -> None:
        self._stopping = True
        assert self._stop_event is not None
        self._stop_event.set()
        self._notify()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()
        current = asyncio.current_task()
        leftovers = [task for task in asyncio.all_tasks() if task is not current]
        for task in leftovers:
            task.cancel()
        for task in leftovers:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _notify(self) -> None:
        # Runs on the server loop: wakes every long poll and the webhook worker.
        if self._changed is None:
            return
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _notify_threadsafe(self) -> None:
        # No lifecycle lock here: stop() holds it while the loop may wait for self._lock, held by our caller.
        loop = self._loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(self._notify)
        except RuntimeError:
            # The loop closed since we looked: the server stopped, nobody is waiting for updates.
            logger.debug("fake Telegram: update queued while the server stops")

    async def _pause(self, seconds: float) -> None:
        # A sleep that ends early when the server stops.
        assert self._stop_event is not None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stop_event.wait(), seconds)

    # --- HTTP endpoints --------------------------------------------------------------------------------

    async def _api_endpoint(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        record: _Record | None = None
        try:
            params = await self._read_params(request)
            record = self._record(method, params)
            return await self._answer(request.match_info["token"], method, params, record)
        except web.HTTPRequestEntityTooLarge:
            record = record or self._record(method, {})
            return self._error_response(record, ApiError(413, "Request Entity Too Large"))
        except Exception as exc:  # a bug in the fake: answered 500, logged, kept for the test (see errors)
            return self._server_error(record or self._record(method, {}), exc)
        finally:
            if record is not None:
                self._finish(record, 499)  # still unanswered here: the client went away (handler cancelled)

    async def _file_endpoint(self, request: web.Request) -> web.Response:
        record = self._record("downloadFile", {"file_path": request.match_info["path"]})
        try:
            return await self._download(request.match_info["token"], request.match_info["path"], record)
        except Exception as exc:  # a bug in the fake: answered 500, logged, kept for the test (see errors)
            return self._server_error(record, exc)
        finally:
            self._finish(record, 499)

    def _server_error(self, record: _Record, exc: Exception) -> web.Response:
        logger.error("fake Telegram: %s failed", record.method, exc_info=exc)
        with self._lock:
            self._errors.append(exc)
        return self._error_response(record, ApiError(500, f"Internal Server Error: {exc!r}"))

    async def _download(self, token: str, path: str, record: _Record) -> web.Response:
        if token != self.token:
            return self._error_response(record, ApiError(401, "Unauthorized"))
        fault = self._take_fault("downloadFile")
        if fault is not None and fault.delay:
            await self._pause(fault.delay)
        if fault is not None and fault.status >= 300:
            return self._error_response(record, fault.error())
        with self._lock:
            file_id = self._file_paths.get(path)
            stored = self._files.get(file_id) if file_id else None
            if stored is None:
                return self._error_response(record, ApiError(404, "Not Found"))
            self._finish(record, 200)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def _unknown_endpoint(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = {key: _decode_param(key, value) for key, value in request.query.items()}
        if request.content_type == "application/json":
            body = await request.read()
            if body:
                params.update(json.loads(body))
        elif request.method == "POST":
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    params[key] = Upload(value.filename, value.content_type, value.file.read())
                else:
                    params[key] = _decode_param(key, str(value))
        return params

    def _record(self, method: str, params: dict[str, Any]) -> _Record:
        record = _Record(method, params, time.monotonic())
        with self._lock:
            self._records.append(record)
        logger.debug("fake Telegram ← %s %s", method, _short(params))
        return record

    def _finish(self, record: _Record, status: int) -> None:
        with self._lock:
            if record.status == 0:
                record.status = status
                record.finished = time.monotonic()

    def _error_response(self, record: _Record, error: ApiError) -> web.Response:
        self._finish(record, error.status)
        body: dict[str, Any] = {"ok": False, "error_code": error.status, "description": error.description}
        if error.parameters:
            body["parameters"] = error.parameters
        logger.debug("fake Telegram → %s %d %s", record.method, error.status, error.description)
        return web.json_response(body, status=error.status, dumps=lambda v: json.dumps(v, ensure_ascii=False))

    async def _answer(self, token: str, method: str, params: dict[str, Any], record: _Record) -> web.Response:
        if token != self.token:
            return self._error_response(record, ApiError(401, "Unauthorized"))
        name = method.lower()
        if name != "getupdates" and name not in self._methods:
            return self._error_response(record, ApiError(404, "Not Found: method not found"))
        fault = self._take_fault(method)
        if fault is not None and fault.status >= 300:
            if fault.delay:
                await self._pause(fault.delay)
            return self._error_response(record, fault.error())
        try:
            if name == "getupdates":
                result = await self._get_updates(params)
                self._finish(record, 200)
            else:
                with self._lock:
                    # The state change and the 200 are recorded together: sent_to never runs ahead of calls.
                    result = self._methods[name](params)
                    self._finish(record, 200)
        except ApiError as error:
            return self._error_response(record, error)
        body = json.dumps({"ok": True, "result": result}, ensure_ascii=False)
        if fault is not None and fault.delay:
            # Delivered already: a client that times out now misses the answer, not the message.
            await self._pause(fault.delay)
        return web.Response(text=body, content_type="application/json")

    # --- updates: long polling and webhook -------------------------------------------------------------

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        with self._lock:
            if self._webhook_url:
                raise ApiError(409, WEBHOOK_CONFLICT)
            if "allowed_updates" in params:
                self._allowed_updates = list(params["allowed_updates"]) or None
            self._poll_generation += 1
            generation = self._poll_generation
        self._notify()  # an older long poll still waiting is terminated, as Telegram does
        while True:
            assert self._changed is not None
            changed = self._changed
            with self._lock:
                if generation != self._poll_generation:
                    raise ApiError(409, POLL_CONFLICT)
                self._confirm(offset)
                offset = 0  # confirmed once; later rounds of this poll must not drop anything more
                batch = self._pending[:limit]
                if batch:
                    now = time.monotonic()
                    for update in batch:
                        meta = self._update_meta[update["update_id"]]
                        meta.delivered_at = meta.delivered_at or now
                    return copy.deepcopy(batch)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._stopping:
                return []
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    def _confirm(self, offset: int) -> None:
        # offset confirms every update below it; a negative offset keeps only the last -offset ones.
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    async def _webhook_worker(self) -> None:
        failures = 0
        while not self._stopping:
            assert self._changed is not None
            changed = self._changed
            with self._lock:
                url, secret = self._webhook_url, self._webhook_secret
                update = copy.deepcopy(self._pending[0]) if url and self._pending else None
            if update is None:
                await changed.wait()
                continue
            problem = await self._post_update(url, secret, update)
            with self._lock:
                if problem is None:
                    failures = 0
                    self._pending = [u for u in self._pending if u["update_id"] != update["update_id"]]
                    self._update_meta[update["update_id"]].delivered_at = time.monotonic()
                    continue
                failures += 1
                self._webhook_errors.append(f"update {update['update_id']} to {url}: {problem}")
                self._webhook_last_error = (int(time.time()), problem)
            logger.warning("fake Telegram: webhook delivery of update %d failed: %s", update["update_id"], problem)
            await self._pause(min(0.1 * 2**failures, 2.0))

    async def _post_update(self, url: str, secret: str | None, update: dict[str, Any]) -> str | None:
        assert self._session is not None
        # PTB's webhook handler wants exactly "application/json", without a charset.
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        body = json.dumps(update, ensure_ascii=False).encode("utf-8")
        try:
            async with self._session.post(url, data=body, headers=headers) as response:
                if 200 <= response.status < 300:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except (ClientError, asyncio.TimeoutError, OSError) as exc:
            return f"{type(exc).__name__}: {exc}"
