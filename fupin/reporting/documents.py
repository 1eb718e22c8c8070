"""Rules for what people send about reports: which form a file is, which quarter and township it is for.

A spreadsheet is a township's 附件2 when its caption says so (附件2, 销售) or, without such a caption,
when its header row is 附件2's (采购单位, 销售时间, 产品品种, 销售数量, 销售金额); everything else is
left to the 附件1 catalogue import. It is imported for the quarter its caption names (2026Q4, 上季度),
else for the current quarter. A contact sends it for their own township; the county (an admin, or the
command line) for the township the caption names, else the one the form's 填报单位 names.

The chat and the command line both use these rules; the errors carry the Chinese answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import NamedTuple

from sqlalchemy.orm import Session

from fupin.outreach.users import Identity
from fupin.periods import Period, parse_period, quarter_of, today
from fupin.places import Gazetteer, TownshipEntry
from fupin.reporting.attachment2 import ATTACHMENT2
from fupin.reporting.quarter import known_lead_units
from fupin.spreadsheets.forms import locate_form
from fupin.spreadsheets.grid import SpreadsheetError

BAD_QUARTER = "无法识别的季度“{text}”。"
UNKNOWN_TOWNSHIP = "云阳县没有叫“{name}”的乡镇（街道）。"
UNKNOWN_LEAD_UNIT = "未知的牵头单位“{name}”，可选：{units}。"
SALES_FILE_NOT_A_QUARTER = "文件说明中的“{text}”不是一个季度，文件未导入。请写明季度，如 {example}。"
SALES_FILE_NO_TOWNSHIP = (
    "请在发送文件时的说明里写明是哪个乡镇（街道）的附件2（如“龙角镇 {example}”），或在表中填写填报单位。"
)
SALES_FILE_OTHER_TOWNSHIP = "您是{own}的供货联系人，只能报送{own}的附件2（文件说明写的是{named}）。"

# A caption naming the form decides; without one the file's header row does.
_CATALOGUE_CAPTION = re.compile(r"附件\s*[1一]|目录")
_SALES_CAPTION = re.compile(r"附件\s*[2二]|销售")
_QUARTER_CODE = re.compile(r"\d{4}\s*[Qq]\s*[1-4]")


class ReportInputError(Exception):
    """A quarter, township, lead unit or file the person has to correct; the message is the Chinese answer."""


class NoTownshipForFile(ReportInputError):
    """A file sent by the county names no township, neither in its caption nor as its 填报单位."""


@dataclass(frozen=True)
class SalesFile:
    """A spreadsheet taken for a township's 附件2, with the 填报单位 written on it (may be empty)."""

    unit: str


class FileQuarter(NamedTuple):
    """The quarter a file is imported for, and whether its caption named it (else it is the current one)."""

    period: Period
    named: bool


def parse_quarter(text: str, day: date | None = None) -> Period:
    """The quarter a request names (2026Q4, 2026年第4季度, 上季度); the current one when empty."""
    period = parse_period(text) if text else quarter_of(day or today())
    if period is None or period.quarter is None:
        raise ReportInputError(BAD_QUARTER.format(text=text))
    return period


def sales_form_unit(path: Path) -> str | None:
    """The 填报单位 of a spreadsheet whose header row is 附件2's ("" when not filled), None for any other file."""
    try:
        table = locate_form(path, ATTACHMENT2)
    except SpreadsheetError:
        return None
    return table.meta.get("填报单位", "")


def detect_sales_file(path: Path, caption: str) -> SalesFile | None:
    """The file as a 附件2 when its caption names one or its header row is 附件2's; None otherwise."""
    if _CATALOGUE_CAPTION.search(caption):
        return None
    unit = sales_form_unit(path)
    if unit is None:
        # Not 附件2's header row; still a 附件2 when the caption says so, and its import will say what is wrong.
        return SalesFile("") if _SALES_CAPTION.search(caption) else None
    return SalesFile(unit)


def file_quarter(caption: str, day: date | None = None) -> FileQuarter:
    """The quarter a caption names (2026Q4, 2026年第4季度, 上季度), or the current quarter when it names none."""
    current = quarter_of(day or today())
    code = _QUARTER_CODE.search(caption)
    period = parse_period(re.sub(r"\s", "", code[0])) if code else parse_period(caption) if caption.strip() else None
    if period is None:
        return FileQuarter(current, False)
    if period.quarter is None:
        raise ReportInputError(SALES_FILE_NOT_A_QUARTER.format(text=caption, example=current.previous().code))
    return FileQuarter(period, True)


def township_in(gazetteer: Gazetteer, text: str) -> TownshipEntry | None:
    """The first township a text mentions (by its name or one of its villages'), if any."""
    spans = gazetteer.spans(text) if text else []
    return spans[0][2].township if spans else None


def file_township(
    gazetteer: Gazetteer, sender: Identity | None, caption: str, unit: str, day: date | None = None
) -> TownshipEntry:
    """The township a 附件2 file is for; `sender` None is the command line, which acts for the county."""
    named = township_in(gazetteer, caption)
    if sender is None or sender.is_admin:
        # The county sends it for the township the caption names, else the one the form's 填报单位 names.
        township = named or township_in(gazetteer, unit)
        if township is None:
            raise NoTownshipForFile(SALES_FILE_NO_TOWNSHIP.format(example=quarter_of(day or today()).code))
        return township
    if sender.township_id is None:
        raise ValueError("only a township's (village's) contact or the county sends a township's 附件2")
    own = gazetteer.township_by_id[sender.township_id]
    if named is not None and named.id != own.id:
        raise ReportInputError(SALES_FILE_OTHER_TOWNSHIP.format(own=own.name, named=named.name))
    return own


def township_named(gazetteer: Gazetteer, name: str) -> TownshipEntry:
    """The township of that name (or short name)."""
    township = gazetteer.township_named(name)
    if township is None:
        raise ReportInputError(UNKNOWN_TOWNSHIP.format(name=name))
    return township


def lead_unit_named(session: Session, name: str) -> str:
    """The lead unit of that name, one of the plan's or one buyers or submissions name."""
    units = known_lead_units(session)
    if name not in units:
        raise ReportInputError(UNKNOWN_LEAD_UNIT.format(name=name, units="、".join(units)))
    return name
