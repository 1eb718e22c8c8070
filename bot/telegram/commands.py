"""The chat commands: /start /help /cancel /orders /register /invite /revoke /export /web."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from datetime import datetime
from pathlib import Path

from telegram import LinkPreviewOptions, Update

from bot.telegram import CHANNEL, texts
from bot.telegram.chat import (
    converse,
    require_admin,
    say,
    sender,
    set_admin_commands,
    set_contact_commands,
    set_public_commands,
)
from bot.telegram.retry import call_with_retry
from bot.telegram.runtime import Context, runtime_of
from fupin.catalog.files import export_catalog
from fupin.outreach.registration import ROLE_LABELS, RegistrationError, issue_code, redeem_code
from fupin.outreach.users import revoke_user, sender_of
from fupin.outreach.web_links import LINK_TTL, SignInError, issue_link
from fupin.parsing import ParseError
from fupin.settings import TIMEZONE
from fupin.values import Role

logger = logging.getLogger(__name__)

_ROLE_WORDS = {
    "contact": Role.CONTACT,
    "供货联系人": Role.CONTACT,
    "lead": Role.LEAD,
    "牵头单位": Role.LEAD,
    "admin": Role.ADMIN,
    "管理员": Role.ADMIN,
    "market": Role.MARKET,
    "市场监管": Role.MARKET,
}


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


async def cmd_revoke(update: Update, context: Context) -> None:
    """/revoke ID: an admin takes a Telegram user's roles and places back; they become a buyer."""
    identity = await require_admin(update, context)
    assert update.effective_chat is not None
    if identity is None:
        return
    chat_id = update.effective_chat.id
    args = list(context.args or [])
    if len(args) != 1 or not args[0].isdigit():
        await say(context.bot, chat_id, texts.REVOKE_USAGE)
        return
    target = int(args[0])
    if sender_of(CHANNEL, target) == sender(update):
        await say(context.bot, chat_id, texts.REVOKE_SELF)
        return
    runtime = runtime_of(context)

    def revoke() -> Role | None:
        with runtime.sessions() as session, session.begin():
            return revoke_user(session, sender_of(CHANNEL, target))

    previous = await asyncio.to_thread(revoke)
    if previous is None:
        await say(context.bot, chat_id, texts.REVOKE_UNKNOWN.format(user=target))
        return
    answer = texts.REVOKED.format(user=target, role=ROLE_LABELS[previous])
    if target in runtime.settings.admin_telegram_ids:
        answer += "\n" + texts.REVOKED_LISTED
    await say(context.bot, chat_id, answer)
    await set_public_commands(context.bot, target)


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


WEB_LINK = "网页管理台登录链接（一次有效，{minutes}分钟内打开，请勿转发）：\n{url}"


async def cmd_web(update: Update, context: Context) -> None:
    """/web: an admin gets a one-time sign-in link to the web console."""
    identity = await require_admin(update, context)
    assert update.effective_chat is not None
    if identity is None or identity.user_id is None:
        return
    runtime = runtime_of(context)
    user_id = identity.user_id

    def issue() -> str:
        with runtime.sessions() as session, session.begin():
            return issue_link(session, user_id)

    try:
        token = await asyncio.to_thread(issue)
    except SignInError as exc:
        await say(context.bot, update.effective_chat.id, str(exc))
        return
    url = f"{runtime.settings.web_base_url()}/login/{token}"
    minutes = int(LINK_TTL.total_seconds() // 60)
    # No preview: a preview fetch must not be what opens the link (it only shows a sign-in button anyway).
    await say(
        context.bot,
        update.effective_chat.id,
        WEB_LINK.format(minutes=minutes, url=url),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
