"""The Bot API methods the fake implements, each a change of ChatState (called with its lock held)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from harness.fake_telegram.errors import ApiError
from harness.fake_telegram.html import _strip_text, parse_html, utf16_length
from harness.fake_telegram.state import (
    CALLBACK_DATA_LIMIT,
    CAPTION_LIMIT,
    CHAT_ACTIONS,
    COMMAND_RE,
    DOWNLOAD_LIMIT,
    INLINE_BUTTON_ACTIONS,
    MESSAGE_LIMIT,
    NOT_MODIFIED,
    SECRET_TOKEN_RE,
    UPLOAD_LIMIT,
    ChatState,
    Sent,
    Upload,
)


class BotApiMethods(ChatState):
    """sendMessage, editMessageText, setWebhook … (mixed into FakeTelegram over ChatState)."""

    def method_table(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        """The methods by lower-case Bot API name (getUpdates is the server's own: it waits)."""
        return {
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
            "sendphoto": self._send_photo,
            "sendchataction": self._send_chat_action,
            "getfile": self._get_file,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "setchatmenubutton": self._set_chat_menu_button,
            "getchatmenubutton": self._get_chat_menu_button,
        }

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

    def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        # Only a photo the fake already holds (sent again by its file_id): what the bot does with evidence.
        chat_id = self._target_chat(params.get("chat_id"))
        photo = params.get("photo")
        if not isinstance(photo, str) or photo not in self._files:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        stored = self._files[photo]
        size = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "width": 640, "height": 480}
        message = self._new_message(chat_id, self._bot_user(), {"photo": [size]})
        self._sent.setdefault(chat_id, []).append(
            Sent("sendPhoto", message["message_id"], None, None, stored.name, stored.data)
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
