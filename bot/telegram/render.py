"""Dialogue replies as Telegram messages: split under the size limit, buttons as inline keyboards."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

logger = logging.getLogger(__name__)

# Telegram counts a message's length in UTF-16 code units; stay a little under its 4096.
MESSAGE_LIMIT = 4000
CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit for a button's data
SHORT_TITLE = 6  # titles this short sit three to a row


def utf16_length(text: str) -> int:
    """A text's length as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split a long text into messages at line breaks (inside a line only when it must)."""
    if utf16_length(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while utf16_length(line) > limit:
            head, line = _cut(line, limit)
            if current:
                parts.append(current)
                current = ""
            parts.append(head)
        if utf16_length(current + line) > limit:
            parts.append(current)
            current = ""
        current += line
    if current:
        parts.append(current)
    return [part.strip("\n") or part for part in parts if part.strip()]


def _cut(line: str, limit: int) -> tuple[str, str]:
    # Cut at a character boundary (never inside a surrogate pair) so both halves fit the count.
    size = 0
    for index, char in enumerate(line):
        size += utf16_length(char)
        if size > limit:
            return line[:index], line[index:]
    return line, ""


def fits_callback(data: str) -> bool:
    """Whether a button's data fits Telegram's 64 bytes."""
    return len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT


def inline_keyboard(buttons: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup | None:
    """Buttons as an inline keyboard: short titles three to a row, long ones one per row."""
    usable = []
    for title, data in buttons:
        if fits_callback(data):
            usable.append(InlineKeyboardButton(title, callback_data=data))
        else:
            # Never send data Telegram would refuse (the whole message would fail).
            logger.warning("button %r dropped: its data is longer than %d bytes", title, CALLBACK_DATA_LIMIT)
    if not usable:
        return None
    if all(len(b.text) <= SHORT_TITLE for b in usable):
        rows = [usable[i : i + 3] for i in range(0, len(usable), 3)]
    else:
        rows = [[b] for b in usable]
    return InlineKeyboardMarkup(rows)


def contact_keyboard() -> ReplyKeyboardMarkup:
    """A one-time keyboard with Telegram's share-my-phone button."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton("📱 发送我的手机号", request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
        input_field_placeholder="也可以直接输入电话号码",
    )
