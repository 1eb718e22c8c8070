"""What the Telegram handlers share: settings, database sessions, the dialogue, the flood limit, pushes."""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import CallbackContext, ExtBot

from bot.dialogue.assistant import Dialogue
from bot.dialogue.runtime import DialogueRuntime
from bot.scheduler import ReminderService
from bot.telegram.pushes import PushSender
from bot.telegram.ratelimit import RateLimiter
from fupin.db import make_engine, make_session_factory
from fupin.settings import Settings

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Shared clients of one bot process; created in post_init, closed in post_shutdown."""

    settings: Settings
    sessions: sessionmaker[Session]
    dialogue: Dialogue
    limiter: RateLimiter
    engine: Engine | None = None  # set when this runtime owns it
    dialogue_runtime: DialogueRuntime | None = None  # set when this runtime started it
    pushes: PushSender | None = None
    # One lock per user, so one person's messages are answered in the order they were sent,
    # while different people are served concurrently. Unused locks disappear with their users.
    _locks: weakref.WeakValueDictionary[int, asyncio.Lock] = field(default_factory=weakref.WeakValueDictionary)

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        """Connect to the database and start the dialogue (the agent, with its actions in process)."""
        engine = make_engine(settings.database_url)
        dialogue_runtime = DialogueRuntime.start(settings)
        return cls(
            settings=settings,
            sessions=make_session_factory(engine),
            dialogue=dialogue_runtime.dialogue,
            limiter=RateLimiter(settings.rate_limit_burst, settings.rate_limit_per_minute),
            engine=engine,
            dialogue_runtime=dialogue_runtime,
        )

    def lock_for(self, user_id: int) -> asyncio.Lock:
        """The lock that orders one user's turns."""
        lock = self._locks.get(user_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[user_id] = lock
        return lock

    def wake_pushes(self) -> None:
        """A turn may have written pushes (a new order): send them now rather than at the next tick."""
        if self.pushes is not None:
            self.pushes.wake()

    async def close(self) -> None:
        """Release what `open` created."""
        if self.pushes is not None:
            await self.pushes.stop()
        if self.dialogue_runtime is not None:
            await self.dialogue_runtime.close()
        if self.engine is not None:
            self.engine.dispose()


class BotData:
    """The application's bot_data: the runtime, once post_init has set it."""

    def __init__(self) -> None:
        self.runtime: Runtime | None = None
        self.owns_runtime = False
        self.reminders: ReminderService | None = None


Context = CallbackContext[ExtBot[None], dict, dict, BotData]  # type: ignore[type-arg]


def runtime_of(context: Context) -> Runtime:
    """The runtime of a handler's application."""
    runtime = context.bot_data.runtime
    if runtime is None:
        raise RuntimeError("the bot's runtime is not ready (post_init has not run)")
    return runtime
