"""Deliver the outbox (`fupin.outreach.notifications`) to Telegram: new orders, status changes, reminders."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot
from telegram.error import BadRequest, Forbidden

from bot.telegram import CHANNEL
from bot.telegram.render import inline_keyboard, split_text
from bot.telegram.retry import NotSent, call_with_retry
from fupin.outreach import notifications
from fupin.outreach.notifications import Push

logger = logging.getLogger(__name__)

BATCH = 20


class PushSender:
    """Claims due pushes from the database and sends them; one per bot process."""

    def __init__(self, bot: Bot, sessions: sessionmaker[Session], interval: float) -> None:
        self._bot = bot
        self._sessions = sessions
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def start(self) -> None:
        """Run the delivery loop in the background."""
        self._task = asyncio.create_task(self._run(), name="push-sender")

    def wake(self) -> None:
        """Look for pushes now (e.g. right after a conversation turn that may have written one)."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop the loop (pushes not sent yet stay in the outbox for next time)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                sent = await self.deliver_once()
            except SQLAlchemyError:
                logger.exception("push delivery: database unavailable, trying again shortly")
                sent = 0
            if sent < BATCH:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
                self._wake.clear()

    async def deliver_once(self) -> int:
        """Send what is due now; returns how many pushes were handled."""
        pushes = await asyncio.to_thread(self._claim)
        for push in pushes:
            outcome = await self._send(push)
            await asyncio.to_thread(self._record, push, outcome)
        return len(pushes)

    def _claim(self) -> list[Push]:
        with self._sessions() as session, session.begin():
            return notifications.claim(session, CHANNEL, limit=BATCH)

    async def _send(self, push: Push) -> tuple[str, str, float]:
        chat_id = int(push.external_id)
        try:
            chunks = split_text(push.text)
            for index, chunk in enumerate(chunks):
                markup = inline_keyboard(push.buttons) if index == len(chunks) - 1 else None
                await call_with_retry(
                    functools.partial(self._bot.send_message, chat_id, chunk, reply_markup=markup),
                    what=f"push {push.id}",
                )
            for attachment in push.attachments:
                if attachment.startswith(notifications.PHOTO_PREFIX):
                    # A photo Telegram already holds (a complaint's evidence): sent again by its file id.
                    photo = attachment.removeprefix(notifications.PHOTO_PREFIX)
                    send = functools.partial(self._bot.send_photo, chat_id, photo)
                else:
                    path = Path(attachment)
                    send = functools.partial(self._bot.send_document, chat_id, path.read_bytes(), filename=path.name)
                await call_with_retry(send, what=f"push {push.id} file")
        except Forbidden as exc:
            return "undelivered", f"forbidden: {exc.message}", 0.0
        except BadRequest as exc:
            # "chat not found": the user never started the bot; nothing to retry.
            return "undelivered", f"bad request: {exc.message}", 0.0
        except NotSent as exc:
            if exc.maybe_delivered:
                return "sent", f"maybe delivered: {exc}", 0.0
            return "retry", str(exc), min(300.0, 5.0 * 2**push.attempts)
        except FileNotFoundError as exc:
            return "undelivered", f"attachment missing: {exc.filename}", 0.0
        return "sent", "", 0.0

    def _record(self, push: Push, outcome: tuple[str, str, float]) -> None:
        status, reason, delay = outcome
        with self._sessions() as session, session.begin():
            if status == "sent":
                notifications.mark_sent(session, push.id)
            elif status == "undelivered":
                notifications.mark_undelivered(session, push.id, reason)
            else:
                notifications.mark_retry(session, push, reason, delay)
