"""Quantities, prices, phones and supply methods as people write them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fupin.parsing import (
    ParseError,
    normalize_text,
    parse_number,
    parse_phone,
    parse_price,
    parse_quantity,
    parse_supply_methods,
    split_contact,
)
from fupin.values import JIN, Price, Quantity, SupplyMethod, amount_fen, under_one_fen


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("30斤", "30", "斤"),
        ("３０斤", "30", "斤"),
        ("300公斤", "600", "斤"),
        ("1.5公斤", "3", "斤"),
        ("2吨", "4000", "斤"),
        ("两百斤", "200", "斤"),
        ("两百五十斤", "250", "斤"),
        ("壹仟伍佰斤", "1500", "斤"),
        ("一百来斤", "100", "斤"),
        ("半斤", "0.5", "斤"),
        ("两斤半", "2.5", "斤"),
        ("5箱", "5", "箱"),
        ("80只", "80", "只"),
        ("500克", "1", "斤"),
        ("三两", "0.3", "斤"),
        ("约200斤", "200", "斤"),
        ("0斤", "0", "斤"),
    ],
)
def test_quantities(text: str, value: str, unit: str) -> None:
    assert parse_quantity(text) == Quantity(Decimal(value), unit)


@pytest.mark.parametrize("text", ["", "斤", "abc", "-5斤", "很多", "30斤斤", "三块五", "1.5.2斤"])
def test_not_quantities(text: str) -> None:
    assert parse_quantity(text) is None


def test_bare_number_takes_default_unit_only_when_given() -> None:
    assert parse_quantity("300") is None
    assert parse_quantity("300", "斤") == Quantity(Decimal(300), "斤")


@pytest.mark.parametrize(
    ("text", "fen", "unit"),
    [
        ("3元/斤", 300, "斤"),
        ("¥2.8/斤", 280, "斤"),
        ("￥2.8/斤", 280, "斤"),
        ("三块五一斤", 350, "斤"),
        ("三块一斤", 300, "斤"),
        ("三块五毛钱一斤", 350, "斤"),
        ("3块钱一斤", 300, "斤"),
        ("每斤60元", 6000, "斤"),
        ("每斤3块5", 350, "斤"),
        ("4元/斤", 400, "斤"),
        ("10元/公斤", 500, "斤"),
        ("3元/公斤", 150, "斤"),
        ("120元/只", 12000, "只"),
        ("5元一个", 500, "个"),
        ("3元5角/斤", 350, "斤"),
        ("３.５元／斤", 350, "斤"),
    ],
)
def test_prices(text: str, fen: int, unit: str) -> None:
    assert parse_price(text) == Price(fen, unit)


def test_bare_price_takes_listing_unit() -> None:
    assert parse_price("3.5") is None
    assert parse_price("3.5", "斤") == Price(350, "斤")
    assert parse_price("2.8元", "只") == Price(280, "只")


@pytest.mark.parametrize("text", ["面议", "", "价格另议", "0.001元/斤", "三块五五五", "abc元/斤"])
def test_not_prices(text: str) -> None:
    assert parse_price(text, "斤") is None


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("17723635558", "17723635558"),
        ("177 2363 5558", "17723635558"),
        ("177-2363-5558", "17723635558"),
        ("+86 177 2363 5558", "17723635558"),
        ("１７７２３６３５５５８", "17723635558"),
        ("023-55123456", "02355123456"),
    ],
)
def test_phones(text: str, digits: str) -> None:
    assert parse_phone(text) == digits


@pytest.mark.parametrize("text", ["1772363555", "12345678901", "177236355589", "电话", ""])
def test_not_phones(text: str) -> None:
    assert parse_phone(text) is None


def test_contact_cell_splits_name_and_phone() -> None:
    assert split_contact("李xx 17723635558") == ("李xx", "17723635558")
    assert split_contact("张三（177-2363-5558）") == ("张三", "17723635558")
    assert split_contact("联系人：王五，023-55551234") == ("王五", "02355551234")


@pytest.mark.parametrize(("cell", "reason"), [("李xx", "缺少"), ("李四 1772363555", "格式不正确")])
def test_contact_cell_errors(cell: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        split_contact(cell)


def test_supply_methods() -> None:
    assert parse_supply_methods("送货上门、上门自提") == SupplyMethod.DELIVERY | SupplyMethod.PICKUP
    assert parse_supply_methods("电商，快递") == SupplyMethod.ECOMMERCE | SupplyMethod.DELIVERY
    with pytest.raises(ParseError, match="未知的供货方式：飞机"):
        parse_supply_methods("送货上门、飞机")
    with pytest.raises(ParseError, match="缺少供货方式"):
        parse_supply_methods(" ")


def test_numbers_and_text() -> None:
    assert parse_number("三点五") == Decimal("3.5")
    assert parse_number("一万二") == Decimal(12000)
    assert parse_number("abc") is None
    assert normalize_text("  ＡＢＣ\x00１２ ") == "ABC12"


def test_amount_in_fen_rounds_half_up_and_checks_units() -> None:
    assert amount_fen(Quantity(Decimal("30"), "斤"), Price(300, "斤")) == 9000
    assert amount_fen(Quantity(Decimal("0.5"), "斤"), Price(5, "斤")) == 3
    with pytest.raises(ValueError):
        amount_fen(Quantity(Decimal(1), "只"), Price(300, "斤"))


def test_an_amount_under_one_fen_is_told_apart_before_rounding() -> None:
    price = Price(150, JIN)  # 1.5元/斤
    assert under_one_fen(Quantity(Decimal("0.006"), JIN), price)  # 3克: 0.9 fen, which rounds up to 1
    assert amount_fen(Quantity(Decimal("0.006"), JIN), price) == 1
    assert not under_one_fen(Quantity(Decimal("0.007"), JIN), price)  # 1.05 fen
