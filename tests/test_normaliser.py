"""The NLU normaliser: numerals, prices, phones and supply methods in sentences, with machine values."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from fupin.mentions import find_mentions
from nlu.normaliser import EntityNormaliser


def _only(text: str, entity: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.text, m.value, m.details) for m in find_mentions(text) if m.entity == entity]


@pytest.mark.parametrize(
    ("text", "span", "amount", "unit"),
    [
        ("土豆还剩两百斤", "两百斤", "200", "斤"),
        ("要两百五十斤", "两百五十斤", "250", "斤"),
        ("订贰佰斤红薯", "贰佰斤", "200", "斤"),  # financial numerals
        ("我要买30斤土豆", "30斤", "30", "斤"),
        ("订３０斤", "３０斤", "30", "斤"),
        ("一百来斤核桃", "一百来斤", "100", "斤"),
        ("100多斤", "100多斤", "100", "斤"),
        ("称半斤蜂蜜", "半斤", "0.5", "斤"),
        ("两斤半就够了", "两斤半", "2.5", "斤"),
        ("1.5公斤", "1.5公斤", "3", "斤"),
        ("要2吨红苕", "2吨", "4000", "斤"),
        ("5箱脐橙", "5箱", "5", "箱"),
        ("土鸡要五十只", "五十只", "50", "只"),
        ("三十个鸡蛋", "三十个", "30", "个"),
        ("新到300公斤柑橘", "300公斤", "600", "斤"),
        ("来二两花椒", "二两", "0.2", "斤"),
        ("1000克木耳", "1000克", "2", "斤"),
    ],
)
def test_quantity_shapes(text: str, span: str, amount: str, unit: str) -> None:
    assert _only(text, "quantity") == [(span, f"{amount}{unit}", {"amount": amount, "unit": unit})]


@pytest.mark.parametrize(
    ("text", "span", "fen", "unit"),
    [
        ("三块五一斤", "三块五一斤", 350, "斤"),
        ("3块5一斤", "3块5一斤", 350, "斤"),
        ("把脐橙的价格改成4元/斤", "4元/斤", 400, "斤"),
        ("每斤60元", "每斤60元", 6000, "斤"),
        ("每斤3块5", "每斤3块5", 350, "斤"),
        ("3.5元一斤", "3.5元一斤", 350, "斤"),
        ("价格¥2.8/斤", "¥2.8/斤", 280, "斤"),
        ("土鸡120元/只", "120元/只", 12000, "只"),
        ("鸡蛋1块5一个", "1块5一个", 150, "个"),
        ("10元/公斤", "10元/公斤", 500, "斤"),
        ("白菜八毛一斤", "八毛一斤", 80, "斤"),
        ("一斤三块五", "一斤三块五", 350, "斤"),
        ("六十块钱一斤", "六十块钱一斤", 6000, "斤"),
        ("４元／斤", "４元／斤", 400, "斤"),
    ],
)
def test_price_shapes(text: str, span: str, fen: int, unit: str) -> None:
    ((found_span, _value, details),) = _only(text, "price")
    assert found_span == span and details == {"fen": fen, "unit": unit}


@pytest.mark.parametrize(
    ("text", "span", "fen"),
    [("一共150元", "150元", 15000), ("收了1800块", "1800块", 180000), ("一千八百块", "一千八百块", 180000)],
)
def test_totals_are_prices_without_unit(text: str, span: str, fen: int) -> None:
    assert _only(text, "price") == [(span, f"{fen // 100}元", {"fen": fen, "unit": None})]


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("17723635558", "17723635558"),
        ("电话177 2363 5558", "17723635558"),
        ("177-2363-5558", "17723635558"),
        ("+86 13996123456", "13996123456"),
        ("８６１３９９６１２３４５６"[2:], "13996123456"),
        ("座机023-55123456", "02355123456"),
    ],
)
def test_phone_shapes(text: str, digits: str) -> None:
    assert [value for _span, value, _ in _only(text, "phone")] == [digits]


@pytest.mark.parametrize(
    "text",
    [
        "蜂蜜多少钱一斤",  # a question about the price, not a quantity of 一斤
        "红苕好多钱一斤嘛",
        "第二个",  # a choice, not a quantity
        "最后一个",  # the last choice
        "这个季度卖了多少",
        "一个季度完成多少",
        "电话1772363555",  # ten digits: not a phone
        "12345678901",  # no such mobile prefix
        "价格面议",
        "0斤",  # nothing to order
        "三块五五五一斤",  # garbled: no price rather than a wrong one
        "很多斤",
    ],
)
def test_bad_shapes_yield_no_value(text: str) -> None:
    assert [(m.entity, m.text) for m in find_mentions(text) if m.entity != "supply_method"] == []


def test_two_sums_never_merge_into_one_price() -> None:
    assert "3.5元" not in [m.value for m in find_mentions("3元5元")]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("送货上门", "送货上门"),
        ("我们自提", "上门自提"),
        ("网上买可以不", "电商"),
        ("发快递", "送货上门"),
        ("自己来拉", "上门自提"),
    ],
)
def test_supply_methods(text: str, label: str) -> None:
    assert [value for _s, value, _d in _only(text, "supply_method")] == [label]


@pytest.mark.parametrize(
    ("text", "span", "label"),
    [
        ("货送到单位来嘛", "送到单位来", "送货上门"),
        ("我们自己开车来拿", "我们自己开车来拿", "上门自提"),
        ("周六我们自己来拿", "我们自己来拿", "上门自提"),
        ("开车来拉就是了", "开车来拉", "上门自提"),
        ("网店下单可以不", "网店下单", "电商"),
        ("在拼多多上买", "拼多多", "电商"),
        ("寄快递到重庆", "寄快递", "送货上门"),
        ("直接送到食堂", "送到食堂", "送货上门"),
        ("麻烦送到医院食堂", "送到医院食堂", "送货上门"),
        ("能不能包邮", "包邮", "送货上门"),
        ("走物流就行", "走物流", "送货上门"),
        ("我们派车来拉", "派车来拉", "上门自提"),
        ("明天开车过来拿", "开车过来拿", "上门自提"),
        ("我们自己去拉", "我们自己去拉", "上门自提"),
        ("在线下单可以吗", "在线下单", "电商"),
        ("直播间买得到不", "直播间", "电商"),
        # A word already known keeps its span: no longer phrase is added around it.
        ("送货到学校", "送货", "送货上门"),
        ("快递过来嘛", "快递", "送货上门"),
    ],
)
def test_everyday_supply_phrasings_are_one_mention(text: str, span: str, label: str) -> None:
    # The whole phrase is one mention, so a longer way of saying it never leaves a fragment behind.
    assert [(s, value) for s, value, _d in _only(text, "supply_method")] == [(span, label)]


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("我要买30斤柑橘，快递寄过来", ["快递"]),  # one way said twice over is one mention
        ("送货上门，送到单位来", ["送货上门"]),
        ("电商渠道卖了多少", []),  # one of the plan's sales channels
        ("送货上门还是上门自提都行", ["送货上门", "上门自提"]),  # two ways are two mentions
    ],
)
def test_a_supply_method_is_mentioned_once_and_never_for_a_channel(text: str, spans: list[str]) -> None:
    assert [s for s, _v, _d in _only(text, "supply_method")] == spans


def test_a_figures_question_carries_no_supply_method() -> None:
    asking = Message({TEXT: "送货上门这块的销售额有多少", INTENT: {INTENT_NAME_KEY: "sales_summary"}})
    ordering = Message({TEXT: "30斤土豆，送货上门", INTENT: {INTENT_NAME_KEY: "order_product"}})
    EntityNormaliser().process([asking, ordering])
    assert [e["entity"] for e in asking.get(ENTITIES)] == []
    assert [e["value"] for e in ordering.get(ENTITIES) if e["entity"] == "supply_method"] == ["送货上门"]


def test_component_replaces_other_extractors_guesses_for_its_types() -> None:
    message = Message({TEXT: "新到300斤柑橘，三块五一斤"})
    message.set(
        ENTITIES,
        [
            {"entity": "quantity", "start": 2, "end": 5, "value": "300", "extractor": "DIETClassifier"},
            {"entity": "product", "start": 6, "end": 8, "value": "柑橘", "extractor": "DIETClassifier"},
        ],
    )
    EntityNormaliser().process([message])
    entities = {(e["entity"], e["value"], e["extractor"]) for e in message.get(ENTITIES)}
    assert entities == {
        ("quantity", "300斤", "EntityNormaliser"),
        ("price", "3.5元/斤", "EntityNormaliser"),
        ("product", "柑橘", "DIETClassifier"),
    }
    price = next(e for e in message.get(ENTITIES) if e["entity"] == "price")
    assert price["additional_info"] == {"fen": 350, "unit": "斤"}
    assert (price["start"], price["end"]) == (9, 14)


def test_organisation_fragments_are_joined_and_keep_the_county_prefix() -> None:
    from nlu.normaliser import repair_orgs

    text = "我们云阳县第三中学食堂要订800斤白菜"
    split = [
        {"entity": "org", "start": 2, "end": 4, "value": "云阳"},
        {"entity": "org", "start": 4, "end": 11, "value": "县第三中学食堂"},
    ]
    assert [(e["start"], e["value"]) for e in repair_orgs(text, split)] == [(2, "云阳县第三中学食堂")]
    short = [{"entity": "org", "start": 4, "end": 7, "value": "中医院"}]
    assert [e["value"] for e in repair_orgs("麻烦帮县中医院下单", short)] == ["县中医院"]


def test_organisation_pieces_across_a_short_gap_are_one_unit() -> None:
    from nlu.normaliser import repair_orgs

    pieces = [
        {"entity": "org", "start": 0, "end": 1, "value": "县"},
        {"entity": "org", "start": 4, "end": 6, "value": "食堂"},
    ]
    assert [e["value"] for e in repair_orgs("县财政局食堂", pieces)] == ["县财政局食堂"]
    two = [
        {"entity": "org", "start": 2, "end": 5, "value": "县教委"},
        {"entity": "org", "start": 6, "end": 10, "value": "县中医院"},
    ]
    assert [e["value"] for e in repair_orgs("卖给县教委和县中医院", two)] == ["县教委", "县中医院"]
    assert repair_orgs("县", [{"entity": "org", "start": 0, "end": 1, "value": "县"}]) == []


def test_a_guess_of_nothing_but_spaces_or_marks_is_dropped() -> None:
    from nlu.normaliser import _names_something

    assert not _names_something(" ") and not _names_something('="" ') and not _names_something(None)
    assert _names_something("土豆") and _names_something("30")
