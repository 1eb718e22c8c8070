"""Messages for the dialogue: text, inline buttons, a shared phone number; and what the bot cannot read."""

from __future__ import annotations

import json
import logging

from telegram import Message, Update

from bot.telegram import texts
from bot.telegram.chat import converse, retire_keyboard, say
from bot.telegram.retry import call_with_retry
from bot.telegram.runtime import Context
from fupin.complaints.pushes import parse_complain_action, parse_complaint_action
from fupin.orders.pushes import parse_order_action
from fupin.orders.ratings import parse_rating_action
from fupin.parsing import parse_phone

logger = logging.getLogger(__name__)


async def on_text(update: Update, context: Context) -> None:
    """Pass a text message to the dialogue."""
    assert update.effective_message is not None
    text = (update.effective_message.text or "").strip()
    if text:
        await converse(update, context, text)


async def on_unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not have (a typo, an old menu entry): say so instead of staying silent."""
    assert update.effective_chat is not None
    await say(context.bot, update.effective_chat.id, texts.UNKNOWN_COMMAND)


async def on_other_message(update: Update, context: Context) -> None:
    """Stickers, photos, voice: say what the bot understands."""
    assert update.effective_chat is not None
    await say(context.bot, update.effective_chat.id, texts.NOT_TEXT)


async def on_button(update: Update, context: Context) -> None:
    """An inline button: acknowledge it, retire the keyboard, and pass its payload on."""
    query = update.callback_query
    assert query is not None
    await call_with_retry(query.answer, what="answer callback", idempotent=True)
    await retire_keyboard(query.message if isinstance(query.message, Message) else None, query.data or "")
    data = query.data or ""
    if data:
        await converse(update, context, dialogue_request(data))


def dialogue_request(data: str) -> str:
    """A push button's neutral action as the dialogue's request (an intent with entities); others as they are."""
    action = parse_order_action(data)
    if action is not None:
        op, order_no = action
        return "/manage_order" + json.dumps({"order_no": order_no, "op": op}, ensure_ascii=False)
    rating = parse_rating_action(data)
    if rating is not None:
        order_no, stars = rating
        return "/rate_order" + json.dumps({"order_no": order_no, "stars": str(stars)}, ensure_ascii=False)
    complaint = parse_complaint_action(data)
    if complaint is not None:
        op, number = complaint
        return "/manage_complaint" + json.dumps({"complaint_no": number, "op": op.value}, ensure_ascii=False)
    complained = parse_complain_action(data)
    if complained is not None:
        return "/complain" + json.dumps({"order_no": complained}, ensure_ascii=False)
    return data


async def on_photo(update: Update, context: Context) -> None:
    """A photo: its caption (if any) as a message, then the photo itself as evidence for a complaint."""
    message = update.effective_message
    assert message is not None and message.photo
    caption = (message.caption or "").strip()
    if caption:
        await converse(update, context, caption)
    largest = max(message.photo, key=lambda size: size.width * size.height)
    await converse(update, context, "/attach_photo" + json.dumps({"photo": largest.file_id}, ensure_ascii=False))


async def on_contact(update: Update, context: Context) -> None:
    """A shared phone number (Telegram's contact button) is given to the dialogue as typed digits."""
    message = update.effective_message
    assert message is not None and message.contact is not None
    phone = parse_phone(message.contact.phone_number.removeprefix("+").removeprefix("86"))
    if not phone:
        await say(context.bot, message.chat_id, "没能识别这个电话号码，请直接输入手机号。")
        return
    await converse(update, context, phone)
