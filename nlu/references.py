"""ReferenceGuard: a message naming a complaint (TS…) is about that complaint; one naming an order (XF…) with
a word of its status ("订单XF…发货了") manages it, and one saying what went wrong with it ("XF…少了3斤",
"XF…的蜂蜜还是有问题") is a complaint.

The model reads these by the few words around a number it has seen in training, and a number it has not seen
leaves it unsure (fallback) or on the order's status (manage_order). The number and the complaint's words are
rules, so this component decides by them, after the extractors and before the negation guard and the fallback.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import (
    ENTITIES,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from fupin.complaints.wording import category_in
from fupin.mentions import TRACKING_PATTERNS, fold_width
from fupin.orders.ratings import stars_in
from nlu.overrides import Decision, IntentRule

logger = logging.getLogger(__name__)

REFERENCE_KEY = "reference"
COMPLAIN = "complain"
MANAGE_COMPLAINT = "manage_complaint"
MANAGE_ORDER = "manage_order"
# The number decides: the fallback must not take a message the rule is sure of.
RULE_CONFIDENCE = 0.95
# What a contact says of an order's status ("拒绝XF…，货不够了" is no complaint about short goods).
_ORDER_STATUS_WORDS = re.compile(r"拒|取消|撤销|确认|接单|付款|付钱|收款|送达|已送|发货|寄出|快递|邮政|单号|运单")
# A question about an order (its status is what is asked for).
_QUESTION = re.compile(r"吗|么|什么时候|啥时候|几时|多久|没有?发|还没|没有?$|查|进度|状态|[?？]")
# Intents a status message about a named order may have been mistaken for (check_orders only when it is no
# question: "订单XF…发货了" says, "XF…发货没" asks).
_STATUS_OVERRIDABLE = frozenset(
    {"manage_order", "inform", "report_sale", "update_stock", "out_of_scope", "thank", "check_orders"}
)
# Intents an order number keeps (取消订单XF… cancels it, stars rate it); with what went wrong, any other was a
# mistaken complaint: the model is unsure of numbers it has not seen, and a retrained one may put it anywhere.
# (complain itself is certified: the model often sees it right but unsure.)
_KEPT = frozenset({"rate_order", "cancel", "deny"})


# A message that is only a parcel's tracking number (the answer to 请发邮政单号, "顺丰 SF…", "单号是…").
# Spaces are removed first, so no two optional runs of spaces can backtrack against each other.
_BARE_TRACKING = re.compile(
    r"(?:(?:邮政|快递|邮件|运单)?单号(?:是|为)?[:：]?)?(?:顺丰|中通|韵达|圆通|申通|京东|极兔|百世|德邦|邮政)?"
    r"(?:" + "|".join(TRACKING_PATTERNS) + r")"
)
# Longer than any tracking number with its words: not a bare one (and never scanned).
_BARE_TRACKING_MAX = 40


def referenced_intent(text: str, entities: list[dict[str, Any]], predicted: str) -> str | None:
    """The intent a message's complaint or order number makes it, None when the model's stands."""
    if text.startswith("/"):
        return None  # a button's payload says its intent itself
    compact = "".join(fold_width(text).split())
    if len(compact) <= _BARE_TRACKING_MAX and _BARE_TRACKING.fullmatch(compact):
        # Nothing but a tracking number: the carrier's number of the order being shipped (the model, unsure
        # of a number it has not seen, reads a bare 13-digit one as anything).
        return MANAGE_ORDER
    kinds = {str(e.get("entity")) for e in entities}
    if "complaint_no" in kinds:
        return MANAGE_COMPLAINT
    if "order_no" not in kinds or predicted in _KEPT:
        return None
    folded = fold_width(text)
    if stars_in(folded) is not None:
        return None
    if _ORDER_STATUS_WORDS.search(folded):
        # "订单XF…发货了", "XF…已发邮政 …": a contact moving the order along, however unsure the model is;
        # never a buyer's question about it ("XF…怎么还没发货？" asks for the status).
        if predicted in _STATUS_OVERRIDABLE and not _QUESTION.search(folded):
            return MANAGE_ORDER
        return None
    return COMPLAIN if category_in(folded) is not None else None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class ReferenceGuard(IntentRule):
    """Re-ranks a message about a named complaint or a named order's problem, saying why under `reference`."""

    def decide(self, message: Message, predicted: str, confidence: float) -> Decision | None:
        """manage_complaint, manage_order or complain when the numbers say so (confidence raised: certain)."""
        chosen = referenced_intent(message.get(TEXT) or "", message.get(ENTITIES) or [], predicted)
        if chosen is None:
            return None
        details = {"overrode": predicted, "intent": chosen}
        return Decision(chosen, max(confidence, RULE_CONFIDENCE), REFERENCE_KEY, details)
