"""The negation guard: a negated will to buy is cancel (or deny to a yes/no question), never an order."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu.negation import NEGATION_KEY, NegationGuard, find_negation
from nlu.overrides import promote


@pytest.mark.parametrize(
    ("text", "predicted", "intent"),
    [
        ("我不想订了", "order_product", "cancel"),
        ("不想买了", "order_product", "cancel"),
        ("这单我不要了", "inform", "cancel"),
        ("不买了，谢了哈", "thank", "cancel"),
        ("莫要了莫要了", "order_product", "cancel"),
        ("别下单了", "order_product", "cancel"),
        ("不想买核桃了", "order_product", "cancel"),
        ("算了吧", "affirm", "deny"),
        ("不要了", "affirm", "deny"),
        ("算了，不找了", "search_product", "cancel"),
        ("不订了！", "order_product", "cancel"),
    ],
)
def test_negated_will_is_found(text: str, predicted: str, intent: str) -> None:
    negation = find_negation(text, predicted)
    assert negation is not None
    assert negation.intent == intent


@pytest.mark.parametrize(
    ("text", "predicted"),
    [
        ("我要订五十斤腊肉", "order_product"),  # no negation at all
        ("不要洋芋了，换成红薯", "inform"),  # a correction
        ("不要送货了，自提", "inform"),  # a correction of the supply method
        ("不要那么多了", "inform"),  # a smaller amount
        ("要不要买了再说", "order_product"),  # 要不要 asks
        ("腊肉不卖了", "update_stock"),  # a stock change has negations of its own
        ("不想订了", "cancel"),  # already right
        ("哪里有蜂蜜卖", "search_product"),
    ],
)
def test_other_messages_are_left_alone(text: str, predicted: str) -> None:
    assert find_negation(text, predicted) is None


def _message(text: str, ranking: list[tuple[str, float]]) -> Message:
    entries: list[dict[str, Any]] = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    return Message(data={TEXT: text, INTENT: dict(entries[0]), INTENT_RANKING_KEY: entries})


def test_the_component_swaps_the_ranking_and_says_why() -> None:
    guard = NegationGuard()
    [message] = guard.process(
        [_message("我不想买了", [("order_product", 0.8), ("search_product", 0.15), ("cancel", 0.05)])]
    )
    assert message.get(INTENT) == {"name": "cancel", "confidence": 0.8}
    assert [(e["name"], e["confidence"]) for e in message.get(INTENT_RANKING_KEY)] == [
        ("cancel", 0.8),
        ("search_product", 0.15),
        ("order_product", 0.05),
    ]
    assert message.get(NEGATION_KEY) == {"words": "不想买了", "overrode": "order_product", "intent": "cancel"}


def test_the_component_leaves_plain_messages_untouched() -> None:
    [message] = NegationGuard().process([_message("要五十斤", [("inform", 0.9), ("order_product", 0.1)])])
    assert message.get(INTENT) == {"name": "inform", "confidence": 0.9}
    assert message.get(NEGATION_KEY) is None


def test_promote_adds_a_missing_intent() -> None:
    ranked = promote([{"name": "affirm", "confidence": 0.7}], "deny")
    assert ranked == [{"name": "deny", "confidence": 0.7}, {"name": "affirm", "confidence": 0.0}]
