"""Before and after the handlers: the per-user flood limit, and the one error handler."""

from __future__ import annotations

import functools
import logging

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.telegram import texts
from bot.telegram.chat import say
from bot.telegram.ratelimit import Verdict
from bot.telegram.retry import call_with_retry
from bot.telegram.runtime import Context, runtime_of

logger = logging.getLogger(__name__)


async def rate_limit(update: Update, context: Context) -> None:
    """Runs before every handler: refuse a flood from one user, telling them once."""
    user = update.effective_user
    if user is None or update.effective_chat is None:
        return
    verdict = runtime_of(context).limiter.check(user.id)
    if verdict is Verdict.OK:
        return
    if verdict is Verdict.WARN:
        logger.info("user %s is sending too fast", user.id)
        if update.callback_query is not None:
            await call_with_retry(
                functools.partial(update.callback_query.answer, texts.TOO_FAST), what="answer callback", idempotent=True
            )
        else:
            await say(context.bot, update.effective_chat.id, texts.TOO_FAST)
    raise ApplicationHandlerStop


async def on_error(update: object, context: Context) -> None:
    """Log an update's failure with its context and apologise to the user; the bot keeps running."""
    where = ""
    if isinstance(update, Update):
        user = update.effective_user
        where = f"update {update.update_id} from user {user.id if user else '?'}"
    logger.error("error while handling %s", where or "a non-update", exc_info=context.error)
    # A database or network outage is "busy, try again"; anything else an apology.
    answer = texts.BUSY if isinstance(context.error, (SQLAlchemyError, ConnectionError)) else texts.SORRY
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, answer)
        except TelegramError as exc:
            logger.warning("could not apologise to chat %s: %s", update.effective_chat.id, exc)
