"""Reading what a pre-order or adoption promises: the month (12月上市, 腊月交付) and a 附件1 备注 marker."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from fupin.parsing import normalize_text, parse_number
from fupin.values import OfferKind

# Years a month may name: this one and the next few (a harvest further off is no pre-order).
MAX_YEARS_AHEAD = 3
# The lunar months people name deliveries by (腊月交付), taken as the calendar month they mostly fall in.
_NAMED_MONTHS = {"正月": 1, "冬月": 11, "腊月": 12}
_MONTH = re.compile(
    r"(?:(?P<year>\d{4})年|(?P<next>明年|来年))?"
    r"(?:(?P<num>\d{1,2}|[一二三四五六七八九十]{1,3})月份?(?![0-9])|(?P<named>正月|冬月|腊月))"
)
# Months named from today: 这个月 / 本月, 下个月 / 下月, 下下个月, 再过两个月, 三个月后 ("下个月就熟了").
_RELATIVE_MONTH = re.compile(
    r"(?P<ahead>下下个?|下个?|这个?|本)月|再过(?P<after>[1-9一二两三四五六])个?多?月|(?P<later>[1-9一二两三四五六])个多?月[以之]?后"
)
_MONTHS_AHEAD = {"下下个": 2, "下下": 2, "下个": 1, "下": 1, "这个": 0, "这": 0, "本": 0}
# The 附件1 备注 conventions: "预售，12月上市" and "认养：一头年猪，约200斤，腊月交付" (docs/offers.md).
_MARKER = re.compile(r"^(?P<kind>预售|预订|认养|认领|现货)\s*[:：，,、]?\s*(?P<rest>.*)$", re.S)
REMARK_EXAMPLES = "应写如“预售，12月上市”或“认养：一头年猪，约200斤，腊月交付”"


class TermsError(ValueError):
    """A month or marker that cannot be understood; the message is a Chinese reason for the user."""


@dataclass(frozen=True)
class MonthMention:
    """A month found in a text: its first day, and the words that named it."""

    month: date
    written: str


def find_month(text: str, on: date) -> MonthMention | None:
    """The month a text names (12月, 十二月, 2026年12月, 明年3月, 腊月, 下个月) as its first day; raises TermsError.

    Without a year it is the next such month from `on` (this month counts); a month already past is refused.
    """
    cleaned = normalize_text(text).replace(" ", "")
    found = _MONTH.search(cleaned)
    if found is None:
        relative = _RELATIVE_MONTH.search(cleaned)
        if relative is None:
            return None
        count = relative["after"] or relative["later"]
        ahead = _MONTHS_AHEAD[relative["ahead"]] if relative["ahead"] else int(parse_number(count) or 0)
        index = on.year * 12 + on.month - 1 + ahead
        return MonthMention(date(index // 12, index % 12 + 1, 1), relative.group(0))
    written = found.group(0)
    number = _NAMED_MONTHS[found["named"]] if found["named"] else parse_number(found["num"])
    if number is None or number != int(number) or not 1 <= number <= 12:
        raise TermsError(f"月份“{written}”不对，应是1到12月")
    month = int(number)
    if found["year"]:
        year = int(found["year"])
    elif found["next"]:
        year = on.year + 1
    else:
        year = on.year if month >= on.month else on.year + 1
    first = date(year, month, 1)
    if first < date(on.year, on.month, 1):
        raise TermsError(f"“{written}”已经过去了，请写今后的月份")
    if year > on.year + MAX_YEARS_AHEAD:
        raise TermsError(f"“{written}”太远了，请核对年份")
    return MonthMention(first, written)


@dataclass(frozen=True)
class RemarkOffer:
    """What a 附件1 备注 says the row offers: kind, month, the adoption's terms, and the remark left over."""

    offer: OfferKind
    expected_month: date | None = None
    terms: str = ""
    remarks: str = ""


def read_remark(cell: str, on: date) -> RemarkOffer | None:
    """The offer a 备注 cell marks ("预售，12月上市", "认养：…"), None for an ordinary remark; raises TermsError."""
    # Spaces folded but the full-width marks kept: the terms are shown to buyers as the township wrote them.
    text = re.sub(r"\s+", " ", cell).strip()
    marked = _MARKER.match(text)
    if marked is None:
        return None
    kind, rest = marked["kind"], marked["rest"].strip()
    if kind == "现货":
        return RemarkOffer(OfferKind.IN_HAND, remarks=rest)
    if kind in ("预售", "预订"):
        mention = find_month(rest, on)
        if mention is None:
            raise TermsError(f"备注写了预售，但没有写上市月份（{REMARK_EXAMPLES}）")
        return RemarkOffer(OfferKind.PRE_ORDER, mention.month, remarks=rest)
    if not rest:
        raise TermsError(f"备注写了认养，但没有写认养户得到什么（{REMARK_EXAMPLES}）")
    mention = find_month(rest, on)
    return RemarkOffer(OfferKind.ADOPTION, mention.month if mention else None, terms=rest, remarks=rest)
