"""A local fake Telegram Bot API server for end-to-end tests of a real python-telegram-bot Application.

The server is aiohttp in a background thread with its own event loop, on 127.0.0.1 and a free port, so
synchronous test code and the bot's own event loop can both use it. It speaks the Bot API as PTB sends it
(form-encoded or multipart bodies whose complex values are JSON strings) and answers as Telegram does
(`ok`/`result`, or `ok: false` with `error_code`, `description` and `parameters.retry_after`).

Behaviour choices worth knowing in tests:

* Updates fed with send_text/press/send_document/share_contact wait in one queue. Without a webhook they
  are returned by getUpdates until confirmed by a later `offset`; after setWebhook they are POSTed to the
  webhook URL one at a time, in order, with the X-Telegram-Bot-Api-Secret-Token header. A failed POST
  (refused connection, non-2xx answer) is recorded in `webhook_errors` and in getWebhookInfo's
  last_error_*, and retried with a growing pause, as Telegram does; deleteWebhook leaves undelivered
  updates for getUpdates.
* fail_next(..., delay=s) with a 2xx status performs the call at once (the message is stored and listed by
  sent_to, the Call gets status 200) and only then waits before answering. A client that times out
  meanwhile gets TimedOut although the message was delivered, as with the real server; tests can check
  that the bot does not send it twice. With an error status the server waits, then answers the error
  and delivers nothing.
* getUpdates honours offset (confirming what lies below it; negative keeps the last -offset), limit and
  timeout, and answers a long poll as soon as an update arrives or the server stops. A newer getUpdates
  ends an older one still waiting with 409 Conflict, and getUpdates while a webhook is set gets 409, as on
  Telegram. allowed_updates (from getUpdates or setWebhook) applies to updates fed afterwards: those of
  other types are dropped with a warning in the log, which is how a bot that forgot "callback_query" fails.
* A chat is reachable unless block() or never_started() was called for it; an update fed from that user
  afterwards clears both (the user unblocked the bot, or started it).
* Message texts are stored and listed as the user sees them: with parse_mode HTML the tags are parsed
  into entities, and leading and trailing whitespace is stripped; the 4096 limit applies to that text.
  The HTML check is stricter than Telegram's in one point: a '&' that starts no escape is refused.
* Editing a message's text without reply_markup removes its inline keyboard, as on Telegram.
* press() accepts any data, also one no longer on the message (a user tapping a stale keyboard).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import logging
import mimetypes
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuv"
DEFAULT_FIRST_NAME = "用户"
MESSAGE_LIMIT = 4096  # UTF-16 code units
CAPTION_LIMIT = 1024  # UTF-16 code units
CALLBACK_DATA_LIMIT = 64  # bytes of UTF-8
UPLOAD_LIMIT = 50 * 1024 * 1024  # what a bot may upload
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # what getFile serves to a bot
SHUTDOWN_GRACE = 0.5  # seconds the server waits for answers in flight when stopping
POLL_INTERVAL = 0.02  # seconds between checks in the wait_* helpers

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
POLL_CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)

# Parameters that PTB sends as plain strings: JSON-decoding them would turn a text "123" into a number.
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "url",
        "secret_token",
        "callback_query_id",
        "inline_message_id",
        "action",
        "file_id",
        "language_code",
        "description",
        "short_description",
        "name",
        "title",
        "emoji",
        "ip_address",
        "business_connection_id",
        "message_effect_id",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
INLINE_BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
LEADING_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)")
SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
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


def utf16_length(text: str) -> int:
    """A text's length in UTF-16 code units, as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class Call:
    """One Bot API call as the server saw it; status 0 while unanswered, 499 when the client went away."""

    method: str
    params: dict[str, Any]
    time: float  # time.monotonic() when the request arrived
    status: int


@dataclass(frozen=True)
class Sent:
    """A message delivered to a chat (sendMessage, sendDocument) or a text edit (editMessageText)."""

    method: str
    message_id: int
    text: str | None  # the text or caption as the user sees it
    reply_markup: dict[str, Any] | None
    document_name: str | None = None
    document_bytes: bytes | None = field(default=None, repr=False)


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


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


@dataclass
class _Record:
    method: str
    params: dict[str, Any]
    time: float
    status: int = 0
    finished: float | None = None

    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    name: str
    mime_type: str
    data: bytes
    path: str


@dataclass
class _UpdateMeta:
    chat_id: int
    fed_at: float
    delivered_at: float | None = None


@dataclass
class _OpenTag:
    name: str
    start: int
    attrs: dict[str, str]
    language: str | None = None


# --- HTML parse mode -----------------------------------------------------------------------------------

_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ESCAPE_RE = re.compile(r"&(?:(lt|gt|amp|quot);|#([0-9]{1,7});|#[xX]([0-9a-fA-F]{1,6});)")
_NAMED_ESCAPES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ATTR_RE = re.compile(r"""([A-Za-z][A-Za-z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")


def _parse_error(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {detail}")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_escape(match: re.Match[str]) -> str:
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED_ESCAPES[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise _parse_error(f"invalid character reference {match.group(0)}")
    return chr(code)


def _tag_attrs(body: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for match in _ATTR_RE.finditer(body):
        name, double, single, bare = match.groups()
        value = next((v for v in (double, single, bare) if v is not None), "")
        attrs[name.lower()] = _ESCAPE_RE.sub(_decode_escape, value)
    return attrs


def _closed_entity(tag: _OpenTag, end: int, parent: _OpenTag | None) -> dict[str, Any] | None:
    if tag.name == "code" and parent is not None and parent.name == "pre":
        # <pre><code class="language-x"> is one pre entity with a language, as Telegram parses it.
        language = tag.attrs.get("class", "")
        if language.startswith("language-"):
            parent.language = language.removeprefix("language-")
            return None
    if end == tag.start:
        return None
    entity: dict[str, Any] = {"type": _HTML_ENTITY_TYPES[tag.name], "offset": tag.start, "length": end - tag.start}
    if tag.name == "a":
        if not tag.attrs.get("href"):
            return None
        entity["url"] = tag.attrs["href"]
    elif tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
    return entity


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """The visible text and entities of an HTML-formatted text, or ApiError 400 as Telegram answers."""
    out: list[str] = []
    offset = 0  # in UTF-16 code units of the visible text
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "&":
            match = _ESCAPE_RE.match(text, index)
            if match is None:
                raise _parse_error(f"unescaped '&' at byte offset {_byte_offset(text, index)}")
            decoded = _decode_escape(match)
            out.append(decoded)
            offset += utf16_length(decoded)
            index = match.end()
            continue
        if char != "<":
            out.append(char)
            offset += utf16_length(char)
            index += 1
            continue
        where = _byte_offset(text, index)
        end = text.find(">", index)
        if end == -1:
            raise _parse_error(f"Unclosed start tag at byte offset {where}")
        if text.startswith("</", index):
            name = text[index + 2 : end].strip().lower()
            if not stack:
                raise _parse_error(f"Unexpected end tag at byte offset {where}")
            if name != stack[-1].name:
                raise _parse_error(
                    f'Unmatched end tag at byte offset {where}, expected "</{stack[-1].name}>", found "</{name}>"'
                )
            tag = stack.pop()
            entity = _closed_entity(tag, offset, stack[-1] if stack else None)
            if entity is not None:
                entities.append(entity)
        else:
            body = text[index + 1 : end]
            match = _TAG_NAME_RE.match(body)
            name = match.group(0).lower() if match else ""
            if name not in _HTML_ENTITY_TYPES:
                raise _parse_error(f'Unsupported start tag "{name}" at byte offset {where}')
            attrs = _tag_attrs(body[len(name) :])
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise _parse_error(f'Tag "span" must have class "tg-spoiler" at byte offset {where}')
            stack.append(_OpenTag(name, offset, attrs))
        index = end + 1
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    # Telegram trims a message's leading and trailing whitespace; entities move with the text.
    stripped = text.strip()
    prefix = utf16_length(text[: len(text) - len(text.lstrip())])
    total = utf16_length(stripped)
    moved: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"] - prefix, 0)
        end = min(entity["offset"] + entity["length"] - prefix, total)
        if end > start:
            moved.append({**entity, "offset": start, "length": end - start})
    return stripped, moved


def _decode_param(name: str, value: str) -> Any:
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= limit else text[:limit] + "…"


# --- the server ----------------------------------------------------------------------------------------


class FakeTelegram:
    """A Bot API server on 127.0.0.1 that records every call and lets tests feed updates and faults."""

    def __init__(self, token: str = DEFAULT_TOKEN, bot_id: int = 100, bot_username: str = "fupin_test_bot") -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self._lock = threading.RLock()
        self._lifecycle = threading.Lock()
        self._t0 = time.monotonic()
        # Everything below is guarded by self._lock.
        self._records: list[_Record] = []
        self._sent: dict[int, list[Sent]] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._last_message_id: dict[int, int] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._pending: list[dict[str, Any]] = []
        self._update_meta: dict[int, _UpdateMeta] = {}
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._callbacks: set[str] = set()
        self._files: dict[str, _StoredFile] = {}
        self._file_paths: dict[str, str] = {}
        self._blocked: set[int] = set()
        self._not_started: set[int] = set()
        self._faults: dict[str, list[_Fault]] = {}
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._menu_buttons: dict[int | None, dict[str, Any]] = {}
        self._webhook_url = ""
        self._webhook_secret: str | None = None
        self._webhook_last_error: tuple[int, str] | None = None
        self._allowed_updates: list[str] | None = None
        self._dropped: list[int] = []
        self._poll_generation = 0
        self._errors: list[BaseException] = []
        self._webhook_errors: list[str] = []
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
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getme": self._get_me,
            "logout": self._true,
            "close": self._true,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "senddocument": self._send_document,
            "sendchataction": self._send_chat_action,
            "getfile": self._get_file,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "setchatmenubutton": self._set_chat_menu_button,
            "getchatmenubutton": self._get_chat_menu_button,
        }

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

    # --- feeding updates -------------------------------------------------------------------------------

    def send_text(
        self, user_id: int, text: str, first_name: str = DEFAULT_FIRST_NAME, username: str | None = None
    ) -> int:
        """A text message from a user; a leading /command gets its bot_command entity. Returns the update_id."""
        with self._lock:
            self._remember_user(user_id, first_name, username)
            fields: dict[str, Any] = {"text": text}
            command = LEADING_COMMAND_RE.match(text)
            if command:
                fields["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_length(command.group(0))}]
            message = self._new_message(user_id, self._user(user_id), fields)
            return self._enqueue(user_id, {"message": message})

    def press(self, user_id: int, message_id: int, data: str) -> int:
        """A user tapping an inline button with `data` on a message the bot sent. Returns the update_id."""
        with self._lock:
            message = self._messages.get((user_id, message_id))
            if message is None or message["from"]["id"] != self.bot_id:
                raise ValueError(f"the bot sent no message {message_id} to chat {user_id}")
            self._remember_user(user_id, None, None)
            callback_id = str(4_000_000_000_000 + next(self._callback_ids))
            self._callbacks.add(callback_id)
            query = {
                "id": callback_id,
                "from": self._user(user_id),
                "message": copy.deepcopy(message),
                "chat_instance": str(-(user_id * 7919 + self.bot_id)),
                "data": data,
            }
            return self._enqueue(user_id, {"callback_query": query})

    def send_document(
        self,
        user_id: int,
        path: Path,
        file_name: str | None = None,
        caption: str | None = None,
        mime_type: str | None = None,
    ) -> int:
        """A file from a user, downloadable by the bot with getFile. Returns the update_id."""
        data = Path(path).read_bytes()
        name = file_name or Path(path).name
        with self._lock:
            self._remember_user(user_id, None, None)
            stored = self._store_file(name, data, mime_type)
            fields: dict[str, Any] = {"document": self._document(stored)}
            if caption is not None:
                fields["caption"] = caption
            message = self._new_message(user_id, self._user(user_id), fields)
            return self._enqueue(user_id, {"message": message})

    def share_contact(
        self, user_id: int, phone_number: str, first_name: str = DEFAULT_FIRST_NAME, contact_user_id: int | None = None
    ) -> int:
        """A user sharing a contact (their own phone by default). Returns the update_id."""
        with self._lock:
            self._remember_user(user_id, None, None)
            contact = {
                "phone_number": phone_number,
                "first_name": first_name,
                "user_id": user_id if contact_user_id is None else contact_user_id,
            }
            message = self._new_message(user_id, self._user(user_id), {"contact": contact})
            return self._enqueue(user_id, {"message": message})

    def _remember_user(self, user_id: int, first_name: str | None, username: str | None) -> None:
        # A user who writes has started the bot and (if they had) unblocked it.
        known = user_id in self._users
        user = self._users.setdefault(user_id, {"first_name": DEFAULT_FIRST_NAME, "username": None})
        # The default name does not overwrite one given earlier: users keep their names between messages.
        if first_name is not None and not (known and first_name == DEFAULT_FIRST_NAME):
            user["first_name"] = first_name
        if username is not None:
            user["username"] = username
        self._blocked.discard(user_id)
        self._not_started.discard(user_id)

    def _enqueue(self, chat_id: int, body: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        now = time.monotonic()
        self._update_meta[update_id] = _UpdateMeta(chat_id, now)
        kind = next(iter(body))
        if self._allowed_updates is not None and kind not in self._allowed_updates:
            # Telegram does not even keep updates of types the bot's last allowed_updates left out.
            logger.warning(
                "fake Telegram: update %d (%s) dropped: allowed_updates is %s", update_id, kind, self._allowed_updates
            )
            self._update_meta[update_id].delivered_at = now
            self._dropped.append(update_id)
            return update_id
        self._pending.append({"update_id": update_id, **body})
        self._notify_threadsafe()
        return update_id

    # --- inspection ------------------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Every API call in order of arrival, or those of one method (case-insensitive)."""
        wanted = method.lower() if method else None
        with self._lock:
            return [
                Call(r.method, r.params, r.time, r.status)
                for r in self._records
                if wanted is None or r.method.lower() == wanted
            ]

    def sent_to(self, chat_id: int) -> list[Sent]:
        """The messages delivered to a chat and the text edits made there, in order."""
        with self._lock:
            return list(self._sent.get(chat_id, []))

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """A stored message as it is now (after edits), or None."""
        with self._lock:
            found = self._messages.get((chat_id, message_id))
            return copy.deepcopy(found) if found is not None else None

    def my_commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, Any]]:
        """The command menu set for a scope (default scope when None)."""
        with self._lock:
            return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    @property
    def errors(self) -> list[BaseException]:
        """Unexpected exceptions in the server's handlers (each answered 500 and logged)."""
        with self._lock:
            return list(self._errors)

    @property
    def webhook_errors(self) -> list[str]:
        """Failed webhook deliveries, oldest first."""
        with self._lock:
            return list(self._webhook_errors)

    def describe(self, last: int = 30) -> str:
        """A dump of the recent calls, errors and queue, for failure messages."""
        with self._lock:
            records = self._records[-last:]
            lines = [
                f"fake Telegram: {len(self._records)} calls, {len(self._pending)} unconfirmed updates, "
                f"{len(self._dropped)} dropped by allowed_updates, webhook {self._webhook_url or 'none'}; "
                f"last {len(records)} calls:"
            ]
            for record in records:
                status = record.status or "…"
                lines.append(f"  {record.time - self._t0:8.3f}s {status} {record.method} {_short(record.params)}")
            lines.extend(f"  server error: {error!r}" for error in self._errors)
            lines.extend(f"  webhook error: {error}" for error in self._webhook_errors[-5:])
        return "\n".join(lines)

    def wait_for(self, predicate: Callable[[FakeTelegram], bool], timeout: float = 30.0) -> None:
        """Poll until predicate(self) holds; AssertionError with the recent calls otherwise."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout}s\n{self.describe()}")
            time.sleep(POLL_INTERVAL)

    def wait_sent(self, chat_id: int, count: int, timeout: float = 30.0) -> list[Sent]:
        """Wait until at least `count` messages were sent to a chat; returns them all."""
        self.wait_for(lambda fake: len(fake.sent_to(chat_id)) >= count, timeout)
        return self.sent_to(chat_id)

    def wait_idle(self, chat_id: int | None = None, quiet: float = 0.5, timeout: float = 30.0) -> None:
        """Wait until every update was handed to the bot and no call (getUpdates aside) came for `quiet` s."""
        self.wait_for(lambda fake: fake._idle_for(chat_id) >= quiet, timeout)

    def _idle_for(self, chat_id: int | None) -> float:
        # Seconds since the last activity (for one chat), or 0 while an update or a call is in flight.
        now = time.monotonic()
        with self._lock:
            last = self._t0
            for meta in self._update_meta.values():
                if chat_id is not None and meta.chat_id != chat_id:
                    continue
                if meta.delivered_at is None:
                    return 0.0
                last = max(last, meta.delivered_at)
            for record in self._records:
                if record.method.lower() == "getupdates" or (chat_id is not None and record.chat_id() != chat_id):
                    continue
                if record.finished is None:
                    return 0.0
                last = max(last, record.finished)
        return now - last

    # --- faults ----------------------------------------------------------------------------------------

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

    # --- building blocks -------------------------------------------------------------------------------

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_username, "username": self.bot_username}

    def _user(self, user_id: int) -> dict[str, Any]:
        known = self._users.get(user_id, {"first_name": DEFAULT_FIRST_NAME, "username": None})
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": known["first_name"]}
        if known["username"]:
            user["username"] = known["username"]
        return user

    def _chat(self, chat_id: int) -> dict[str, Any]:
        known = self._users.get(chat_id, {"first_name": DEFAULT_FIRST_NAME, "username": None})
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": known["first_name"]}
        if known["username"]:
            chat["username"] = known["username"]
        return chat

    def _new_message(self, chat_id: int, sender: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        # Both sides of a private chat share one message_id sequence, as on Telegram.
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        message = {
            "message_id": message_id,
            "from": sender,
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **fields,
        }
        self._messages[(chat_id, message_id)] = message
        return copy.deepcopy(message)

    def _store_file(self, name: str, data: bytes, mime_type: str | None) -> _StoredFile:
        number = next(self._file_ids)
        path = f"documents/{name}"
        if path in self._file_paths:
            stem, dot, suffix = name.rpartition(".")
            path = f"documents/{stem}_{number}{dot}{suffix}" if dot else f"documents/{name}_{number}"
        stored = _StoredFile(
            file_id=f"BQACAgUAAxkBAAI{number:08d}",
            file_unique_id=f"AgAD{number:08d}",
            name=name,
            mime_type=mime_type or mimetypes.guess_type(name)[0] or "application/octet-stream",
            data=data,
            path=path,
        )
        self._files[stored.file_id] = stored
        self._file_paths[path] = stored.file_id
        return stored

    @staticmethod
    def _document(stored: _StoredFile) -> dict[str, Any]:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": stored.name,
            "mime_type": stored.mime_type,
            "file_size": len(stored.data),
        }

    def _target_chat(self, chat_id: Any) -> int:
        if chat_id is None:
            raise ApiError(400, "Bad Request: chat_id is empty")
        try:
            target = int(chat_id)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None
        if target in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if target in self._not_started:
            raise ApiError(400, "Bad Request: chat not found")
        return target

    @staticmethod
    def _render(text: Any, parse_mode: Any, entities: Any, limit: int, what: str) -> tuple[str, list[dict[str, Any]]]:
        text = "" if text is None else str(text)
        mode = str(parse_mode or "").lower()
        if mode == "html":
            visible, found = parse_html(text)
        elif mode in ("", "markdown", "markdownv2"):
            # Markdown is not checked here; explicit entities are kept as given.
            visible, found = text, list(entities or [])
        else:
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        visible, found = _strip_text(visible, found)
        if what == "text" and not visible:
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_length(visible) > limit:
            raise ApiError(
                400,
                "Bad Request: message is too long" if what == "text" else "Bad Request: message caption is too long",
            )
        return visible, found

    @staticmethod
    def _check_markup(markup: Any) -> dict[str, Any] | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise ApiError(
                    400, 'Bad Request: can\'t parse inline keyboard: field "inline_keyboard" must be an Array of Arrays'
                )
            for button in (button for row in rows for button in row):
                if not isinstance(button, dict) or not button.get("text"):
                    raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text must be non-empty")
                if not INLINE_BUTTON_ACTIONS & button.keys():
                    raise ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
                    )
                if "callback_data" in button:
                    size = len(str(button["callback_data"]).encode("utf-8"))
                    if not 1 <= size <= CALLBACK_DATA_LIMIT:
                        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        elif "keyboard" in markup:
            for button in (button for row in markup["keyboard"] for button in row):
                text = button if isinstance(button, str) else button.get("text") if isinstance(button, dict) else None
                if not text:
                    raise ApiError(400, "Bad Request: can't parse keyboard button: Text must be non-empty")
        return markup

    @staticmethod
    def _inline_part(markup: dict[str, Any] | None) -> dict[str, Any] | None:
        # Only inline keyboards belong to a message; an empty one is none at all.
        if markup is None or not any(markup.get("inline_keyboard") or []):
            return None
        return copy.deepcopy(markup)

    def _reply_target(self, chat_id: int, params: dict[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters")
        message_id = reply.get("message_id") if isinstance(reply, dict) else params.get("reply_to_message_id")
        if message_id is None:
            return None
        found = self._messages.get((chat_id, int(message_id)))
        if found is not None:
            return copy.deepcopy({k: v for k, v in found.items() if k != "reply_to_message"})
        allowed = reply.get("allow_sending_without_reply") if isinstance(reply, dict) else None
        if allowed or params.get("allow_sending_without_reply"):
            return None
        raise ApiError(400, "Bad Request: message to be replied not found")

    def _editable(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: message to edit not found")
        chat_id = self._target_chat(params.get("chat_id"))
        message = self._messages.get((chat_id, int(params.get("message_id") or 0)))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message["from"]["id"] != self.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat_id, message

    @staticmethod
    def _commands_key(scope: dict[str, Any] | None, language_code: str | None) -> tuple[str, str]:
        return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or ""

    # --- Bot API methods (called with self._lock held) ---------------------------------------------------

    def _true(self, params: dict[str, Any]) -> bool:
        return True

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN_RE.fullmatch(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._drop_pending()
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"] or []) or None
        self._webhook_url = url
        self._webhook_secret = str(secret) if secret is not None and url else None
        self._webhook_last_error = None
        self._poll_generation += 1  # a long poll still waiting ends with a conflict
        self._notify()
        return True

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self._webhook_url = ""
        self._webhook_secret = None
        self._webhook_last_error = None
        return True

    def _drop_pending(self) -> None:
        now = time.monotonic()
        for update in self._pending:
            meta = self._update_meta[update["update_id"]]
            meta.delivered_at = meta.delivered_at or now
        self._pending = []

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook_url:
            info["max_connections"] = 40
            if self._allowed_updates is not None:
                info["allowed_updates"] = list(self._allowed_updates)
        if self._webhook_last_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._target_chat(params.get("chat_id"))
        text, entities = self._render(
            params.get("text"), params.get("parse_mode"), params.get("entities"), MESSAGE_LIMIT, "text"
        )
        markup = self._check_markup(params.get("reply_markup"))
        fields: dict[str, Any] = {"text": text}
        if entities:
            fields["entities"] = entities
        reply_to = self._reply_target(chat_id, params)
        if reply_to is not None:
            fields["reply_to_message"] = reply_to
        inline = self._inline_part(markup)
        if inline is not None:
            fields["reply_markup"] = inline
        message = self._new_message(chat_id, self._bot_user(), fields)
        self._sent.setdefault(chat_id, []).append(Sent("sendMessage", message["message_id"], text, markup))
        return message

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, message = self._editable(params)
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = self._render(
            params.get("text"), params.get("parse_mode"), params.get("entities"), MESSAGE_LIMIT, "text"
        )
        markup = self._check_markup(params.get("reply_markup"))
        inline = self._inline_part(markup)
        if (
            text == message["text"]
            and entities == message.get("entities", [])
            and inline == message.get("reply_markup")
        ):
            raise ApiError(400, NOT_MODIFIED)
        message["text"] = text
        message.pop("entities", None)
        if entities:
            message["entities"] = entities
        # Telegram drops the inline keyboard of a message whose text is edited without one.
        message.pop("reply_markup", None)
        if inline is not None:
            message["reply_markup"] = inline
        message["edit_date"] = int(time.time())
        self._sent.setdefault(chat_id, []).append(Sent("editMessageText", message["message_id"], text, markup))
        return copy.deepcopy(message)

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        _, message = self._editable(params)
        inline = self._inline_part(self._check_markup(params.get("reply_markup")))
        if inline == message.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        message.pop("reply_markup", None)
        if inline is not None:
            message["reply_markup"] = inline
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _delete_message(self, params: dict[str, Any]) -> bool:
        chat_id = self._target_chat(params.get("chat_id"))
        if self._messages.pop((chat_id, int(params.get("message_id") or 0)), None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        if str(params.get("callback_query_id")) not in self._callbacks:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        return True

    def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._target_chat(params.get("chat_id"))
        document = params.get("document")
        if isinstance(document, Upload):
            if not document.data:
                raise ApiError(400, "Bad Request: file must be non-empty")
            if len(document.data) > UPLOAD_LIMIT:
                raise ApiError(413, "Request Entity Too Large")
            stored = self._store_file(document.filename or "document", document.data, None)
        elif isinstance(document, str) and document in self._files:
            stored = self._files[document]
        elif document:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        else:
            raise ApiError(400, "Bad Request: there is no document in the request")
        fields: dict[str, Any] = {"document": self._document(stored)}
        caption: str | None = None
        if params.get("caption"):
            visible, entities = self._render(
                params.get("caption"),
                params.get("parse_mode"),
                params.get("caption_entities"),
                CAPTION_LIMIT,
                "caption",
            )
            if visible:
                caption = fields["caption"] = visible
            if visible and entities:
                fields["caption_entities"] = entities
        markup = self._check_markup(params.get("reply_markup"))
        inline = self._inline_part(markup)
        if inline is not None:
            fields["reply_markup"] = inline
        message = self._new_message(chat_id, self._bot_user(), fields)
        self._sent.setdefault(chat_id, []).append(
            Sent("sendDocument", message["message_id"], caption, markup, stored.name, stored.data)
        )
        return message

    def _send_chat_action(self, params: dict[str, Any]) -> bool:
        self._target_chat(params.get("chat_id"))
        if params.get("action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(stored.data) > DOWNLOAD_LIMIT:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.path,
        }

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: command description must be 1-256 characters long")
        scope = self._command_scope(params)
        self._commands[self._commands_key(scope, params.get("language_code"))] = copy.deepcopy(commands)
        return True

    def _command_scope(self, params: dict[str, Any]) -> dict[str, Any] | None:
        scope = params.get("scope")
        if isinstance(scope, dict) and "chat_id" in scope:
            self._target_chat(scope["chat_id"])
        return scope

    def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        key = self._commands_key(self._command_scope(params), params.get("language_code"))
        return copy.deepcopy(self._commands.get(key, []))

    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        key = self._commands_key(self._command_scope(params), params.get("language_code"))
        self._commands.pop(key, None)
        return True

    def _set_chat_menu_button(self, params: dict[str, Any]) -> bool:
        chat_id = params.get("chat_id")
        target = self._target_chat(chat_id) if chat_id is not None else None
        self._menu_buttons[target] = params.get("menu_button") or {"type": "default"}
        return True

    def _get_chat_menu_button(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        target = self._target_chat(chat_id) if chat_id is not None else None
        return copy.deepcopy(self._menu_buttons.get(target) or self._menu_buttons.get(None) or {"type": "default"})
