"""Quarterly reports by chat: /report, its 确认报送 / 下载 buttons, and a township's 附件2 sent as a file.

Who gets what:

- A township's supply contact (a village's contact too: the township reports as one, and its village
  contacts are the ones reminded when it has no township-level contact) reviews the township's 附件2 for
  a quarter, submits it with one button, or downloads it as a spreadsheet.
- A lead unit's contact (role lead) does the same with its 附件3.
- An admin gets the forms and the overview as files: /report sales|purchases|overview 季度 [单位].

A spreadsheet sent is taken for a township's 附件2, for a quarter and a township, by the rules of
fupin.reporting.documents; the answer says which quarter.

The handlers are thin: fupin.reporting compiles, writes, submits and imports; here are only the chat's
arguments, permissions and Chinese answers.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden

from bot.telegram import chat, texts
from bot.telegram.render import inline_keyboard
from bot.telegram.retry import NotSent, call_with_retry
from bot.telegram.runtime import Context, runtime_of
from fupin.outreach.users import Identity
from fupin.periods import Period, parse_period, today
from fupin.places import Gazetteer, TownshipEntry
from fupin.reporting.documents import (
    ReportInputError,
    detect_sales_file,
    file_quarter,
    file_township,
    lead_unit_named,
    parse_quarter,
    township_named,
)
from fupin.reporting.form_writers import write_purchases_form, write_sales_form
from fupin.reporting.formatting import yuan
from fupin.reporting.kinds import ReportKind, SubmissionSource
from fupin.reporting.overview import overview
from fupin.reporting.overview_workbook import write_overview_files
from fupin.reporting.quarter import QuarterReport, TownshipReport, lead_unit_report, township_report
from fupin.reporting.sales_import import import_sales_report
from fupin.reporting.submissions import submit_report, submitted
from fupin.values import Role

logger = logging.getLogger(__name__)

CALLBACK_PATTERN = r"^rpt:"
# rpt:submit:2026Q4 / rpt:file:2026Q4 — what is reported (附件2 or 附件3) follows from who presses.
_CALLBACK = re.compile(r"^rpt:(submit|file):(\d{4})Q([1-4])$")


class ButtonAction(str, enum.Enum):
    """What a button under a report does; the value is in its callback data."""

    SUBMIT = "submit"
    DOWNLOAD = "file"


class AdminRequest(enum.Enum):
    """What an admin's /report asks for: a form (附件2, 附件3) or the overview."""

    SALES = "sales"
    PURCHASES = "purchases"
    OVERVIEW = "overview"


ADMIN_KINDS = {
    "sales": AdminRequest.SALES,
    "附件2": AdminRequest.SALES,
    "销售": AdminRequest.SALES,
    "purchases": AdminRequest.PURCHASES,
    "附件3": AdminRequest.PURCHASES,
    "采购": AdminRequest.PURCHASES,
    "overview": AdminRequest.OVERVIEW,
    "总体": AdminRequest.OVERVIEW,
    "总体情况": AdminRequest.OVERVIEW,
}


def callback_data(action: ButtonAction, period: Period) -> str:
    """A report button's data (rpt:submit:2026Q4), well under Telegram's 64 bytes."""
    return f"rpt:{action.value}:{period.code}"


def reports_for(identity: Identity) -> bool:
    """Whether this person has a report of their own: a township's (village's) or a lead unit's contact."""
    return (identity.is_contact and identity.township_id is not None) or (
        identity.role is Role.LEAD and bool(identity.lead_unit)
    )


def _own_report(session: Session, identity: Identity, period: Period) -> QuarterReport:
    # A village contact answers for the whole township: reports and reminders are per township.
    if identity.is_contact and identity.township_id is not None:
        return township_report(session, period, identity.township_id)
    assert identity.lead_unit
    return lead_unit_report(session, period, identity.lead_unit)


def _file_name(reporter: str, period: Period, kind: ReportKind) -> str:
    return f"{reporter}{period.code}{kind.form_name}.xlsx"


def _write_own_form(session: Session, report: QuarterReport, folder: Path) -> Path:
    out = folder / _file_name(report.reporter, report.period, report.kind)
    if isinstance(report, TownshipReport):
        return write_sales_form(session, report.period, report.township_id, out)
    return write_purchases_form(session, report.period, report.reporter, out)


def _started(period: Period) -> bool:
    return period.start <= today()


# ------------------------------------------------------------------------------------------ sending


async def send_file(
    bot: Bot, chat_id: int, path: Path, caption: str = "", markup: InlineKeyboardMarkup | None = None
) -> bool:
    """Send a file as a document with retries; False when it could not be sent (blocked, gave up)."""
    data = path.read_bytes()
    try:
        await call_with_retry(
            lambda: bot.send_document(chat_id, data, filename=path.name, caption=caption or None, reply_markup=markup),
            what="report file",
        )
    except (Forbidden, NotSent) as exc:
        logger.warning("file %s to chat %s not sent: %s", path.name, chat_id, exc)
        return False
    return True


def _submit_markup(period: Period) -> InlineKeyboardMarkup | None:
    return inline_keyboard([(texts.SUBMIT_BUTTON, callback_data(ButtonAction.SUBMIT, period))])


# ------------------------------------------------------------------------------------------ /report


async def cmd_report(update: Update, context: Context) -> None:
    """/report [季度]: a contact's review with buttons; an admin's /report sales|purchases|overview 季度 [单位]."""
    runtime = runtime_of(context)
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    identity = await chat.identity_of(runtime, update)
    args = list(context.args or [])
    if identity.is_admin:
        await _admin_report(context, chat_id, args)
        return
    if not reports_for(identity):
        await chat.say(context.bot, chat_id, texts.REPORT_ONLY)
        return
    try:
        period = parse_quarter("".join(args))
    except ReportInputError as exc:
        await chat.say(context.bot, chat_id, f"{exc}\n\n{texts.REPORT_USAGE}")
        return

    def read() -> QuarterReport:
        with runtime.sessions() as session:
            return _own_report(session, identity, period)

    report = await asyncio.to_thread(read)
    buttons = [(texts.FILE_BUTTON.format(form=report.form_name), callback_data(ButtonAction.DOWNLOAD, period))]
    if _started(period):
        buttons.insert(0, (texts.SUBMIT_BUTTON, callback_data(ButtonAction.SUBMIT, period)))
    hint = texts.REPORT_HINT_SALES if report.kind is ReportKind.SALES else texts.REPORT_HINT_PURCHASES
    text = "\n".join([*report.summary_lines(), "", hint])
    await chat.say(context.bot, chat_id, text, reply_markup=inline_keyboard(buttons))


@dataclass
class _Outgoing:
    """What an admin's request sends: an optional message, then files with their captions."""

    text: str = ""
    files: list[tuple[Path, str]] = field(default_factory=list)


def _admin_request(args: list[str]) -> tuple[AdminRequest, Period, str]:
    kind = ADMIN_KINDS.get(args[0].lower()) if args else None
    if kind is None:
        raise ReportInputError(texts.REPORT_ADMIN_USAGE)
    rest = args[1:]
    quarter = ""
    # The quarter may be left out (the current one); a word with a digit is meant as one all the same.
    if rest and (parse_period(rest[0]) is not None or re.search(r"\d", rest[0])):
        quarter, rest = rest[0], rest[1:]
    try:
        period = parse_quarter(quarter)
    except ReportInputError as exc:
        raise ReportInputError(f"{exc}\n\n{texts.REPORT_ADMIN_USAGE}") from exc
    return kind, period, "".join(rest)


def _admin_files(
    sessions: sessionmaker[Session], kind: AdminRequest, period: Period, place: str, folder: Path, per_member: int
) -> _Outgoing:
    report: QuarterReport
    with sessions() as session:
        if kind is AdminRequest.OVERVIEW:
            view = overview(session, period, union_per_member_fen=per_member)
            paths = write_overview_files(view, folder)
            text = "\n".join(view.summary_lines())
            captions = [
                texts.OVERVIEW_CAPTION.format(period=period.label) if p.suffix == ".xlsx" else "" for p in paths
            ]
            return _Outgoing(text, list(zip(paths, captions, strict=True)))
        if kind is AdminRequest.SALES and place:
            report = township_report(session, period, township_named(Gazetteer.load(session), place).id)
            out = _write_own_form(session, report, folder)
            return _Outgoing(files=[(out, _caption(report))])
        if kind is AdminRequest.SALES:
            out = write_sales_form(session, period, None, folder / _file_name("云阳县各乡镇", period, ReportKind.SALES))
            done = len(submitted(session, ReportKind.SALES, period))
            return _Outgoing(files=[(out, texts.ALL_TOWNSHIPS_CAPTION.format(period=period.label, done=done))])
        if place:
            report = lead_unit_report(session, period, lead_unit_named(session, place))
            out = _write_own_form(session, report, folder)
            return _Outgoing(files=[(out, _caption(report))])
        out = write_purchases_form(
            session, period, None, folder / _file_name("各牵头单位", period, ReportKind.PURCHASES)
        )
        done = len(submitted(session, ReportKind.PURCHASES, period))
        return _Outgoing(files=[(out, texts.ALL_LEAD_UNITS_CAPTION.format(period=period.label, done=done))])


def _caption(report: QuarterReport) -> str:
    # The first line has the totals, the last whether and when it was submitted.
    lines = report.summary_lines()
    return f"{lines[0]}\n{lines[-1]}"


async def _admin_report(context: Context, chat_id: int, args: list[str]) -> None:
    runtime = runtime_of(context)
    try:
        kind, period, place = _admin_request(args)
    except ReportInputError as exc:
        await chat.say(context.bot, chat_id, str(exc))
        return
    with tempfile.TemporaryDirectory(prefix="fupin-report-") as folder:
        try:
            outgoing = await asyncio.to_thread(
                _admin_files,
                runtime.sessions,
                kind,
                period,
                place,
                Path(folder),
                runtime.settings.union_budget_per_member_fen,
            )
        except ReportInputError as exc:
            await chat.say(context.bot, chat_id, str(exc))
            return
        if outgoing.text:
            await chat.say(context.bot, chat_id, outgoing.text)
        for path, caption in outgoing.files:
            if not await send_file(context.bot, chat_id, path, caption):
                return  # blocked or gave up: the rest would fail the same way


# ------------------------------------------------------------------------------------------ buttons


async def on_report_button(update: Update, context: Context) -> None:
    """确认报送 / 下载附件2 (附件3) under a report: acknowledge, retire the keyboard, submit or send the form."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    try:
        await call_with_retry(query.answer, what="answer callback", idempotent=True)
    except (BadRequest, NotSent) as exc:
        # A press answered too late still submits: the spinner on the button is all that is lost.
        logger.info("report button not acknowledged: %s", exc)
    await chat.retire_keyboard(query.message if isinstance(query.message, Message) else None, query.data or "")
    chat_id = update.effective_chat.id if update.effective_chat else update.effective_user.id
    match = _CALLBACK.match(query.data or "")
    if match is None:
        await chat.say(context.bot, chat_id, texts.REPORT_BUTTON_STALE)
        return
    action, period = ButtonAction(match[1]), Period(int(match[2]), int(match[3]))
    runtime = runtime_of(context)
    # Permission is checked at the press, not when the buttons were shown: roles can change meanwhile.
    identity = await chat.identity_of(runtime, update)
    if not reports_for(identity):
        await chat.say(context.bot, chat_id, texts.REPORT_ONLY)
        return
    # One person's presses one at a time, so a double tap reads "already submitted" the second time.
    async with runtime.lock_for(update.effective_user.id):
        if action is ButtonAction.SUBMIT:
            await chat.say(context.bot, chat_id, await asyncio.to_thread(_submit, runtime.sessions, identity, period))
        else:
            await _send_own_form(context.bot, runtime.sessions, chat_id, identity, period)


def _submit(sessions: sessionmaker[Session], identity: Identity, period: Period) -> str:
    if not _started(period):
        return texts.REPORT_NOT_STARTED.format(period=period.label)
    with sessions() as session, session.begin():
        report = _own_report(session, identity, period)
        submit_report(
            session,
            kind=report.kind,
            period=period,
            reporter=report.reporter,
            township_id=report.township_id if isinstance(report, TownshipReport) else None,
            user_id=identity.user_id,
            source=SubmissionSource.CHAT,
            rows=len(report.rows),
            amount_fen=report.total_fen,
        )
    values = {
        "reporter": report.reporter,
        "period": period.label,
        "form": report.form_name,
        "rows": len(report.rows),
        "amount": yuan(report.total_fen),
    }
    if report.submission is not None:  # as it stood before this press
        return texts.REPORT_RESUBMITTED.format(previous=report.submission.line(), **values)
    return texts.REPORT_SUBMITTED.format(**values)


async def _send_own_form(
    bot: Bot, sessions: sessionmaker[Session], chat_id: int, identity: Identity, period: Period
) -> None:
    with tempfile.TemporaryDirectory(prefix="fupin-report-") as folder:

        def write() -> tuple[QuarterReport, Path]:
            with sessions() as session:
                report = _own_report(session, identity, period)
                return report, _write_own_form(session, report, Path(folder))

        report, path = await asyncio.to_thread(write)
        caption = _caption(report)
        if report.kind is ReportKind.SALES:
            caption = texts.FORM_CAPTION_SALES.format(summary=caption)
        # The pressed keyboard is gone: offer submitting again under the file while it is still open.
        markup = _submit_markup(period) if report.submission is None and _started(period) else None
        await send_file(bot, chat_id, path, caption, markup)


# ------------------------------------------------------------------------------------ 附件2 files


def _file_township(sessions: sessionmaker[Session], identity: Identity, caption: str, unit: str) -> TownshipEntry:
    with sessions() as session:
        gazetteer = Gazetteer.load(session)
    return file_township(gazetteer, identity, caption, unit)


async def import_sales_document(update: Update, context: Context, identity: Identity, path: Path) -> bool:
    """Import a downloaded spreadsheet as a township's 附件2 and answer; False when it is no 附件2."""
    message = update.effective_message
    assert message is not None
    caption = message.caption or ""
    found = await asyncio.to_thread(detect_sales_file, path, caption)
    if found is None:
        return False
    runtime = runtime_of(context)
    try:
        period, named = file_quarter(caption)
        township = await asyncio.to_thread(_file_township, runtime.sessions, identity, caption, found.unit)
    except ReportInputError as exc:
        await chat.say(context.bot, message.chat_id, str(exc))
        return True
    # The identity goes to the domain: who may replace the township's report, and when, is checked there.
    result = await asyncio.to_thread(
        import_sales_report, runtime.sessions, path, period, township.id, identity,
        grace_days=runtime.settings.report_grace_days,
    )  # fmt: skip
    if named:
        lines = [texts.SALES_FILE_QUARTER_NAMED.format(period=period.label)]
    else:
        example = period.previous().code
        lines = [texts.SALES_FILE_QUARTER_DEFAULT.format(period=period.label, example=example)]
    lines += result.lines()
    if result.ok:
        lines.append(texts.SALES_FILE_SUBMITTED.format(township=township.name, period=period.label))
    await chat.say(context.bot, message.chat_id, "\n".join(lines))
    return True
