"""Telegram update handlers: conversation, buttons, commands, phone sharing, spreadsheets, flood limit."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, BotCommandScopeChat, Message, ReplyKeyboardRemove, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.dialogue.assistant import Reply
from bot.telegram import texts
from bot.telegram.render import contact_keyboard, inline_keyboard, split_text, utf16_length
from bot.telegram.retry import NotSent, call_with_retry
from bot.telegram.runtime import Context, Runtime, runtime_of
from fupin.catalog.files import export_catalog, import_catalog_files
from fupin.orders.pushes import parse_order_action
from fupin.outreach.registration import RegistrationError, issue_code, redeem_code
from fupin.outreach.users import Identity, identify, sender_of
from fupin.parsing import ParseError, parse_phone
from fupin.settings import TIMEZONE
from fupin.values import Role

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_FILE_BYTES = 20 * 1024 * 1024  # what the importer reads, and what the Bot API lets a bot download
SPREADSHEET_SUFFIXES = (".xlsx", ".csv")
# After a phone question the share-phone keyboard stays until a reply takes it away.
CONTACT_KEYBOARD_SHOWN = "contact_keyboard_shown"


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
    action = parse_order_action(data)
    if action is not None:
        op, order_no = action
        data = "/manage_order" + json.dumps({"order_no": order_no, "op": op}, ensure_ascii=False)
    if data:
        await converse(update, context, data)


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


async def on_contact(update: Update, context: Context) -> None:
    """A shared phone number (Telegram's contact button) is given to the dialogue as typed digits."""
    message = update.effective_message
    assert message is not None and message.contact is not None
    phone = parse_phone(message.contact.phone_number.removeprefix("+").removeprefix("86"))
    if not phone:
        await say(context.bot, message.chat_id, "没能识别这个电话号码，请直接输入手机号。")
        return
    await converse(update, context, phone)


async def cmd_start(update: Update, context: Context) -> None:
    """/start: the greeting; `/start CODE` (a deep link) registers with a code."""
    if context.args:
        await _register(update, context, context.args[0])
        return
    await converse(update, context, "/greet")


async def cmd_help(update: Update, context: Context) -> None:
    """/help: what this person can do (role-specific, from the dialogue)."""
    await converse(update, context, "/help")


async def cmd_cancel(update: Update, context: Context) -> None:
    """/cancel: stop the current order or pending change."""
    await converse(update, context, "/cancel")


async def cmd_orders(update: Update, context: Context) -> None:
    """/orders: this person's orders (a contact's: their places' orders)."""
    await converse(update, context, "/check_orders")


async def cmd_register(update: Update, context: Context) -> None:
    """/register CODE: bind this account with a one-time code."""
    if not context.args:
        assert update.effective_chat is not None
        await say(context.bot, update.effective_chat.id, texts.REGISTER_USAGE)
        return
    await _register(update, context, "".join(context.args))


async def _register(update: Update, context: Context, code: str) -> None:
    runtime = runtime_of(context)
    user = update.effective_user
    assert user is not None and update.effective_chat is not None

    def redeem() -> tuple[Role, str]:
        with runtime.sessions() as session, session.begin():
            bound, scope = redeem_code(session, sender(update), code, display_name=user.full_name)
            return Role(bound.role), scope

    try:
        role, scope = await asyncio.to_thread(redeem)
    except RegistrationError as exc:
        await say(context.bot, update.effective_chat.id, str(exc))
        return
    await say(context.bot, update.effective_chat.id, texts.REGISTERED.format(scope=scope))
    if role is Role.ADMIN:
        await set_admin_commands(context.bot, update.effective_chat.id)
    elif role in (Role.CONTACT, Role.LEAD):
        await set_contact_commands(context.bot, update.effective_chat.id)


async def require_admin(update: Update, context: Context) -> Identity | None:
    """The sender's identity when an admin; otherwise answer that the command is not theirs."""
    identity = await identity_of(runtime_of(context), update)
    if identity.is_admin:
        return identity
    assert update.effective_chat is not None
    await say(context.bot, update.effective_chat.id, texts.ADMIN_ONLY)
    return None


_ROLE_WORDS = {
    "contact": Role.CONTACT,
    "供货联系人": Role.CONTACT,
    "lead": Role.LEAD,
    "牵头单位": Role.LEAD,
    "admin": Role.ADMIN,
    "管理员": Role.ADMIN,
}


async def cmd_invite(update: Update, context: Context) -> None:
    """/invite contact 龙角镇 [张家村] | lead 县教委 | admin: an admin issues a one-time code."""
    identity = await require_admin(update, context)
    assert update.effective_chat is not None
    if identity is None:
        return
    args = list(context.args or [])
    role = _ROLE_WORDS.get(args[0].lower()) if args else None
    if role is None:
        await say(context.bot, update.effective_chat.id, texts.INVITE_USAGE)
        return
    runtime = runtime_of(context)

    def issue() -> str:
        with runtime.sessions() as session, session.begin():
            invitation = issue_code(
                session,
                role,
                township=args[1] if role is Role.CONTACT and len(args) > 1 else None,
                village=args[2] if role is Role.CONTACT and len(args) > 2 else None,
                lead_unit=args[1] if role is Role.LEAD and len(args) > 1 else None,
                created_by=identity.user_id,
            )
            return texts.INVITED.format(
                code=invitation.code, scope=invitation.scope, expires=invitation.expires_at_text
            )

    try:
        answer = await asyncio.to_thread(issue)
    except ParseError as exc:
        answer = f"无法生成邀请码：{exc}\n\n{texts.INVITE_USAGE}"
    await say(context.bot, update.effective_chat.id, answer)


async def cmd_export(update: Update, context: Context) -> None:
    """/export: an admin gets the county catalogue as a spreadsheet."""
    if await require_admin(update, context) is None:
        return
    assert update.effective_chat is not None
    runtime = runtime_of(context)
    chat_id = update.effective_chat.id
    await say(context.bot, chat_id, texts.EXPORTING)
    with tempfile.TemporaryDirectory(prefix="fupin-export-") as folder:
        path = Path(folder) / f"云阳县消费扶贫供应目录_{datetime.now(TIMEZONE):%Y%m%d}.xlsx"

        def write() -> int:
            with runtime.sessions() as session:
                return export_catalog(session, path)

        count = await asyncio.to_thread(write)
        data = path.read_bytes()
    await call_with_retry(
        lambda: context.bot.send_document(
            chat_id, data, filename=path.name, caption=texts.EXPORTED.format(count=count)
        ),
        what="export",
    )


async def on_document(update: Update, context: Context) -> None:
    """A spreadsheet sent by an admin or a supply contact: import it as 附件2 or 附件1, report row by row."""
    message = update.effective_message
    assert message is not None and message.document is not None
    runtime = runtime_of(context)
    identity = await identity_of(runtime, update)
    if not (identity.is_admin or identity.is_contact):
        await say(context.bot, message.chat_id, texts.CONTACT_OR_ADMIN_ONLY)
        return
    document = message.document
    name = Path(document.file_name or "供应目录.xlsx").name  # a name, never a path
    if not name.lower().endswith(SPREADSHEET_SUFFIXES):
        await say(context.bot, message.chat_id, texts.FILE_TYPE)
        return
    if (document.file_size or 0) > MAX_FILE_BYTES:
        await say(context.bot, message.chat_id, texts.FILE_TOO_BIG)
        return
    await say(context.bot, message.chat_id, texts.IMPORTING.format(name=name))
    with tempfile.TemporaryDirectory(prefix="fupin-import-") as folder:
        path = Path(folder) / name
        telegram_file = await call_with_retry(document.get_file, what="get file", idempotent=True)
        await call_with_retry(lambda: telegram_file.download_to_drive(path), what="download", idempotent=True)
        # A township's quarterly 附件2 goes to the report import; any other spreadsheet is a 附件1.
        from bot.telegram import reports  # imported here: reports imports this module

        if await reports.import_sales_document(update, context, identity, path):
            return
        scope = None if identity.is_admin else identity
        report = await asyncio.to_thread(import_catalog_files, runtime.sessions, [path], False, scope)
    lines = report.lines()
    if report.ok:
        lines.append("目录已更新，买家现在就能查到。")
    else:
        lines.append("请改正上面列出的行后重新发送文件（已导入的行不会重复）。")
    await say(context.bot, message.chat_id, "\n".join(lines))


async def rate_limit(update: Update, context: Context) -> None:
    """Runs before every handler: refuse a flood from one user, telling them once."""
    user = update.effective_user
    if user is None or update.effective_chat is None:
        return
    verdict = runtime_of(context).limiter.check(user.id)
    if verdict == "ok":
        return
    if verdict == "warn":
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


async def set_admin_commands(bot: Bot, chat_id: int) -> None:
    """Show the admin commands in an admin's menu (in a private chat only)."""
    await _set_chat_commands(bot, chat_id, [*texts.PUBLIC_COMMANDS, *texts.ADMIN_COMMANDS], "admin commands")


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
