"""BareAnswer: a message that is nothing but values (土豆, 龙角镇的, 30斤, 县教委, 送货上门) is `inform`.

A bare answer means what the question before it asked; the active form resolves it (data/rules.yml).
The model alone reads it by the words around a value in its training data, so the same 核桃 or 三块五一斤
came out as a search, an order or a stock change. This component decides it by rule, from the entities
the extractors found, after them and before the negation guard and the fallback.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import (
    ENTITIES,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from nlu.overrides import Decision, IntentRule

logger = logging.getLogger(__name__)

BARE_ANSWER_KEY = "bare_answer"
ANSWER_INTENT = "inform"
# The values a form asks for.
ANSWER_TYPES = frozenset({"product", "location", "org", "quantity", "price", "phone", "supply_method"})
# The model's own entity guesses (org, unknown products) count only when it is sure of them.
MIN_MODEL_CONFIDENCE = 0.8
# Words around a bare value that do not change what it is: particles, "that one", "about", "we are".
# No verb of will (要, 买, 订, 来): 要五十斤核桃 is an order, not an answer.
_FILLERS = (
    "我们单位是", "我们是", "我是", "单位是", "单位", "我的电话是", "我电话是", "我的电话", "电话是", "电话",
    "我的手机号", "我的手机", "手机号", "手机", "号码是", "联系电话", "是", "就是", "还是", "就", "大概",
    "大约", "差不多", "左右", "那家的", "那家", "那个", "那种", "那边的", "那边", "就行", "就好", "就够了",
    "就够", "的", "吧", "嘛", "哈", "哦", "呀", "啊", "咯", "噻",
)  # fmt: skip
# A verb of will before an amount alone (要五十只, 来三百斤, 订两箱) answers "how many?": with no product
# named, it orders nothing new.
_WILL_BEFORE_AMOUNT = re.compile(r"^\s*(?:就|那就|那)?(?:要|来|订|买|给我来|给我)")
_FILLER = re.compile(
    "|".join(re.escape(w) for w in sorted(_FILLERS, key=len, reverse=True)) + r"|[\s,，。.、:：;；!！~～]"
)


@dataclass(frozen=True)
class BareAnswer:
    """The values a bare answer consists of, by type."""

    types: tuple[str, ...]


def _counts(entity: dict[str, Any]) -> bool:
    if entity.get("entity") not in ANSWER_TYPES:
        return False
    confidence = entity.get("confidence_entity")
    from_model = entity.get("extractor") == "DIETClassifier"
    return not from_model or confidence is None or float(confidence) >= MIN_MODEL_CONFIDENCE


def find_bare_answer(text: str, entities: list[dict[str, Any]]) -> BareAnswer | None:
    """The bare answer a text is, when nothing but fillers surrounds its values; else None.

    A product with a price and nothing else (红苕两块钱一斤) is a contact's price, not an answer.
    """
    values = [e for e in entities if _counts(e)]
    if not values:
        return None
    types = tuple(sorted({str(e["entity"]) for e in values}))
    if set(types) <= {"quantity", "supply_method"} and "quantity" in types:
        will = _WILL_BEFORE_AMOUNT.match(text)
        if will is not None and all(int(e["start"]) >= will.end() for e in values):
            text = " " * will.end() + text[will.end() :]
    rest = list(text)
    for entity in values:
        for index in range(int(entity["start"]), min(int(entity["end"]), len(rest))):
            rest[index] = " "
    if _FILLER.sub("", "".join(rest)):
        return None
    if types == ("price", "product"):
        return None
    return BareAnswer(types)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class BareAnswerClassifier(IntentRule):
    """Sets `inform` for a message that is nothing but values, saying so under `bare_answer` in the parse."""

    def decide(self, message: Message, predicted: str, confidence: float) -> Decision | None:
        """`inform`, with full confidence, for a message that is nothing but values."""
        bare = find_bare_answer(message.get(TEXT) or "", message.get(ENTITIES) or [])
        if bare is None:
            return None
        details = {"types": list(bare.types), "overrode": predicted}
        return Decision(ANSWER_INTENT, 1.0, BARE_ANSWER_KEY, details)
