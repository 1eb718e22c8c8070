"""Reading complaint messages: which category, the buyer's own words, and what a handler's message does.

"XF…的土豆有一半是烂的" → 质量, "土豆有一半是烂的"; "TS…已处理：补发10斤" → answer, "补发10斤";
"TS…结案：属实，已责令退款" → close. Rules, not the model: these words are few and their meaning fixed.
"""

from __future__ import annotations

import logging
import re

from fupin.complaints.pushes import ComplaintOp
from fupin.mentions import COMPLAINT_NO_SPANS, ORDER_NO_SPANS, fold_width
from fupin.models import MAX_COMPLAINT_TEXT
from fupin.parsing import strip_frame
from fupin.values import ComplaintCategory

logger = logging.getLogger(__name__)


# The first category whose words a message has; 以次充好 before 质量 (假货 is worse than 不新鲜).
_CATEGORY_WORDS = (
    (
        ComplaintCategory.INFERIOR,
        re.compile(r"以次充好|以假乱真|掺假|掺了|假货|假的|冒充|不是.{0,6}(?:本地|土|正宗)|调包|以旧充新"),
    ),
    (
        ComplaintCategory.NOT_DELIVERED,
        re.compile(r"没送到|没有送到|未送达|没收到|没有收到|一直没到|还没到|没到货|没发货"),
    ),
    (ComplaintCategory.SHORT, re.compile(r"缺斤|少了|不够|短斤|少给|少秤|差了?\d|数量不对|分量不足|不足")),
    (
        ComplaintCategory.QUALITY,
        re.compile(r"烂|坏|变质|发霉|霉|臭|不新鲜|生虫|有虫|质量|馊|过期|破了|漏了|碎了|蔫|有问题"),
    ),
)
# The frame of a complaint message, never the buyer's account of what went wrong.
_FRAME_WORDS = (
    "我要投诉", "我想投诉", "要投诉", "想投诉", "投诉一下", "投诉", "我要反映", "反映一下", "反映", "订单",
    "上次买的", "上次的", "这次的", "买的",
)  # fmt: skip
_FRAME = re.compile("|".join(re.escape(w) for w in _FRAME_WORDS) + r"|[\s,，.。;；:：!！~～、]")


_OPS = (
    (ComplaintOp.ESCALATE, re.compile(r"不满意|没解决|没有解决|升级|投诉到|找监管")),
    (ComplaintOp.CLOSE, re.compile(r"结案")),
    (ComplaintOp.SETTLE, re.compile(r"确认解决|解决了|满意|可以了|没问题了")),
    (ComplaintOp.ANSWER, re.compile(r"已处理|处理好了|处理了|已退款|退款|退了|补发|已补|赔|换货|重发|已解决")),
    (ComplaintOp.TAKE, re.compile(r"受理|接手|我来处理|在处理|处理中")),
)


def category_in(text: str) -> ComplaintCategory | None:
    """The category a complaint message says (烂了 → 质量, 少了5斤 → 数量不足), None when it says none."""
    folded = fold_width(text)
    for category, pattern in _CATEGORY_WORDS:
        if pattern.search(folded):
            return category
    return None


def complaint_words(text: str) -> str:
    """The buyer's own account in a complaint message ("土豆有一半是烂的"), "" when it is only the frame."""
    # As typed (full-width marks kept): these are the buyer's words, shown back and sent on.
    rest = ORDER_NO_SPANS.sub(" ", text).strip()
    if text.startswith("/") or len(_FRAME.sub("", rest)) < 2:
        return ""
    # "XF…的土豆…": the 的 after the number belongs to the frame; one at the end is the buyer's.
    return strip_frame(rest, _FRAME_WORDS).removeprefix("的").strip()[:MAX_COMPLAINT_TEXT]


def complaint_no_in(text: str) -> str | None:
    """The complaint number a message names (TS261204K7QM), upper case."""
    found = COMPLAINT_NO_SPANS.search(fold_width(text))
    return found.group(0).upper() if found else None


def complaint_op_in(text: str) -> ComplaintOp | None:
    """What a message about a complaint asks for, None when it says nothing of it."""
    folded = fold_width(text)
    for op, pattern in _OPS:
        if pattern.search(folded):
            return op
    return None


def note_in(text: str) -> str:
    """The note of a handler's message: what follows the number (and a colon): "TS…已处理：补发10斤" → "补发10斤"."""
    rest = COMPLAINT_NO_SPANS.sub(" ", fold_width(text)).strip()
    _head, colon, tail = rest.partition(":")
    return (tail if colon else rest).strip(" ,.")
