"""NegationGuard: a negated will to buy ("我不想订了", "这个单我不要了") is never an order or a yes."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from fupin.mentions import fold_width
from fupin.parsing import SUPPLY_METHOD_WORDS
from nlu.overrides import Decision, IntentRule

logger = logging.getLogger(__name__)

# The key under which the parse data says why the intent was changed.
NEGATION_KEY = "negation"

# 不/莫/别/甭/不再 + (想/要/用/打算/准备…) + a verb of ordering, closed by a final particle (了/啦/咯…):
# 不想订了, 不买了, 莫要了, 别下单了, 不想买蜂蜜了. Without the particle "不要洋芋" may still be a correction.
_NEGATED_WILL = re.compile(
    r"(?<!要)(?:不再|不|莫|别|甭|没得?必要)(?:想|要|用|打算|准备|需要|得)?(?:再)?"
    r"(?:买|订|定|要|下单|下了|采购|购买|预订|拿|找|搞|弄)"
    # Not across 多/少/太: "不要那么多了" changes the amount.
    r"[^，,。.!！?？;；多少太]{0,8}?(?:了|啦|咯|喽|嘞|哒)"
)
# A whole clause of giving up: 算了, 算了吧, 不弄了.
_GIVING_UP = re.compile(r"^(?:那就)?算(?:了|咯|啦)(?:吧|嘛)?$")
# Words after the negation that still want something ("不要洋芋了，换成红薯", "…，五十斤就够", "…，自提")
# make it a correction, not a cancellation.
_LATER_WILL = re.compile(
    r"换|改|要|买|订|给我|\d|[一二两三四五六七八九十百千]+[斤只箱个包瓶袋件桶盒]|"
    + "|".join(sorted((re.escape(w) for w in SUPPLY_METHOD_WORDS), key=len, reverse=True))
)
_CLAUSES = re.compile(r"[，,。.!！?？;；~～\s]+")

# Intents that a negated will to buy may have been mistaken for; the others (stock, sales, order
# status, reports) have negations of their own ("腊肉不卖了" is a stock change) and are left alone.
OVERRIDABLE = frozenset(
    {
        "order_product",
        "affirm",
        "search_product",
        "search_more",
        "inform",
        "choose_listing",
        "thank",
        "greet",
        "goodbye",
        "help",
        "out_of_scope",
    }
)


@dataclass(frozen=True)
class Negation:
    """A negated will to buy found in a message: the words and the intent it stands for."""

    words: str
    intent: str


def find_negation(text: str, predicted: str) -> Negation | None:
    """The negated will to buy in a text whose intent was predicted as `predicted`; None if there is none."""
    if predicted not in OVERRIDABLE:
        return None
    clauses = [c for c in _CLAUSES.split(fold_width(text)) if c]
    for index, clause in enumerate(clauses):
        match = _NEGATED_WILL.search(clause)
        words = match.group() if match else (clause if _GIVING_UP.match(clause) else None)
        if words is None:
            continue
        rest = [clause[match.end() :]] if match else []
        if any(_LATER_WILL.search(later) and not _NEGATED_WILL.search(later) for later in rest + clauses[index + 1 :]):
            return None
        # "不要了" said to a yes/no question is a no; anywhere else it ends the order or search.
        return Negation(words, "deny" if predicted == "affirm" else "cancel")
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class NegationGuard(IntentRule):
    """Re-ranks a negated order, search or yes to cancel/deny, saying why under `negation` in the parse."""

    def decide(self, message: Message, predicted: str, confidence: float) -> Decision | None:
        """Cancel/deny when the message takes a will to buy back."""
        negation = find_negation(message.get(TEXT) or "", predicted)
        if negation is None:
            return None
        # The rule is certain of the kind but not of the model's doubt: the top confidence is kept, so a
        # message the model hardly understood still falls back.
        details = {"words": negation.words, "overrode": predicted, "intent": negation.intent}
        return Decision(negation.intent, confidence, NEGATION_KEY, details, certain=False)
