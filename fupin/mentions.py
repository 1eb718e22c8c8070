"""Finding quantities, prices, phones and supply methods inside a free sentence, with machine values.

Spans are offsets into the text as written; values come from `fupin.parsing`, so a span that
cannot be read exactly yields no mention rather than a wrong value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fupin.parsing import (
    NUMBER,
    SUPPLY_METHOD_WORDS,
    UNIT,
    parse_amount,
    parse_phone,
    parse_price,
    parse_quantity,
)
from fupin.values import SUPPLY_METHOD_LABELS, format_decimal, format_yuan

# The shapes of a parcel's tracking number: 邮政's international form, 顺丰/京东/圆通's, and a bare 12–15 digits.
TRACKING_PATTERNS = (r"[A-Za-z]{2}\d{9}CN", r"(?:SF|JD|YT)\d{10,15}", r"\d{12,15}")


@dataclass(frozen=True)
class Mention:
    """An entity found in text: type, span, canonical value and machine-readable details."""

    entity: str
    start: int
    end: int
    text: str
    value: str
    details: dict[str, Any] = field(default_factory=dict)


def fold_width(text: str) -> str:
    """Full-width ASCII and the ideographic space folded to ASCII, keeping every offset."""
    return "".join(
        chr(ord(ch) - 0xFEE0) if 0xFF01 <= ord(ch) <= 0xFF5E else " " if ch == "\u3000" else ch for ch in text
    )


_JIAO = "[0-9一二两三四五六七八九]"
_DIGITS = "0-9零〇一二两三四五六七八九十百千万壹贰叁肆伍陆柒捌玖拾佰仟萬"
_CURRENCY = "(?:元|块)(?:钱)?"
_PER_UNIT = rf"\s?(?:/|每|一)\s?{UNIT}"
# A jiao digit (三块五) only where a unit, 角/毛 or the end of the number follows: in 3元一斤 the 一 is "per".
_JIAO_PART = rf"(?:{_JIAO}(?=角|毛|{_PER_UNIT}|(?!\s?{UNIT})(?![{_DIGITS}元块]))(?:角|毛)?(?:钱)?)?"
# A number after a minus sign or a range mark (-5斤, 负5斤, 2-5斤, 3~4元) cannot be read exactly: no mention.
_NOT_AFTER = r"\-−~负"
_NOT_SCIENTIFIC = r"(?<![0-9.][eE^*×xX/])"  # 1e12斤, 10^12斤, 2×5斤, 1/2斤 are not 12斤, 5斤, 2斤
_PRICE_SPANS = re.compile(
    rf"{_NOT_SCIENTIFIC}(?<![{_NOT_AFTER}{_DIGITS}.])(?:"
    + "|".join(
        (
            # 每斤60元, 一斤三块五
            rf"(?:每|一){UNIT}\s?{NUMBER}\s?{_CURRENCY}{_JIAO_PART}",
            # ¥2.8/斤
            rf"¥\s?{NUMBER}(?:\s?/\s?{UNIT})?",
            # 4元/斤, 三块五一斤, 3.5元一斤, 150元, 3块5
            rf"{NUMBER}\s?{_CURRENCY}{_JIAO_PART}(?:{_PER_UNIT})?",
            # 八毛一斤
            rf"{NUMBER}(?:角|毛)(?:钱)?{_PER_UNIT}",
        )
    )
    + rf")(?![{_DIGITS}])"
)
_PHONE_SPANS = re.compile(r"(?<![\d+])(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)|(?<!\d)0\d{2,3}[\s-]?\d{7,8}(?!\d)")
_QUANTITY_SPANS = re.compile(
    rf"{_NOT_SCIENTIFIC}(?<![第哪这那每几钱价块元.{_NOT_AFTER}{_DIGITS}])(?<!最后){NUMBER}(?:来|多|余)?{UNIT}半?(?!季度|月|人|星期|小时|问题|订单|单|钟)"
    rf"|(?<![{_NOT_AFTER}{_DIGITS}])半{UNIT}"
)
# Order and complaint numbers as they stand in a message (shared by every reader of them).
ORDER_NO_SPANS = re.compile(r"(?<![0-9A-Za-z])XF\d{6}[0-9A-F]{6}(?![0-9A-Za-z])", re.IGNORECASE)
COMPLAINT_NO_SPANS = re.compile(r"(?<![0-9A-Za-z])TS\d{6}[0-9A-Z]{4}(?![0-9A-Za-z])", re.IGNORECASE)
_METHOD_SPANS = re.compile("|".join(sorted((re.escape(w) for w in SUPPLY_METHOD_WORDS), key=len, reverse=True)))


def _free(taken: list[tuple[int, int]], start: int, end: int) -> bool:
    return all(end <= s or start >= e for s, e in taken)


def find_mentions(text: str) -> list[Mention]:
    """Every order or complaint number, price, phone, quantity and supply method in a sentence, by position.

    Order and complaint numbers come first (their digits are no quantity), then prices (三块五一斤 would otherwise give the quantity 一斤), then phones,
    quantities and supply methods, each only where nothing was found yet.
    """
    folded = fold_width(text)
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []

    def add(mention: Mention | None) -> bool:
        if mention is None or not _free(taken, mention.start, mention.end):
            return False
        found.append(mention)
        taken.append((mention.start, mention.end))
        return True

    for match in ORDER_NO_SPANS.finditer(folded):
        add(Mention("order_no", match.start(), match.end(), match.group(), match.group().upper()))
    for match in COMPLAINT_NO_SPANS.finditer(folded):
        add(Mention("complaint_no", match.start(), match.end(), match.group(), match.group().upper()))
    for match in _PRICE_SPANS.finditer(folded):
        add(_price(text, match))
    for match in _PHONE_SPANS.finditer(folded):
        phone = parse_phone(match.group())
        if phone:
            add(Mention("phone", match.start(), match.end(), text[match.start() : match.end()], phone))
    for match in _QUANTITY_SPANS.finditer(folded):
        quantity = parse_quantity(match.group())
        if quantity is not None and quantity.value > 0:
            details = {"amount": format_decimal(quantity.value), "unit": quantity.unit}
            add(
                Mention(
                    "quantity", match.start(), match.end(), text[match.start() : match.end()], str(quantity), details
                )
            )
    said: Mention | None = None
    for match in _METHOD_SPANS.finditer(folded):
        method = SUPPLY_METHOD_WORDS[match.group()]
        if folded.startswith("渠道", match.end()):
            continue  # 电商渠道 is one of the plan's sales channels, not how an order travels
        value = SUPPLY_METHOD_LABELS[method]
        if said is not None and said.value == value and match.start() - said.end <= 1:
            continue  # one way said twice over (快递寄过来, 送货送到单位) is one mention
        mention = Mention("supply_method", match.start(), match.end(), match.group(), value)
        if add(mention):
            said = mention
    return sorted(found, key=lambda m: m.start)


def _price(text: str, match: re.Match[str]) -> Mention | None:
    span = match.group().rstrip()
    start, end = match.start(), match.start() + len(span)
    price = parse_price(span)
    if price is not None:
        details = {"fen": price.fen, "unit": price.unit}
        return Mention("price", start, end, text[start:end], str(price), details)
    fen = parse_amount(span)
    if fen is not None:
        return Mention("price", start, end, text[start:end], f"{format_yuan(fen)}元", {"fen": fen, "unit": None})
    return None
