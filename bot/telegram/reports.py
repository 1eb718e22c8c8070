"""Quarterly reports by chat: /report, its 确认报送 / 下载 buttons, and a township's 附件2 sent as a file.

Who gets what:

- A township's supply contact (a village's contact too: the township reports as one, and its village
  contacts are the ones reminded when it has no township-level contact) reviews the township's 附件2 for
  a quarter, submits it with one button, or downloads it as a spreadsheet.
- A lead unit's contact (role lead) does the same with its 附件3.
- An admin gets the forms and the overview as files: /report sales|purchases|overview 季度 [单位].

A spreadsheet is a township's 附件2 when its caption says so (附件2, 销售) or, without such a caption,
when its header row is 附件2's (采购单位, 销售时间, 产品品种, 销售数量, 销售金额); everything else is
left to the 附件1 catalogue import. It is imported for the quarter its caption names (2026Q4, 上季度),
else for the current quarter, and the answer says which.

The handlers are thin: fupin.reporting.reports compiles, writes, submits and imports; here are only the chat's
arguments, permissions and Chinese answers.
"""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden

from bot.telegram import chat as handlers  # the shared helpers, formerly in bot/telegram/handlers.py
from bot.telegram import texts
from bot.telegram.render import inline_keyboard
from bot.telegram.retry import NotSent, call_with_retry
from bot.telegram.runtime import Context, runtime_of
from fupin.outreach.users import Identity
from fupin.periods import Period, parse_period, quarter_of, today
from fupin.places import Gazetteer, TownshipEntry
from fupin.reporting.attachment2 import ATTACHMENT2
from fupin.reporting.reports import (
    FORM_NAMES,
    PURCHASES,
    SALES,
    QuarterReport,
    TownshipReport,
    import_sales_report,
    known_lead_units,
    lead_unit_report,
    overview,
    submit_report,
    submitted,
    township_report,
    write_overview,
    write_purchases_form,
    write_sales_form,
    yuan,
)
from fupin.spreadsheets.forms import locate_form
from fupin.spreadsheets.grid import SpreadsheetError
from fupin.values import Role

logger = logging.getLogger(__name__)

OVERVIEW = "overview"
SUBMIT = "submit"
DOWNLOAD = "file"
CALLBACK_PATTERN = r"^rpt:"
# rpt:submit:2026Q4 / rpt:file:2026Q4 — what is reported (附件2 or 附件3) follows from who presses.
_CALLBACK = re.compile(r"^rpt:(submit|file):(\d{4})Q([1-4])$")
ADMIN_KINDS = {
    "sales": SALES,
    "附件2": SALES,
    "销售": SALES,
    "purchases": PURCHASES,
    "附件3": PURCHASES,
    "采购": PURCHASES,
    "overview": OVERVIEW,
    "总体": OVERVIEW,
    "总体情况": OVERVIEW,
}
# A caption naming the form decides; without one the file's header row does.
_CATALOGUE_CAPTION = re.compile(r"附件\s*[1一]|目录")
_SALES_CAPTION = re.compile(r"附件\s*[2二]|销售")
_QUARTER_CODE = re.compile(r"\d{4}\s*[Qq]\s*[1-4]")


class ReportInputError(Exception):
    """Input the person has to correct; the message is the Chinese answer."""


def callback_data(action: str, period: Period) -> str:
    """A report button's data (rpt:submit:2026Q4), well under Telegram's 64 bytes."""
    return f"rpt:{action}:{period.code}"


def parse_quarter(text: str) -> Period:
    """The quarter a /report argument names (2026Q4, 2026年第4季度, 上季度); the current one when empty."""
    period = parse_period(text) if text else quarter_of(today())
    if period is None or period.quarter is None:
        raise ReportInputError(texts.BAD_QUARTER.format(text=text))
    return period


def kind_of(report: QuarterReport) -> str:
    """SALES for a township's report, PURCHASES for a lead unit's."""
    return SALES if isinstance(report, TownshipReport) else PURCHASES


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


def _form_name(report: QuarterReport) -> str:
    return FORM_NAMES[kind_of(report)]


def _file_name(reporter: str, period: Period, kind: str) -> str:
    return f"{reporter}{period.code}{FORM_NAMES[kind]}.xlsx"


def _write_own_form(session: Session, report: QuarterReport, folder: Path) -> Path:
    out = folder / _file_name(report.reporter, report.period, kind_of(report))
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
    return inline_keyboard([(texts.SUBMIT_BUTTON, callback_data(SUBMIT, period))])


# ------------------------------------------------------------------------------------------ /report


async def cmd_report(update: Update, context: Context) -> None:
    """/report [季度]: a contact's review with buttons; an admin's /report sales|purchases|overview 季度 [单位]."""
    runtime = runtime_of(context)
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    identity = await handlers.identity_of(runtime, update)
    args = list(context.args or [])
    if identity.is_admin:
        await _admin_report(context, chat_id, args)
        return
    if not reports_for(identity):
        await handlers.say(context.bot, chat_id, texts.REPORT_ONLY)
        return
    try:
        period = parse_quarter("".join(args))
    except ReportInputError as exc:
        await handlers.say(context.bot, chat_id, f"{exc}\n\n{texts.REPORT_USAGE}")
        return

    def read() -> QuarterReport:
        with runtime.sessions() as session:
            return _own_report(session, identity, period)

    report = await asyncio.to_thread(read)
    form = _form_name(report)
    buttons = [(texts.FILE_BUTTON.format(form=form), callback_data(DOWNLOAD, period))]
    if _started(period):
        buttons.insert(0, (texts.SUBMIT_BUTTON, callback_data(SUBMIT, period)))
    hint = texts.REPORT_HINT_SALES if kind_of(report) == SALES else texts.REPORT_HINT_PURCHASES
    text = "\n".join([*report.summary_lines(), "", hint])
    await handlers.say(context.bot, chat_id, text, reply_markup=inline_keyboard(buttons))


@dataclass
class _Outgoing:
    """What an admin's request sends: an optional message, then files with their captions."""

    text: str = ""
    files: list[tuple[Path, str]] = field(default_factory=list)


def _admin_request(args: list[str]) -> tuple[str, Period, str]:
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


def _township(session: Session, name: str) -> TownshipEntry:
    township = Gazetteer.load(session).township_named(name)
    if township is None:
        raise ReportInputError(texts.UNKNOWN_TOWNSHIP.format(name=name))
    return township


def _admin_files(sessions: sessionmaker[Session], kind: str, period: Period, place: str, folder: Path) -> _Outgoing:
    with sessions() as session:
        if kind == OVERVIEW:
            paths = write_overview(session, period, folder)
            text = "\n".join(overview(session, period).summary_lines())
            captions = [
                texts.OVERVIEW_CAPTION.format(period=period.label) if p.suffix == ".xlsx" else "" for p in paths
            ]
            return _Outgoing(text, list(zip(paths, captions, strict=True)))
        if kind == SALES and place:
            report = township_report(session, period, _township(session, place).id)
            out = _write_own_form(session, report, folder)
            return _Outgoing(files=[(out, _caption(report))])
        if kind == SALES:
            out = write_sales_form(session, period, None, folder / _file_name("云阳县各乡镇", period, SALES))
            done = len(submitted(session, SALES, period))
            return _Outgoing(files=[(out, texts.ALL_TOWNSHIPS_CAPTION.format(period=period.label, done=done))])
        if place:
            units = known_lead_units(session)
            if place not in units:
                raise ReportInputError(texts.UNKNOWN_LEAD_UNIT.format(name=place, units="、".join(units)))
            report = lead_unit_report(session, period, place)
            out = _write_own_form(session, report, folder)
            return _Outgoing(files=[(out, _caption(report))])
        out = write_purchases_form(session, period, None, folder / _file_name("各牵头单位", period, PURCHASES))
        done = len(submitted(session, PURCHASES, period))
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
        await handlers.say(context.bot, chat_id, str(exc))
        return
    with tempfile.TemporaryDirectory(prefix="fupin-report-") as folder:
        try:
            outgoing = await asyncio.to_thread(_admin_files, runtime.sessions, kind, period, place, Path(folder))
        except ReportInputError as exc:
            await handlers.say(context.bot, chat_id, str(exc))
            return
        if outgoing.text:
            await handlers.say(context.bot, chat_id, outgoing.text)
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
    await handlers.retire_keyboard(query.message if isinstance(query.message, Message) else None, query.data or "")
    chat_id = update.effective_chat.id if update.effective_chat else update.effective_user.id
    match = _CALLBACK.match(query.data or "")
    if match is None:
        await handlers.say(context.bot, chat_id, texts.REPORT_BUTTON_STALE)
        return
    action, period = match[1], Period(int(match[2]), int(match[3]))
    runtime = runtime_of(context)
    # Permission is checked at the press, not when the buttons were shown: roles can change meanwhile.
    identity = await handlers.identity_of(runtime, update)
    if not reports_for(identity):
        await handlers.say(context.bot, chat_id, texts.REPORT_ONLY)
        return
    # One person's presses one at a time, so a double tap reads "already submitted" the second time.
    async with runtime.lock_for(update.effective_user.id):
        if action == SUBMIT:
            await handlers.say(
                context.bot, chat_id, await asyncio.to_thread(_submit, runtime.sessions, identity, period)
            )
        else:
            await _send_own_form(context.bot, runtime.sessions, chat_id, identity, period)


def _submit(sessions: sessionmaker[Session], identity: Identity, period: Period) -> str:
    if not _started(period):
        return texts.REPORT_NOT_STARTED.format(period=period.label)
    with sessions() as session, session.begin():
        report = _own_report(session, identity, period)
        submit_report(
            session,
            kind=kind_of(report),
            period=period,
            reporter=report.reporter,
            township_id=report.township_id if isinstance(report, TownshipReport) else None,
            user_id=identity.user_id,
            source="chat",
            rows=len(report.rows),
            amount_fen=report.total_fen,
        )
    values = {
        "reporter": report.reporter,
        "period": period.label,
        "form": _form_name(report),
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
        if kind_of(report) == SALES:
            caption = texts.FORM_CAPTION_SALES.format(summary=caption)
        # The pressed keyboard is gone: offer submitting again under the file while it is still open.
        markup = _submit_markup(period) if report.submission is None and _started(period) else None
        await send_file(bot, chat_id, path, caption, markup)


# ------------------------------------------------------------------------------------ 附件2 files


@dataclass(frozen=True)
class SalesFile:
    """A spreadsheet taken for a township's 附件2, with the 填报单位 written on it (may be empty)."""

    unit: str


def detect_sales_file(path: Path, caption: str) -> SalesFile | None:
    """The file as a 附件2 when its caption names one or its header row is 附件2's; None otherwise."""
    if _CATALOGUE_CAPTION.search(caption):
        return None
    try:
        table = locate_form(path, ATTACHMENT2)
    except SpreadsheetError:
        # Not 附件2's header row; still a 附件2 when the caption says so, and its import will say what is wrong.
        return SalesFile("") if _SALES_CAPTION.search(caption) else None
    return SalesFile(table.meta.get("填报单位", ""))


def file_quarter(caption: str) -> tuple[Period, bool]:
    """The quarter a caption names (2026Q4, 2026年第4季度, 上季度) and True, or the current quarter and False."""
    code = _QUARTER_CODE.search(caption)
    period = parse_period(re.sub(r"\s", "", code[0])) if code else parse_period(caption) if caption.strip() else None
    if period is None:
        return quarter_of(today()), False
    if period.quarter is None:
        raise ReportInputError(
            texts.SALES_FILE_NOT_A_QUARTER.format(text=caption, example=quarter_of(today()).previous().code)
        )
    return period, True


def _township_in(gazetteer: Gazetteer, text: str) -> TownshipEntry | None:
    spans = gazetteer.spans(text) if text else []
    return spans[0][2].township if spans else None


def _sales_township(sessions: sessionmaker[Session], identity: Identity, caption: str, unit: str) -> tuple[int, str]:
    with sessions() as session:
        gazetteer = Gazetteer.load(session)
    named = _township_in(gazetteer, caption)
    example = quarter_of(today()).code
    if identity.is_admin:
        # An admin sends it for the township the caption names, else the one the form's 填报单位 names.
        township = named or _township_in(gazetteer, unit)
        if township is None:
            raise ReportInputError(texts.SALES_FILE_NO_TOWNSHIP.format(example=example))
        return township.id, township.name
    assert identity.township_id is not None
    own = gazetteer.township_by_id[identity.township_id]
    if named is not None and named.id != own.id:
        raise ReportInputError(texts.SALES_FILE_OTHER_TOWNSHIP.format(own=own.name, named=named.name))
    return own.id, own.name


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
        township_id, township = await asyncio.to_thread(
            _sales_township, runtime.sessions, identity, caption, found.unit
        )
    except ReportInputError as exc:
        await handlers.say(context.bot, message.chat_id, str(exc))
        return True
    result = await asyncio.to_thread(import_sales_report, runtime.sessions, path, period, township_id, identity.user_id)
    if named:
        lines = [texts.SALES_FILE_QUARTER_NAMED.format(period=period.label)]
    else:
        example = period.previous().code
        lines = [texts.SALES_FILE_QUARTER_DEFAULT.format(period=period.label, example=example)]
    lines += result.lines()
    if result.ok:
        lines.append(texts.SALES_FILE_SUBMITTED.format(township=township, period=period.label))
    await handlers.say(context.bot, message.chat_id, "\n".join(lines))
    return True
