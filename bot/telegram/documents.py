"""Incoming files: a spreadsheet from an admin or a supply contact, imported as a township's 附件2 or as 附件1."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path

from telegram import Update

from bot.telegram import texts
from bot.telegram.chat import identity_of, say
from bot.telegram.reports import import_sales_document
from bot.telegram.retry import call_with_retry
from bot.telegram.runtime import Context, runtime_of
from fupin.catalog.files import import_catalog_files
from fupin.spreadsheets.limits import MAX_FILE_BYTES  # also what the Bot API lets a bot download

logger = logging.getLogger(__name__)

SPREADSHEET_SUFFIXES = (".xlsx", ".csv")


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
        if await import_sales_document(update, context, identity, path):
            return
        scope = None if identity.is_admin else identity
        report = await asyncio.to_thread(import_catalog_files, runtime.sessions, [path], False, scope)
    lines = report.lines()
    if report.ok:
        lines.append("目录已更新，买家现在就能查到。")
    else:
        lines.append("请改正上面列出的行后重新发送文件（已导入的行不会重复）。")
    await say(context.bot, message.chat_id, "\n".join(lines))
