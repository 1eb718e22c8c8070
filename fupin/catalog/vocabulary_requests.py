"""Vocabulary changes asked for in a sentence (把奇异果设为猕猴桃的别名, 删除别名奇异果, 把红心猕猴桃并入猕猴桃).

A new alias is by definition a word the catalogue does not know yet, so the NLU cannot find it as a product:
the names are read from the sentence's wording instead. `preview` says what would change (checking the
admin's rights and the names the way the change itself will), `apply` makes the change with the admin as actor.
"""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from fupin.catalog.listings import canonical_product_name
from fupin.catalog.vocabulary import (
    MergeResult,
    VocabularyError,
    add_product_alias,
    alias_owner,
    check_alias,
    check_may_edit,
    merge_products,
    plan_merge,
    remove_product_alias,
)
from fupin.outreach.users import Identity, sender_of
from fupin.parsing import normalize_text

logger = logging.getLogger(__name__)


class RequestKind(str, enum.Enum):
    """What a vocabulary sentence asks for."""

    ADD_ALIAS = "add_alias"
    REMOVE_ALIAS = "remove_alias"
    MERGE = "merge"


@dataclass(frozen=True)
class VocabularyRequest:
    """A vocabulary change as written: `name` is the alias (or the product merged away), `product` the other."""

    kind: RequestKind
    name: str
    product: str = ""  # a removal may leave out whose alias it is
    variety: str | None = None  # a merge's variety; None: what the merged name adds to the target's (红心)

    def to_slot(self) -> dict[str, Any]:
        """A JSON-safe form to keep between turns."""
        return {"kind": self.kind.value, "name": self.name, "product": self.product, "variety": self.variety}

    @classmethod
    def from_slot(cls, data: dict[str, Any]) -> VocabularyRequest:
        """Rebuild a request kept between turns."""
        variety = data.get("variety")
        return cls(
            RequestKind(str(data["kind"])),
            str(data["name"]),
            str(data.get("product") or ""),
            None if variety is None else str(variety),
        )


# --- reading the sentence ---------------------------------------------------------------------------------

MAX_NAME = 20
# Longer sentences are no vocabulary change anyone writes (and the patterns are only tried on short ones).
MAX_SENTENCE = 120
# A name runs up to punctuation or a space; lazy, so the wording around it decides where it ends.
_N = rf"[^\s,;:!?、。()\[\]【】<>《》→=]{{1,{MAX_NAME}}}?"
_QUOTES = re.compile(r"[“”‘’\"'「」『』]")
_POLITE_START = re.compile(r"^(?:请你|请|麻烦你?|帮我|帮忙|劳驾|您|你|我要|我想|想|能不能|可以|可不可以)+")
_POLITE_END = re.compile(r"(?:谢谢|好吗|好不好|行吗|可以吗|吧|啊|呀|哈|嘛|了|哦|喔|[,.!~～。])+$")
_DELETE = r"(?:删除|删掉|删去|删|去掉|去除|移除|撤销|撤掉|拿掉)"
_SEPARATOR = r"(?:\s*(?:->|→|=|>|,|、|对应|指向|是|为|给|到)\s*|\s+)"
_VARIETY = rf"(?:[,;、\s]*(?:作为|当作|当成)?品种(?:名)?(?:就叫|叫做|叫|为|是|:)?\s*(?P<variety>{_N}))?"
_MERGE_VERB = r"(?:合并到|合并进|合并入|合并至|合并为|并入|并到|并进|归并到|归到|归入|归为|合到|划到|划入|划归|转到)"

_PATTERNS: list[tuple[RequestKind, re.Pattern[str]]] = [
    (kind, re.compile(pattern))
    for kind, pattern in [
        # Merges: 把红心猕猴桃并入猕猴桃 / 红心猕猴桃合并到猕猴桃，品种红心 / 合并产品 黄心洋芋 土豆.
        (
            RequestKind.MERGE,
            rf"(?:把|将)?(?P<name>{_N}){_MERGE_VERB}(?P<product>{_N})"
            rf"(?:里面|里|下面|下|名下|之下|中|去)?{_VARIETY}",
        ),
        (
            RequestKind.MERGE,
            rf"(?:合并|合并产品)[:\s]*(?P<name>{_N})"
            rf"(?:\s*(?:->|→|=|>|,|、|到|进|入|至)\s*|\s+)(?P<product>{_N}){_VARIETY}",
        ),
        (
            RequestKind.MERGE,
            rf"(?P<name>{_N})是(?P<product>{_N})的(?:一个)?品种"
            r"(?:[,;\s]*(?:把它|把它们)?(?:合并过去|并过去|合并进去|并进去|合并|归过去))?",
        ),
        # Removals before additions: 奇异果不是猕猴桃的别名 would otherwise read as an addition to "奇异果不".
        (
            RequestKind.REMOVE_ALIAS,
            rf"{_DELETE}(?:(?P<product>{_N})的)?(?:这个|一个)?(?:产品)?别名[:\s]*(?P<name>{_N})",
        ),
        (RequestKind.REMOVE_ALIAS, rf"(?:把|将)?(?P<name>{_N})(?:这个|这一个)?别名(?:{_DELETE}|作废|不要)"),
        (RequestKind.REMOVE_ALIAS, rf"{_DELETE}(?P<name>{_N})这个别名"),
        (RequestKind.REMOVE_ALIAS, rf"(?:把|将)?(?P<name>{_N})从(?P<product>{_N})的别名(?:里面|里|中)?{_DELETE}"),
        (RequestKind.REMOVE_ALIAS, rf"(?:把|将)?(?P<product>{_N})的别名(?P<name>{_N}){_DELETE}"),
        (RequestKind.REMOVE_ALIAS, rf"(?P<name>{_N})不是(?P<product>{_N})的别名"),
        (RequestKind.REMOVE_ALIAS, rf"别名(?:里|中|里面){_DELETE}(?P<name>{_N})"),
        # Additions: 把奇异果设为猕猴桃的别名 / 奇异果是猕猴桃的别名 / 添加别名 奇异果 猕猴桃 / 给猕猴桃加个别名叫藤梨.
        (
            RequestKind.ADD_ALIAS,
            rf"(?:把|将)?(?P<name>{_N})(?:设为|设成|设置为|设置成|设定为|作为|当作|当成|定为|算作|"
            rf"算成|列为|加为|添加为|增加为|登记为|改为|变成)(?P<product>{_N})的(?:一个)?别名",
        ),
        (RequestKind.ADD_ALIAS, rf"(?P<name>{_N})(?:也是|就是|算是|是|算|当)(?P<product>{_N})的(?:一个)?别名"),
        (
            RequestKind.ADD_ALIAS,
            rf"(?:添加|增加|新增|加上|加|设置|登记|录入)(?:一个|个|条)?(?:产品)?别名[:\s]*"
            rf"(?P<name>{_N}){_SEPARATOR}(?P<product>{_N})(?:的别名)?",
        ),
        (
            RequestKind.ADD_ALIAS,
            rf"给(?P<product>{_N})(?:添加|增加|加上|加|新增|设置|设|起|取)(?:一个|个)?别名"
            rf"(?:叫做|叫|为|是)?[:\s]*(?P<name>{_N})",
        ),
        (
            RequestKind.ADD_ALIAS,
            rf"(?P<product>{_N})的别名(?:里加上|里加|加上|添加|增加|新增|加|还有)[:\s]*(?P<name>{_N})",
        ),
        (RequestKind.ADD_ALIAS, rf"(?P<product>{_N})(?:又叫|也叫|还叫|别名叫|别名是|俗称|又称|也称)(?P<name>{_N})"),
        (RequestKind.ADD_ALIAS, rf"(?:以后)?(?:说|写)?(?P<name>{_N})就是(?P<product>{_N})"),
    ]
]
# Words that are the sentence's frame, never a product's name: a capture holding one was cut in the wrong place.
_FRAME_WORDS = re.compile(r"别名|品种|合并|并入")


def _clean(text: str) -> str:
    text = _QUOTES.sub("", normalize_text(text)).replace("一下", "")
    text = _POLITE_END.sub("", _POLITE_START.sub("", text.strip()))
    return text.strip()


def _valid(name: str) -> bool:
    return 0 < len(name) <= MAX_NAME and not _FRAME_WORDS.search(name)


def parse_request(text: str) -> VocabularyRequest | None:
    """The vocabulary change a sentence asks for, or None when its wording is not one of the known forms."""
    cleaned = _clean(text[: MAX_SENTENCE * 2])
    if len(cleaned) > MAX_SENTENCE:
        return None
    for kind, pattern in _PATTERNS:
        found = pattern.fullmatch(cleaned)
        if found is None:
            continue
        groups = found.groupdict()
        name, product = groups["name"], groups.get("product") or ""
        variety = groups.get("variety")
        if not _valid(name) or (product and not _valid(product)) or name == product:
            continue
        if variety is not None and not _valid(variety):
            continue
        return VocabularyRequest(kind, name, product, variety)
    return None


# --- what it would change, and changing it --------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """What a request would change, with the names as the catalogue has them."""

    request: VocabularyRequest
    name: str  # the alias, or the product merged away
    product: str  # the product the alias names (or named), or the product merged into
    variety: str = ""  # a merge's variety
    listings: int = 0  # a merge's listings that move
    orders: int = 0  # and their orders


@dataclass(frozen=True)
class Outcome:
    """What a request changed."""

    request: VocabularyRequest
    name: str
    product: str
    merged: MergeResult | None = None


def actor_of(identity: Identity) -> str:
    """Who made a change by chat, in the change log: the sender id (telegram:123)."""
    return sender_of(identity.channel, identity.external_id)


def _owner(session: Session, request: VocabularyRequest) -> str:
    owner = alias_owner(session, request.name)
    named = canonical_product_name(session, request.product) if request.product else owner
    if request.product and named != owner:
        raise VocabularyError(f"“{request.name}”是“{owner}”的别名，不是“{request.product}”的")
    return owner


def preview(session: Session, identity: Identity, request: VocabularyRequest) -> Preview:
    """What the request would change, for the read-back; raises VocabularyError (rights, unknown names…)."""
    check_may_edit(identity)
    if request.kind is RequestKind.ADD_ALIAS:
        alias, product = check_alias(session, request.name, request.product)
        return Preview(request, alias, product)
    if request.kind is RequestKind.REMOVE_ALIAS:
        return Preview(request, request.name, _owner(session, request))
    plan = plan_merge(session, request.name, request.product, request.variety)
    return Preview(request, plan.source, plan.target, plan.variety, plan.listings, plan.orders)


def apply(session: Session, identity: Identity, request: VocabularyRequest) -> Outcome:
    """Make the change with this admin as actor (rights checked again: a confirmation can be forged)."""
    check_may_edit(identity)
    actor = actor_of(identity)
    if request.kind is RequestKind.ADD_ALIAS:
        alias, product = check_alias(session, request.name, request.product)
        add_product_alias(session, alias, product, actor)
        return Outcome(request, alias, product)
    if request.kind is RequestKind.REMOVE_ALIAS:
        _owner(session, request)
        product = remove_product_alias(session, request.name, actor)
        return Outcome(request, request.name, product)
    merged = merge_products(session, request.name, request.product, actor, variety=request.variety)
    return Outcome(request, merged.source, merged.target, merged)
