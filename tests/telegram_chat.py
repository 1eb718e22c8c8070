"""Talking to the bot through the fake Bot API as a user would: send, wait for the answer, press buttons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.fake_telegram import FakeTelegram, Sent
from harness.telegram_app import running_telegram, settings_for
from tests.e2e import Bot

TIMEOUT = 60.0


def messages(fake: FakeTelegram, user: int) -> list[Sent]:
    """What the bot sent to a user (new messages and files, not edits of earlier ones)."""
    return [m for m in fake.sent_to(user) if m.method != "editMessageText"]


def wait_messages(fake: FakeTelegram, user: int, count: int, timeout: float = TIMEOUT) -> list[Sent]:
    """Wait until the bot has sent a user `count` messages in all."""
    fake.wait_for(lambda f: len(messages(f, user)) >= count, timeout=timeout)
    return messages(fake, user)


def say(fake: FakeTelegram, user: int, text: str, expect: int = 1) -> list[Sent]:
    """Send a text and return the `expect` messages that answer it."""
    before = len(messages(fake, user))
    fake.send_text(user, text)
    return wait_messages(fake, user, before + expect)[before:]


def say_one(fake: FakeTelegram, user: int, text: str) -> Sent:
    """Send a text and return the first message that answers it."""
    return say(fake, user, text)[0]


def titles(message: Sent) -> list[str]:
    """The titles of a message's inline buttons."""
    markup = message.reply_markup or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


def button_data(message: Sent, title_part: str) -> str:
    """The data of the first inline button whose title contains a text."""
    assert message.reply_markup is not None, f"no buttons on {message.text!r}"
    return next(
        b["callback_data"] for row in message.reply_markup["inline_keyboard"] for b in row if title_part in b["text"]
    )


def press_data(fake: FakeTelegram, user: int, message: Sent, data: str, expect: int = 1) -> list[Sent]:
    """Press a button by its data and return the messages that answer it."""
    before = len(messages(fake, user))
    fake.press(user, message.message_id, data)
    return wait_messages(fake, user, before + expect)[before:]


def press(fake: FakeTelegram, user: int, message: Sent, title_part: str, expect: int = 1) -> list[Sent]:
    """Press the button whose title contains a text and return the messages that answer it."""
    return press_data(fake, user, message, button_data(message, title_part), expect)


def press_one(fake: FakeTelegram, user: int, message: Sent, title_part: str) -> Sent:
    """Press a button and return the first message that answers it."""
    return press(fake, user, message, title_part)[0]


def send_file(fake: FakeTelegram, user: int, path: Path, caption: str | None = None, expect: int = 2) -> list[Sent]:
    """Send a document and return the messages that answer it."""
    before = len(messages(fake, user))
    fake.send_document(user, path, caption=caption)
    return wait_messages(fake, user, before + expect)[before:]


def wait_text(fake: FakeTelegram, user: int, part: str, timeout: float = 30.0) -> Sent:
    """Wait for a message to a user containing a text (a push, say)."""
    fake.wait_for(lambda f: any(part in (m.text or "") for m in messages(f, user)), timeout=timeout)
    return next(m for m in messages(fake, user) if part in (m.text or ""))


def with_bot(bot: Bot, fake: FakeTelegram, **overrides: Any) -> Any:
    """`running_telegram` on the shared test assistant and its database."""
    url = str(bot.sessions.kw["bind"].url)
    return running_telegram(fake, settings_for(fake, url, **overrides), bot.assistant, bot.sessions)
