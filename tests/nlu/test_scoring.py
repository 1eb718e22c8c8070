"""The evaluation's arithmetic: macro-F1, confusions and the negated-utterance check, without a model."""

from __future__ import annotations

from typing import Any

import pytest

from nlu.scoring import is_negated, score


def _parse(intent: str) -> dict[str, Any]:
    return {"intent": {"name": intent}, "entities": []}


def test_macro_f1_and_the_worst_confusions() -> None:
    examples: list[tuple[str, str, list[dict[str, Any]]]] = [
        ("要五十斤", "inform", []),
        ("来五十斤腊肉", "order_product", []),
        ("不想买了", "cancel", []),
    ]
    scores = score(examples, [_parse("inform"), _parse("inform"), _parse("order_product")])
    assert scores.accuracy == pytest.approx(1 / 3)
    # inform: P 1/2, R 1 → 2/3; order_product: P 0, R 0 → 0; cancel: 0.
    assert scores.macro_f1 == pytest.approx((2 / 3) / 3)
    assert scores.confusions() == [
        ("cancel", "order_product", 1, "不想买了"),
        ("order_product", "inform", 1, "来五十斤腊肉"),
    ]
    assert scores.negated == 1
    assert scores.negated_wrong == ["'不想买了' → order_product"]


def test_fallback_counts_as_out_of_scope() -> None:
    scores = score([("讲个笑话", "out_of_scope", [])], [_parse("nlu_fallback")])
    assert scores.accuracy == 1.0
    assert scores.macro_f1 == 1.0


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("我不想订了", True),
        ("莫要了", True),
        ("算了", True),
        ("有没有蜂蜜", False),
        ("在不在", False),
        ("可以不", False),
        ("给脐橙加个别名橙子", False),  # 别名 is an alias, no 别 (don't)
        ("别订了", True),
    ],
)
def test_negated_sentences(text: str, negated: bool) -> None:
    assert is_negated(text) is negated
