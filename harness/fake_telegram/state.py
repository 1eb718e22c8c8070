"""What the fake Bot API remembers: chats, messages, files, pending updates, calls; feeding and inspecting it."""

from __future__ import annotations

import copy
import itertools
import json
import logging
import mimetypes
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from harness.fake_telegram.errors import ApiError
from harness.fake_telegram.html import utf16_length
from harness.waiting import wait_until

if TYPE_CHECKING:  # faults.py builds on ChatState
    from harness.fake_telegram.faults import _Fault

logger = logging.getLogger(__name__)
S = TypeVar("S", bound="ChatState")  # wait_for's predicate gets the fake itself (FakeTelegram in tests)

DEFAULT_TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuv"
DEFAULT_FIRST_NAME = "用户"
MESSAGE_LIMIT = 4096  # UTF-16 code units
CAPTION_LIMIT = 1024  # UTF-16 code units
CALLBACK_DATA_LIMIT = 64  # bytes of UTF-8
UPLOAD_LIMIT = 50 * 1024 * 1024  # what a bot may upload
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # what getFile serves to a bot
SHUTDOWN_GRACE = 0.5  # seconds the server waits for answers in flight when stopping

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


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= limit else text[:limit] + "…"


class ChatState:
    """The server's memory, guarded by one lock; the HTTP side (server.py) and the Bot API methods share it."""

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

    @staticmethod
    def _commands_key(scope: dict[str, Any] | None, language_code: str | None) -> tuple[str, str]:
        return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or ""

    def _notify(self) -> None:
        """Wake long polls and the webhook worker (on the server loop); the server overrides it."""

    def _notify_threadsafe(self) -> None:
        """_notify from any thread; the server overrides it."""

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

    def send_photo(self, user_id: int, data: bytes, caption: str | None = None) -> str:
        """A photo from a user (one size, as a phone sends a small picture). Returns its file_id."""
        with self._lock:
            self._remember_user(user_id, None, None)
            stored = self._store_file("photo.jpg", data, "image/jpeg")
            size = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "width": 640, "height": 480,
                    "file_size": len(data)}  # fmt: skip
            fields: dict[str, Any] = {"photo": [size]}
            if caption is not None:
                fields["caption"] = caption
            message = self._new_message(user_id, self._user(user_id), fields)
            self._enqueue(user_id, {"message": message})
            return stored.file_id

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

    def unconfirmed(self, chat_id: int) -> list[int]:
        """The ids of a chat's updates the bot has not confirmed yet: a restarted bot receives them again."""
        with self._lock:
            return [u["update_id"] for u in self._pending if self._update_meta[u["update_id"]].chat_id == chat_id]

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

    def wait_for(self: S, predicate: Callable[[S], bool], timeout: float = 30.0) -> None:
        """Poll until predicate(self) holds; AssertionError with the recent calls otherwise."""
        wait_until(lambda: predicate(self), timeout, self.describe)

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
