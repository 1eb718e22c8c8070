"""Parse the numbers people write: quantities, prices, phones and supply methods.

Shared by the spreadsheet importer and the NLU normaliser. Every parser returns None (or raises
`ParseError` with a Chinese reason) rather than guessing a wrong value.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import cn2an

from fupin.values import ALL_UNITS, SUPPLY_METHOD_LABELS, Price, Quantity, SupplyMethod


class ParseError(ValueError):
    """A value that cannot be understood; the message is a Chinese reason for the user."""


# Financial numerals (贰佰斤) as well: people write them in orders and on forms.
_CN_DIGITS = "零〇一二两三四五六七八九十百千万壹贰叁肆伍陆柒捌玖拾佰仟萬"
_CN_NUMBER = f"[{_CN_DIGITS}]+(?:点[{_CN_DIGITS}]+)?"
NUMBER = rf"(?:\d+(?:\.\d+)?|\.\d+|{_CN_NUMBER})"
# Put before NUMBER in a pattern that is searched: a number is only tried where its run of digits starts, so a
# long run that is not followed by what the pattern wants fails once, not once per digit (linear search).
NUMBER_START = rf"(?<![0-9.{_CN_DIGITS}])"
# Longest units first so that 公斤 wins over 斤 and 市斤 over 斤.
UNIT = "(?:" + "|".join(sorted((re.escape(u) for u in ALL_UNITS), key=len, reverse=True)) + ")"
# Words only a buying unit's name carries (县人民医院食堂, 县第一中学): never part of a product's name.
UNIT_NAME_WORD = re.compile(
    r"食堂|医院|卫生院|学校|中学|小学|幼儿园|学院|大学|单位|公司|企业|机关|工会|政府|银行|酒店|宾馆|超市|饭店|餐厅"
)


def normalize_text(text: str) -> str:
    """Fold full-width characters to ASCII (NFKC), drop control characters and trim spaces."""
    folded = unicodedata.normalize("NFKC", text)
    cleaned = "".join(ch for ch in folded if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    return re.sub(r"\s+", " ", cleaned).strip()


# Longer numerals are no quantity or price anyone means, and would lose digits in Decimal's 28-digit arithmetic.
MAX_DIGITS = 18


def parse_number(text: str) -> Decimal | None:
    """An Arabic or Chinese numeral as a Decimal (两百五十 → 250, 三点五 → 3.5); None if it is not one."""
    text = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?|\.\d+", text):
        return _exact(Decimal(text))
    # A Chinese numeral of 18 digits takes at most about 40 characters; a longer run is no number (and
    # thousands of them would make an integer Python refuses to turn into text).
    if len(text) > 2 * MAX_DIGITS + 4 or not re.fullmatch(_CN_NUMBER, text):
        return None
    try:
        value = cn2an.cn2an(text, "smart")
        return _exact(Decimal(str(value)))
    except (ValueError, KeyError, IndexError, InvalidOperation):
        return None


def _exact(value: Decimal) -> Decimal | None:
    return None if value.adjusted() >= MAX_DIGITS or len(value.as_tuple().digits) > MAX_DIGITS else value


# No two \s* runs are adjacent (an optional word between them would make a space run backtrack quadratically).
_QUANTITY_RE = re.compile(
    rf"^(?:约|大约|大概|差不多)?(?P<num>{NUMBER}|半)\s*(?:(?P<approx>来|多|余)\s*)?"
    rf"(?P<unit>{UNIT})?(?P<half>半)?(?:左右)?$"
)


def parse_quantity(text: str, default_unit: str | None = None) -> Quantity | None:
    """A quantity such as 30斤, 两百斤, 一百来斤, 半斤, 两斤半, 1.5公斤, 5箱 (weights in 斤).

    A bare number takes `default_unit`; without one it is not a quantity. Returns None for
    anything that is not clearly a quantity.
    """
    match = _QUANTITY_RE.match(normalize_text(text).replace(" ", ""))
    if not match:
        return None
    number, unit = match["num"], match["unit"]
    if unit is None and len(number) > 1 and number.endswith("两"):
        number, unit = number[:-1], "两"  # 三两: 两 is the unit here, not the numeral
    unit = unit or default_unit
    if unit is None:
        return None
    value = Decimal("0.5") if number == "半" else parse_number(number)
    if value is None:
        return None
    if match["half"]:
        if number == "半" or value != value.to_integral_value():
            return None
        value += Decimal("0.5")
    return Quantity.of(value, unit)


_JIAO_DIGIT = "[0-9一二两三四五六七八九]"
_PER = r"(?:/|每|一|1|\s)"
_PRICE_RES = (
    # 每斤60元, 每斤3块5, 一斤三块五
    re.compile(
        rf"^(?:每|一)(?P<unit>{UNIT})(?P<yuan>{NUMBER})(?:元|块)(?:钱)?"
        rf"(?:(?P<jiao>{_JIAO_DIGIT})(?:角|毛)?(?:钱)?)?$"
    ),
    # 3元/斤, 三块五一斤, 3块5毛每斤, 2.8/斤, 120元/只, 3元, 3.5
    re.compile(
        rf"^(?P<yuan>{NUMBER})(?:元|块)?(?:钱)?"
        rf"(?:(?P<jiao>{_JIAO_DIGIT})(?=角|毛|{_PER}{UNIT}$|$)(?:角|毛)?(?:钱)?)?"
        rf"(?:{_PER}?(?P<unit>{UNIT}))?$"
    ),
    # 八毛一斤, 5角/个
    re.compile(rf"^(?P<jiao_only>{NUMBER})(?:角|毛)(?:钱)?(?:{_PER}?(?P<unit>{UNIT}))?$"),
)


def _money(text: str) -> tuple[Decimal, str | None] | None:
    # (yuan, unit or None) of a money expression; None when it is not one.
    cleaned = normalize_text(text).replace(" ", "")
    cleaned = re.sub(r"^(?:¥|RMB|人民币|单价|价格|售价)[:：]?", "", cleaned, flags=re.IGNORECASE)
    cleaned = cleaned.replace("元钱", "元").replace("块钱", "块")
    for pattern in _PRICE_RES:
        match = pattern.match(cleaned)
        if match:
            break
    else:
        return None
    if "jiao_only" in match.groupdict():
        jiao_only = parse_number(match["jiao_only"])
        return (jiao_only / 10, match["unit"]) if jiao_only is not None else None
    yuan = parse_number(match["yuan"])
    if yuan is None:
        return None
    if match["jiao"]:
        jiao = parse_number(match["jiao"])
        if jiao is None or yuan != yuan.to_integral_value():
            return None
        yuan += jiao / 10
    return yuan, match["unit"]


def parse_price(text: str, default_unit: str | None = None) -> Price | None:
    """A unit price such as 3元/斤, ¥2.8/斤, 三块五一斤, 每斤60元, 120元/只, or a bare 3.5.

    Returns integer fen per unit (per 斤 for weights); None when it is not a clear price
    (面议, 0.001元, no unit and no default).
    """
    money = _money(text)
    if money is None:
        return None
    yuan, unit = money
    unit = unit or default_unit
    if unit is None:
        return None
    price = Price.per(yuan, unit)
    if yuan > 0 and price.fen == 0:
        return None  # less than a fen per unit: surely a typo, never silently zero
    return price


def parse_amount(text: str) -> int | None:
    """A sum of money without a unit (150元, 一千八百块, ¥99.5) in integer fen; None otherwise."""
    money = _money(text)
    if money is None or money[1] is not None:
        return None
    fen = money[0] * 100
    if fen != fen.to_integral_value():
        return None
    return int(fen)


_MOBILE = r"1[3-9]\d{9}"
_LANDLINE = r"0\d{2,3}\d{7,8}"
_PHONE_SPAN = re.compile(r"(?:\+?86[\s-]?)?[01](?:[\s\-.()（）]?\d){8,12}")


def parse_day(text: str) -> date | None:
    """A date cell (2019-09-01, 2019/9/1, 2019.9.1, 2019年9月1日, or a spreadsheet datetime); None if unreadable."""
    head = normalize_text(text).strip().split(" ")[0].split("T")[0]
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"):
        try:
            return datetime.strptime(head, fmt).date()
        except ValueError:
            continue
    return None


def parse_phone(text: str) -> str | None:
    """A mainland mobile or landline number as digits ("177 2363 5558" → 17723635558); else None."""
    digits = re.sub(r"[\s\-.()（）]", "", normalize_text(text))
    digits = re.sub(r"^(?:\+?86)(?=1\d{10}$)", "", digits)
    if re.fullmatch(_MOBILE, digits) or re.fullmatch(_LANDLINE, digits):
        return digits
    return None


def split_contact(cell: str) -> tuple[str, str]:
    """Split a 供货联系人及联系方式 cell such as "李xx 17723635558" into (name, phone).

    Raises ParseError when the phone is missing or malformed.
    """
    text = normalize_text(cell)
    span = _PHONE_SPAN.search(text)
    if span is None:
        if re.search(r"\d{5,}", text):
            raise ParseError(f"联系电话格式不正确：{text}")
        raise ParseError("缺少供货联系人的联系电话")
    phone = parse_phone(span.group())
    if phone is None:
        raise ParseError(f"联系电话格式不正确：{span.group().strip()}")
    name = text[: span.start()] + " " + text[span.end() :]
    name = re.sub(r"[()（）\[\]【】]", " ", name).strip(" ,，:：;；、/-")
    name = re.sub(r"^(?:联系人|供货联系人)[:：]?", "", name).strip()
    if re.search(r"\d{5,}", name):
        raise ParseError(f"联系电话格式不正确：{text}")
    return name, phone


# Everyday phrasings of the plan's three supply methods.
SUPPLY_METHOD_WORDS: dict[str, SupplyMethod] = {
    **{label: method for method, label in SUPPLY_METHOD_LABELS.items()},
    "电子商务": SupplyMethod.ECOMMERCE,
    "网店": SupplyMethod.ECOMMERCE,
    "网购": SupplyMethod.ECOMMERCE,
    "网上": SupplyMethod.ECOMMERCE,
    "线上": SupplyMethod.ECOMMERCE,
    "线上购买": SupplyMethod.ECOMMERCE,
    "微店": SupplyMethod.ECOMMERCE,
    "网上下单": SupplyMethod.ECOMMERCE,
    "送货": SupplyMethod.DELIVERY,
    "配送": SupplyMethod.DELIVERY,
    "送上门": SupplyMethod.DELIVERY,
    "送货到家": SupplyMethod.DELIVERY,
    "上门送货": SupplyMethod.DELIVERY,
    "快递": SupplyMethod.DELIVERY,
    "邮寄": SupplyMethod.DELIVERY,
    "物流配送": SupplyMethod.DELIVERY,
    "自提": SupplyMethod.PICKUP,
    "上门自取": SupplyMethod.PICKUP,
    "自取": SupplyMethod.PICKUP,
    "到村自提": SupplyMethod.PICKUP,
    "现场自提": SupplyMethod.PICKUP,
    "线下直采": SupplyMethod.PICKUP,
    "上门取货": SupplyMethod.PICKUP,
    "自己来拿": SupplyMethod.PICKUP,
    "自己来取": SupplyMethod.PICKUP,
    "自己来拉": SupplyMethod.PICKUP,
    "到村里拿": SupplyMethod.PICKUP,
    "送过来": SupplyMethod.DELIVERY,
    "寄过来": SupplyMethod.DELIVERY,
    "帮忙送": SupplyMethod.DELIVERY,
    "网上买": SupplyMethod.ECOMMERCE,
    "网上订": SupplyMethod.ECOMMERCE,
    # Shops and platforms people name for buying online.
    "网店下单": SupplyMethod.ECOMMERCE,
    "线上下单": SupplyMethod.ECOMMERCE,
    "网上商城": SupplyMethod.ECOMMERCE,
    "电商平台": SupplyMethod.ECOMMERCE,
    "832平台": SupplyMethod.ECOMMERCE,
    "小程序": SupplyMethod.ECOMMERCE,
    "淘宝": SupplyMethod.ECOMMERCE,
    "拼多多": SupplyMethod.ECOMMERCE,
    "京东": SupplyMethod.ECOMMERCE,
    "抖音": SupplyMethod.ECOMMERCE,
    # Only phrases that no shorter word above already covers a part of (送货|到学校 stays 送货, as annotated).
    "直播间": SupplyMethod.ECOMMERCE,
    "在线下单": SupplyMethod.ECOMMERCE,
    "在线购买": SupplyMethod.ECOMMERCE,
    "在线订购": SupplyMethod.ECOMMERCE,
    "微信下单": SupplyMethod.ECOMMERCE,
    "公众号下单": SupplyMethod.ECOMMERCE,
    # Ways of saying the goods are brought to the buyer.
    "送到单位": SupplyMethod.DELIVERY,
    "送到单位来": SupplyMethod.DELIVERY,
    "送到食堂": SupplyMethod.DELIVERY,
    "送到学校": SupplyMethod.DELIVERY,
    "送到家": SupplyMethod.DELIVERY,
    "送到家里": SupplyMethod.DELIVERY,
    "送到门口": SupplyMethod.DELIVERY,
    "上门配送": SupplyMethod.DELIVERY,
    "送货到单位": SupplyMethod.DELIVERY,
    "帮忙送过来": SupplyMethod.DELIVERY,
    "给我们送过来": SupplyMethod.DELIVERY,
    "给我送过来": SupplyMethod.DELIVERY,
    "拉过来": SupplyMethod.DELIVERY,
    "运过来": SupplyMethod.DELIVERY,
    "寄快递": SupplyMethod.DELIVERY,
    "发快递": SupplyMethod.DELIVERY,
    "发物流": SupplyMethod.DELIVERY,
    "邮过来": SupplyMethod.DELIVERY,
    "送到医院": SupplyMethod.DELIVERY,
    "送到医院食堂": SupplyMethod.DELIVERY,
    "送到公司": SupplyMethod.DELIVERY,
    "送到公司来": SupplyMethod.DELIVERY,
    "送到办公室": SupplyMethod.DELIVERY,
    "送到机关": SupplyMethod.DELIVERY,
    "送到单位食堂": SupplyMethod.DELIVERY,
    "送到我们单位": SupplyMethod.DELIVERY,
    "送到我们食堂": SupplyMethod.DELIVERY,
    "送到我们学校": SupplyMethod.DELIVERY,
    "上门送": SupplyMethod.DELIVERY,
    "包送": SupplyMethod.DELIVERY,
    "包邮": SupplyMethod.DELIVERY,
    "顺丰": SupplyMethod.DELIVERY,
    "走物流": SupplyMethod.DELIVERY,
    "物流发货": SupplyMethod.DELIVERY,
    # Ways of saying the buyer fetches the goods (the pronoun belongs to the phrase: 我们自己来拿).
    "自己开车来拿": SupplyMethod.PICKUP,
    "自己开车来拉": SupplyMethod.PICKUP,
    "自己开车来取": SupplyMethod.PICKUP,
    "开车来拿": SupplyMethod.PICKUP,
    "开车来拉": SupplyMethod.PICKUP,
    "我们自己来拿": SupplyMethod.PICKUP,
    "我们自己来取": SupplyMethod.PICKUP,
    "我们自己来拉": SupplyMethod.PICKUP,
    "我们自己开车来拿": SupplyMethod.PICKUP,
    "我自己来拿": SupplyMethod.PICKUP,
    "我自己来取": SupplyMethod.PICKUP,
    "自己过来拿": SupplyMethod.PICKUP,
    "自己过来取": SupplyMethod.PICKUP,
    "自己过来拉": SupplyMethod.PICKUP,
    "自己去拿": SupplyMethod.PICKUP,
    "自己去取": SupplyMethod.PICKUP,
    "自己去拉": SupplyMethod.PICKUP,
    "上门来拿": SupplyMethod.PICKUP,
    "到店自提": SupplyMethod.PICKUP,
    "现场提货": SupplyMethod.PICKUP,
    "自己提货": SupplyMethod.PICKUP,
    "自己拉": SupplyMethod.PICKUP,
    "自己拉走": SupplyMethod.PICKUP,
    "自己拉回去": SupplyMethod.PICKUP,
    "派车来拉": SupplyMethod.PICKUP,
    "派车来拿": SupplyMethod.PICKUP,
    "派车来取": SupplyMethod.PICKUP,
    "派车去拉": SupplyMethod.PICKUP,
    "我们来拉": SupplyMethod.PICKUP,
    "我们来拿": SupplyMethod.PICKUP,
    "我们来取": SupplyMethod.PICKUP,
    "我们去拉": SupplyMethod.PICKUP,
    "我们去拿": SupplyMethod.PICKUP,
    "过来拿": SupplyMethod.PICKUP,
    "过来拉": SupplyMethod.PICKUP,
    "过来取": SupplyMethod.PICKUP,
    "上门提货": SupplyMethod.PICKUP,
    "自行提货": SupplyMethod.PICKUP,
    "自行取货": SupplyMethod.PICKUP,
    "自行提取": SupplyMethod.PICKUP,
    "到村里取": SupplyMethod.PICKUP,
    "到村里拉": SupplyMethod.PICKUP,
    "去村里拿": SupplyMethod.PICKUP,
    "去村里拉": SupplyMethod.PICKUP,
    "开车过来拿": SupplyMethod.PICKUP,
    "开车过来拉": SupplyMethod.PICKUP,
    "开车去拉": SupplyMethod.PICKUP,
    "开车去拿": SupplyMethod.PICKUP,
    "自己开车去拉": SupplyMethod.PICKUP,
    "自己开车去拿": SupplyMethod.PICKUP,
    "自己开车过来拿": SupplyMethod.PICKUP,
    "自己开车过来拉": SupplyMethod.PICKUP,
    "我们自己去拉": SupplyMethod.PICKUP,
    "我们自己去拿": SupplyMethod.PICKUP,
    "我们自己过来拿": SupplyMethod.PICKUP,
}


def parse_supply_method(text: str) -> SupplyMethod | None:
    """One supply method from a word or phrase (送货上门, 配送, 自提 …); None if unknown."""
    word = normalize_text(text).replace(" ", "")
    return SUPPLY_METHOD_WORDS.get(word)


def parse_supply_methods(text: str) -> SupplyMethod:
    """All supply methods of a cell such as "送货上门、上门自提"; raises ParseError on an unknown one."""
    parts = [p for p in re.split(r"[、,，/；;\s+和及或]+", normalize_text(text)) if p]
    if not parts:
        raise ParseError("缺少供货方式")
    methods = SupplyMethod(0)
    for part in parts:
        method = parse_supply_method(part)
        if method is None:
            raise ParseError(f"未知的供货方式：{part}（可填：电商、送货上门、上门自提）")
        methods |= method
    return methods


# Spaces and punctuation around the words a message frames.
FRAME_MARKS = tuple(" ,，.。;；:：!！~～、")


def strip_frame(text: str, frame: tuple[str, ...]) -> str:
    """The text without the frame words and marks at either end ("我要投诉，土豆烂了。" → "土豆烂了").

    Token by token with str methods: no pattern built at run time, linear in the text's length.
    """
    tokens = sorted(set(frame) | set(FRAME_MARKS), key=len, reverse=True)
    start, end = 0, len(text)
    moved = True
    while moved and start < end:
        moved = False
        for token in tokens:
            if text.startswith(token, start, end):
                start += len(token)
                moved = True
                break
    moved = True
    while moved and start < end:
        moved = False
        for token in tokens:
            if text.endswith(token, start, end):
                end -= len(token)
                moved = True
                break
    return text[start:end]
