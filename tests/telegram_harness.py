"""Run the real Telegram Application (run_polling or run_webhook) in a thread against the fake Bot API."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from telegram.ext import Application

from bot.dialogue.assistant import Dialogue
from bot.telegram.app import build_application
from bot.telegram.ratelimit import RateLimiter
from bot.telegram.runtime import Runtime
from fupin.settings import Settings
from tests.e2e import Bot
from tests.fake_telegram import FakeTelegram

ADMIN_ID = 9001


def settings_for(fake: FakeTelegram, database_url: str, **overrides: Any) -> Settings:
    """Settings pointing the bot at the fake Bot API."""
    base = Settings(
        database_url=database_url,
        telegram_bot_token=fake.token,
        telegram_base_url=fake.base_url,
        telegram_base_file_url=fake.base_file_url,
        admin_telegram_ids=(ADMIN_ID,),
        push_interval_seconds=0.2,
        reminders_enabled=False,  # the scheduler has tests of its own; here it would only add noise
    )
    return replace(base, **overrides)


class RunningBot:
    """A running Application: its thread, its loop, and how to stop it."""

    def __init__(self, application: Application, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:  # type: ignore[type-arg]
        self.application = application
        self.loop = loop
        self.thread = thread
        self.error: BaseException | None = None

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the application to stop as Ctrl-C would, and wait for its thread."""
        self.loop.call_soon_threadsafe(self.application.stop_running)
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the bot did not stop"


@contextmanager
def running_telegram(
    fake: FakeTelegram,
    settings: Settings,
    dialogue: Dialogue,
    sessions: Any,
    *,
    webhook: dict[str, Any] | None = None,
) -> Iterator[RunningBot]:
    """Start the bot (polling, or webhook with the given run_webhook arguments); stop it afterwards."""
    runtime = Runtime(
        settings=settings,
        sessions=sessions,
        dialogue=dialogue,
        limiter=RateLimiter(settings.rate_limit_burst, settings.rate_limit_per_minute),
    )
    application = build_application(settings, runtime)
    loop = asyncio.new_event_loop()
    box: dict[str, BaseException] = {}

    def main() -> None:
        asyncio.set_event_loop(loop)
        try:
            if webhook is not None:
                application.run_webhook(stop_signals=None, close_loop=False, **webhook)
            else:
                application.run_polling(stop_signals=None, close_loop=False, timeout=1)
        except BaseException as exc:  # handed to the test thread, which re-raises it
            box["error"] = exc

    thread = threading.Thread(target=main, name="telegram-bot", daemon=True)
    thread.start()
    running = RunningBot(application, loop, thread)
    try:
        # Ready when it takes updates: after post_init (the command menu) the webhook is set or polling begins.
        listening = "setWebhook" if webhook is not None else "getUpdates"
        fake.wait_for(lambda f: bool(f.calls(listening)) or "error" in box, timeout=60)
        if "error" in box:
            raise box["error"]
        yield running
    finally:
        if thread.is_alive():
            running.stop()
        close = getattr(dialogue, "close", None)
        if close is not None:  # its connections to the action server were made on this loop
            loop.run_until_complete(close())
        loop.close()
    if "error" in box:
        raise box["error"]


def with_bot(bot: Bot, fake: FakeTelegram, **overrides: Any) -> Any:
    """`running_telegram` on the shared test assistant and its database."""
    url = str(bot.sessions.kw["bind"].url)
    return running_telegram(fake, settings_for(fake, url, **overrides), bot.assistant, bot.sessions)
