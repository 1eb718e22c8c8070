"""What every Telegram handler shares: who is writing, sending text and replies, buttons, admin checks, menus."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from telegram import Bot, BotCommandScopeChat, Message, ReplyKeyboardRemove, Update
from telegram.error import BadRequest, Forbidden

from bot.dialogue.assistant import Reply
from bot.telegram import CHANNEL, texts
from bot.telegram.render import contact_keyboard, inline_keyboard, split_text, utf16_length
from bot.telegram.retry import NotSent, call_with_retry
from bot.telegram.runtime import Context, Runtime, runtime_of
from fupin.outreach.users import Identity, identify, sender_of

logger = logging.getLogger(__name__)

# After a phone question the share-phone keyboard stays until a reply takes it away.
CONTACT_KEYBOARD_SHOWN = "contact_keyboard_shown"
# The web console's sign-in link, in the admins' menu.
WEB_COMMAND = ("web", "网页管理台登录链接")


def sender(update: Update) -> str:
    """The dialogue sender id of an update's user."""
    assert update.effective_user is not None
    return sender_of(CHANNEL, update.effective_user.id)


async def identity_of(runtime: Runtime, update: Update) -> Identity:
    """Who sent an update (role and place), read in a worker thread."""

    def read() -> Identity:
        with runtime.sessions() as session:
            return identify(session, sender(update))

    return await asyncio.to_thread(read)


async def say(bot: Bot, chat_id: int, text: str, **kwargs: Any) -> Message | None:
    """Send a text (split when long) with retries; None when it could not be sent."""
    message = None
    chunks = split_text(text)
    for index, chunk in enumerate(chunks):
        extra = kwargs if index == len(chunks) - 1 else {}
        try:
            message = await call_with_retry(functools.partial(bot.send_message, chat_id, chunk, **extra), what="reply")
        except (Forbidden, NotSent) as exc:
            logger.warning("reply to chat %s not sent: %s", chat_id, exc)
            return None
    return message


async def send_replies(bot: Bot, chat_id: int, replies: list[Reply], chat_data: dict[str, object]) -> None:
    """Send the dialogue's replies: buttons as inline keyboards, a phone question with the share button."""
    if not replies:
        # Every turn answers something; silence means the dialogue could not run an action.
        replies = [Reply(texts.BUSY)]
    for reply in replies:
        markup: object = None
        if reply.buttons:
            markup = inline_keyboard(reply.buttons)
        elif reply.request_contact:
            markup = contact_keyboard()
            chat_data[CONTACT_KEYBOARD_SHOWN] = True
        elif chat_data.pop(CONTACT_KEYBOARD_SHOWN, False):
            markup = ReplyKeyboardRemove()
        await say(bot, chat_id, reply.text or "请选择：", reply_markup=markup)


async def converse(update: Update, context: Context, text: str) -> None:
    """One conversation turn: the text (or button payload) to the dialogue, its replies back."""
    runtime = runtime_of(context)
    assert update.effective_user is not None and update.effective_chat is not None
    async with runtime.lock_for(update.effective_user.id):
        replies = await runtime.dialogue.reply(sender(update), text)
        await send_replies(context.bot, update.effective_chat.id, replies, context.chat_data or {})
    runtime.wake_pushes()


async def retire_keyboard(message: Message | None, data: str) -> None:
    """Show which button was pressed and remove the keyboard, so the same choice cannot be sent twice."""
    if message is None or message.reply_markup is None:
        return
    title = next((b.text for row in message.reply_markup.inline_keyboard for b in row if b.callback_data == data), "")
    new_text = f"{message.text}\n\n{texts.CHOSEN.format(title=title)}" if message.text and title else ""
    try:
        if new_text and utf16_length(new_text) <= 4096:
            await call_with_retry(
                lambda: message.edit_text(new_text, reply_markup=None), what="retire keyboard", idempotent=True
            )
        else:
            await call_with_retry(
                lambda: message.edit_reply_markup(reply_markup=None), what="retire keyboard", idempotent=True
            )
    except (BadRequest, NotSent) as exc:
        # Already retired by an earlier press, or too old to edit: the dialogue still checks the state.
        logger.info("keyboard not retired: %s", exc)


async def require_admin(update: Update, context: Context) -> Identity | None:
    """The sender's identity when an admin; otherwise answer that the command is not theirs."""
    identity = await identity_of(runtime_of(context), update)
    if identity.is_admin:
        return identity
    assert update.effective_chat is not None
    await say(context.bot, update.effective_chat.id, texts.ADMIN_ONLY)
    return None


async def set_admin_commands(bot: Bot, chat_id: int) -> None:
    """Show the admin commands in an admin's menu (in a private chat only)."""
    await _set_chat_commands(
        bot, chat_id, [*texts.PUBLIC_COMMANDS, *texts.ADMIN_COMMANDS, WEB_COMMAND], "admin commands"
    )


async def set_public_commands(bot: Bot, chat_id: int) -> None:
    """Put a chat's menu back to everyone's commands (after its roles were taken back)."""
    await _set_chat_commands(bot, chat_id, list(texts.PUBLIC_COMMANDS), "public commands")


async def set_contact_commands(bot: Bot, chat_id: int) -> None:
    """Show the contacts' commands (/report) in a township's, village's or lead unit's contact's menu."""
    await _set_chat_commands(bot, chat_id, [*texts.PUBLIC_COMMANDS, *texts.CONTACT_COMMANDS], "contact commands")


async def _set_chat_commands(bot: Bot, chat_id: int, commands: list[tuple[str, str]], what: str) -> None:
    try:
        await call_with_retry(
            lambda: bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id)), what=what, idempotent=True
        )
    except (BadRequest, Forbidden, NotSent) as exc:
        # Someone who never opened a chat with the bot: their menu is set when they register.
        logger.info("%s for chat %s not set: %s", what, chat_id, exc)
