"""The python-telegram-bot Application: built in one place, run by long polling or by webhook."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.scheduler import start_reminders
from bot.telegram import CHANNEL, commands, conversation, documents, errors, reports, texts
from bot.telegram.aiohttp_request import AiohttpRequest
from bot.telegram.chat import set_admin_commands, set_public_commands
from bot.telegram.pushes import PushSender
from bot.telegram.retry import call_with_retry
from bot.telegram.runtime import BotData, Runtime
from fupin.outreach.users import bind_configured_admins
from fupin.settings import Settings

if TYPE_CHECKING:
    from aiohttp.web import AppRunner

logger = logging.getLogger(__name__)

# Updates handled at once; one user's messages still go one at a time (Runtime.lock_for).
CONCURRENT_UPDATES = 64
# Connections to the Bot API. A request holds one only while it is sent, so a few serve many handlers (httpx,
# used before, checked every pooled connection on every request: with one per handler that check alone took
# a tenth of the bot's CPU under load). A request that finds none free waits up to POOL_TIMEOUT for one.
CONNECTION_POOL_SIZE = 8
POOL_TIMEOUT = 10.0


def build_application(settings: Settings, runtime: Runtime | None = None) -> Application:  # type: ignore[type-arg]
    """The bot's Application; with `runtime` (tests) the caller owns the dialogue and database."""
    if not settings.telegram_bot_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    context_types = ContextTypes(bot_data=BotData)
    # The web console served in the bot's event loop when WEB_PORT is set (started in post_init).
    web_runners: list[AppRunner] = []

    async def post_init(application: Application) -> None:  # type: ignore[type-arg]
        data: BotData = application.bot_data
        if runtime is None:
            data.runtime = await asyncio.to_thread(Runtime.open, settings)
            data.owns_runtime = True
        else:
            data.runtime = runtime
        demoted = await asyncio.to_thread(_bind_admins, data.runtime, settings.admin_telegram_ids)
        for chat_id in demoted:
            await set_public_commands(application.bot, chat_id)
        await _set_commands(application, settings.admin_telegram_ids)
        data.runtime.pushes = PushSender(application.bot, data.runtime.sessions, settings.push_interval_seconds)
        data.runtime.pushes.start()
        if settings.reminders_enabled:
            # Every worker runs the service; only the holder of the database lease runs the scheduler.
            data.reminders = await start_reminders(settings, data.runtime.sessions)
        if settings.web_port:
            from web.server import start_web  # aiohttp's server and Jinja2 only when the console is served

            web_runners.append(await start_web(settings, data.runtime.sessions))
        logger.info("telegram bot ready as @%s", application.bot.username)

    async def post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
        data: BotData = application.bot_data
        while web_runners:
            await web_runners.pop().cleanup()
        if data.reminders is not None:
            await data.reminders.stop()
            data.reminders = None
        if data.runtime is None:
            return
        if data.runtime.pushes is not None:
            await data.runtime.pushes.stop()
            data.runtime.pushes = None
        if data.owns_runtime:
            await data.runtime.close()
        data.runtime = None

    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .context_types(context_types)
        .concurrent_updates(CONCURRENT_UPDATES)
        # aiohttp rather than python-telegram-bot's httpx: a third of the CPU per request (aiohttp_request.py).
        .request(AiohttpRequest(connection_pool_size=CONNECTION_POOL_SIZE, pool_timeout=POOL_TIMEOUT))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    add_handlers(application)
    return application


def add_handlers(application: Application) -> None:  # type: ignore[type-arg]
    """Register every handler: the flood limit first, then commands, buttons, messages."""
    private = filters.ChatType.PRIVATE
    application.add_handler(TypeHandler(Update, errors.rate_limit), group=-1)
    chat_commands = {
        "start": commands.cmd_start,
        "help": commands.cmd_help,
        "cancel": commands.cmd_cancel,
        "orders": commands.cmd_orders,
        "register": commands.cmd_register,
        "invite": commands.cmd_invite,
        "revoke": commands.cmd_revoke,
        "export": commands.cmd_export,
        "web": commands.cmd_web,
        "report": reports.cmd_report,
    }
    for name, callback in chat_commands.items():
        application.add_handler(CommandHandler(name, callback, filters=private))
    # Report buttons (rpt:…) before the generic handler, which would pass them to the dialogue.
    application.add_handler(CallbackQueryHandler(reports.on_report_button, pattern=reports.CALLBACK_PATTERN))
    application.add_handler(CallbackQueryHandler(conversation.on_button))
    application.add_handler(MessageHandler(private & filters.CONTACT, conversation.on_contact))
    application.add_handler(MessageHandler(private & filters.Document.ALL, documents.on_document))
    application.add_handler(MessageHandler(private & filters.PHOTO, conversation.on_photo))
    application.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, conversation.on_text))
    application.add_handler(MessageHandler(private & filters.COMMAND, conversation.on_unknown_command))
    application.add_handler(
        MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, conversation.on_other_message)
    )
    application.add_error_handler(errors.on_error)


def _bind_admins(runtime: Runtime, admin_ids: tuple[int, ...]) -> list[int]:
    # Those named are admins in the database too (where the dialogue looks roles up); an admin the configuration
    # made and no longer names loses the role. Returns the demoted chat ids.
    with runtime.sessions() as session, session.begin():
        demoted = bind_configured_admins(session, CHANNEL, [str(admin_id) for admin_id in admin_ids])
        return [int(user.external_id) for user in demoted if user.external_id.isdigit()]


async def _set_commands(application: Application, admin_ids: tuple[int, ...]) -> None:  # type: ignore[type-arg]
    await call_with_retry(
        lambda: application.bot.set_my_commands(list(texts.PUBLIC_COMMANDS)), what="commands", idempotent=True
    )
    for admin_id in admin_ids:
        await set_admin_commands(application.bot, admin_id)


def run(settings: Settings) -> None:
    """Run the bot until Ctrl-C or SIGTERM: webhook when TELEGRAM_WEBHOOK_URL is set, else long polling."""
    application = build_application(settings)
    if settings.telegram_webhook_url:
        if not settings.telegram_webhook_secret:
            raise ValueError("TELEGRAM_WEBHOOK_SECRET must be set in webhook mode")
        url_path = settings.telegram_webhook_url.rstrip("/").rsplit("/", 1)[-1]
        logger.info("telegram: webhook mode on %s:%d", settings.telegram_webhook_listen, settings.telegram_webhook_port)
        application.run_webhook(
            listen=settings.telegram_webhook_listen,
            port=settings.telegram_webhook_port,
            url_path=url_path,
            webhook_url=settings.telegram_webhook_url,
            secret_token=settings.telegram_webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        logger.info("telegram: long polling")
        application.run_polling(allowed_updates=Update.ALL_TYPES)
