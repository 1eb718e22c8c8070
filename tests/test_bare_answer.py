"""The bare-answer rule: a message that is nothing but values is inform, whatever the model made of it."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu.bare_answer import BARE_ANSWER_KEY, BareAnswerClassifier, find_bare_answer


def _entity(text: str, value: str, kind: str, **extra: Any) -> dict[str, Any]:
    start = text.index(value)
    return {"entity": kind, "start": start, "end": start + len(value), "value": value, **extra}


@pytest.mark.parametrize(
    ("text", "values", "types"),
    [
        ("土豆", [("土豆", "product")], ("product",)),
        ("核桃嘛", [("核桃", "product")], ("product",)),
        ("龙角镇的", [("龙角镇", "location")], ("location",)),
        ("三块五一斤", [("三块五一斤", "price")], ("price",)),
        ("我们是县税务局", [("县税务局", "org")], ("org",)),
        ("电话：13912345678", [("13912345678", "phone")], ("phone",)),
        ("五十斤左右吧", [("五十斤", "quantity")], ("quantity",)),
        ("五十斤，送货上门", [("五十斤", "quantity"), ("送货上门", "supply_method")], ("quantity", "supply_method")),
        ("要五十只", [("五十只", "quantity")], ("quantity",)),  # an amount alone answers "how many?"
        ("那就来三百斤吧", [("三百斤", "quantity")], ("quantity",)),
    ],
)
def test_a_message_of_values_and_fillers_is_a_bare_answer(
    text: str, values: list[tuple[str, str]], types: tuple[str, ...]
) -> None:
    bare = find_bare_answer(text, [_entity(text, value, kind) for value, kind in values])
    assert bare is not None and bare.types == types


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("哪里有土豆", [("土豆", "product")]),  # a search
        ("要五十斤核桃", [("五十斤", "quantity"), ("核桃", "product")]),  # a will to order
        ("我要买30斤", [("30斤", "quantity")]),  # ordering from what a search found
        ("红苕两块钱一斤", [("红苕", "product"), ("两块钱一斤", "price")]),  # a contact's price
        ("腊肉没得了", [("腊肉", "product")]),  # a stock change
        ("第二个", []),  # a pick, no value
        ("是的", []),
    ],
)
def test_anything_more_than_values_is_left_to_the_model(text: str, values: list[tuple[str, str]]) -> None:
    assert find_bare_answer(text, [_entity(text, value, kind) for value, kind in values]) is None


def test_an_unsure_model_guess_is_no_value() -> None:
    text = "县交通局食堂"
    unsure = _entity(text, text, "org", extractor="DIETClassifier", confidence_entity=0.4)
    sure = _entity(text, text, "org", extractor="DIETClassifier", confidence_entity=0.97)
    assert find_bare_answer(text, [unsure]) is None
    assert find_bare_answer(text, [sure]) is not None


def test_the_component_makes_a_bare_answer_inform_and_says_why() -> None:
    text = "核桃嘛"
    message = Message({TEXT: text})
    message.set(ENTITIES, [_entity(text, "核桃", "product", extractor="CatalogMatcher")])
    message.set(INTENT, {"name": "search_product", "confidence": 0.41})
    message.set(
        INTENT_RANKING_KEY, [{"name": "search_product", "confidence": 0.41}, {"name": "inform", "confidence": 0.3}]
    )
    other = Message({TEXT: "哪里有核桃"})
    other.set(ENTITIES, [_entity("哪里有核桃", "核桃", "product")])
    other.set(INTENT, {"name": "search_product", "confidence": 0.99})
    BareAnswerClassifier().process([message, other])
    assert message.get(INTENT) == {"name": "inform", "confidence": 1.0}
    assert message.get(INTENT_RANKING_KEY)[0] == {"name": "inform", "confidence": 1.0}
    assert message.get(BARE_ANSWER_KEY) == {"types": ["product"], "overrode": "search_product"}
    assert other.get(INTENT)["name"] == "search_product" and other.get(BARE_ANSWER_KEY) is None
