"""Bad input: parsers, the dialogue, Telegram and the importer fed nonsense by property-based tests.

Empty, very long (10,000 characters), emoji, control characters, mixed scripts, SQL- and HTML-like text,
absurd numbers (0, negative, 10^12, NaN-like words): never an unhandled exception, never a wrong record,
always a reply. The dialogue runs on the trained model with the real action server (the session's `bot`);
Telegram through the real Application against the fake Bot API; the importer on real files.
"""

from __future__ import annotations

import csv
import itertools
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from rasa.shared.nlu.training_data.message import Message
from sqlalchemy import func, select, update

from bot.telegram.render import MESSAGE_LIMIT, split_text, utf16_length
from fupin.catalog.files import export_catalog, import_catalog_files
from fupin.mentions import find_mentions
from fupin.models import Buyer, CatalogImport, Listing, Notification, Order, Product, SaleRecord, Township, User
from fupin.outreach.users import bind_user
from fupin.parsing import (
    ParseError,
    normalize_text,
    parse_amount,
    parse_number,
    parse_phone,
    parse_price,
    parse_quantity,
    parse_supply_method,
    parse_supply_methods,
    split_contact,
)
from fupin.periods import YEARS, Period, parse_period
from fupin.spreadsheets import grid
from fupin.values import (
    COUNT_UNITS,
    JIN,
    MAX_PRICE_FEN,
    SUPPLY_METHOD_LABELS,
    WEIGHT_UNITS,
    Role,
    SupplyMethod,
    format_yuan,
    quantity_problem,
)
from harness.fake_telegram import FakeTelegram
from harness.telegram_app import RunningBot
from nlu.normaliser import OWNED, EntityNormaliser, repair_orgs
from tests.conftest import Database
from tests.e2e import Bot
from tests.helpers import GOOD_ROW, HEADERS, row, write_csv, write_xlsx
from tests.telegram_chat import with_bot

LONG = 10_000

# --- what bad input is made of -------------------------------------------------------------------------

EMOJI = st.sampled_from(["🥔", "🍯", "🐔", "🌶️", "😀", "👍🏽", "🇨🇳", "👨‍👩‍👧", "❤️", "\U0001f9c4"])
CONTROL = st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp"]), min_size=1, max_size=5)
SCRIPTS = st.sampled_from(
    [
        "土豆",
        "洋芋",
        "龙角镇",
        "斤",
        "元",
        "Привет",
        "مرحبا",
        "שלום",
        "ㄅㄆㄇ",
        "ｶﾀｶﾅ",
        "３０斤",
        "한국어",
        "ℌ",
        "①②",
        "𠀀",
    ]
)
SQL = st.sampled_from(
    ["'; DROP TABLE orders;--", "1 OR 1=1", '" OR ""="', "UNION SELECT * FROM users", "%'; --", "\\x00", "Robert'); --"]
)
HTML = st.sampled_from(
    ["<b>土豆</b>", "<script>alert(1)</script>", "&amp;", "&", "<", "</b>", "<a href='x'>", "&#0;", "<tg-spoiler>"]
)
NUMBERS = st.sampled_from(
    [
        "0",
        "-5",
        "−5",
        "负五",
        "10^12",
        "1000000000000",
        "1e12",
        "NaN",
        "nan",
        "inf",
        "Infinity",
        "-0",
        "0.0001",
        "0.0000001",
        "一万亿",
        "零",
        "9" * 40,
        "1,000",
        "３０",
        "1/0",
        "2-5",
        "½",
        "٣",
        "两百五十",
        "3.5",
    ]
)
UNITS = st.sampled_from(
    ["", "斤", "公斤", "克", "两", "吨", "只", "元", "元/斤", "块", "毛", "元一斤", "每斤", "kg", "%"]
)
PAYLOADS = st.sampled_from(
    [
        "/",
        "/{",
        "/affirm",
        "/deny",
        "/inform{",
        '/inform{"quantity": "-5斤"}',
        '/inform{"phone": "<b>"}',
        '/order_product{"listing_id": "abc"}',
        '/order_product{"listing_id": "-1"}',
        '/manage_order{"order_no": "XF000000AAAAAA", "op": "confirm"}',
        '/choose_listing{"listing_id": "1"}',
        "/nonexistent",
    ]
)
ABSURD_NUMBER = st.builds(lambda number, unit: number + unit, NUMBERS, UNITS)
FRAGMENT = st.one_of(st.text(max_size=20), EMOJI, CONTROL, SCRIPTS, SQL, HTML, ABSURD_NUMBER)
BAD_TEXT = st.one_of(
    st.lists(FRAGMENT, max_size=6).map("".join),
    st.builds(lambda piece, times: (piece * times)[:LONG], FRAGMENT.filter(bool), st.integers(1, LONG)),
    st.builds(lambda payload, tail: payload + tail, PAYLOADS, st.lists(FRAGMENT, max_size=2).map("".join)),
)
FAST = settings(max_examples=300, deadline=None)

# The brief's examples, for every front door.
TARGETED = [
    "",
    " ",
    "a" * LONG,
    "🥔" * 3000,
    "\x00\x07",
    "'; DROP TABLE orders;--",
    "<b>土豆</b>",
    "买-5斤土豆",
    "买0斤土豆",
    "买1000000000000斤土豆",
    "土豆还剩NaN斤",
    "inf元一斤",
]


def targeted(name: str, **others: Any) -> Any:
    """@example for each targeted text, as keyword `name` (other arguments as given)."""

    def decorate(test: Any) -> Any:
        for text in reversed(TARGETED):
            test = example(**{name: text}, **others)(test)
        return test

    return decorate


# --- parsers ---------------------------------------------------------------------------------------------

MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{9,11}")
UNITS_KEPT = {JIN, *COUNT_UNITS}


@FAST
@given(text=BAD_TEXT, unit=st.sampled_from([None, "斤", "只", "两"]))
@targeted("text", unit="斤")
@example(text="两百五十斤", unit=None)
@example(text="0.0001克", unit=None)
def test_quantities_are_none_or_sane_and_round_trip(text: str, unit: str | None) -> None:
    quantity = parse_quantity(text, unit)
    if quantity is None:
        return
    assert isinstance(quantity.value, Decimal) and quantity.value.is_finite() and quantity.value >= 0
    assert quantity.unit in UNITS_KEPT  # weights always in 斤
    assert parse_quantity(str(quantity)) == quantity


@FAST
@given(text=BAD_TEXT, unit=st.sampled_from([None, "斤", "只"]))
@targeted("text", unit="斤")
@example(text="三块五一斤", unit=None)
@example(text="0.001元/斤", unit=None)
def test_prices_and_amounts_are_none_or_whole_fen_and_round_trip(text: str, unit: str | None) -> None:
    price = parse_price(text, unit)
    if price is not None:
        assert isinstance(price.fen, int) and price.fen >= 0 and price.unit in UNITS_KEPT
        assert parse_price(str(price)) == price
    amount = parse_amount(text)
    if amount is not None:
        assert isinstance(amount, int) and amount >= 0
        assert parse_amount(f"{format_yuan(amount)}元") == amount
    number = parse_number(text)
    if number is not None:
        assert number.is_finite() and number >= 0


@FAST
@given(number=st.integers(0, 10**40), unit=st.sampled_from(["斤", "公斤", "吨", "两", "只"]))
@example(number=10**30 + 1, unit="公斤")
def test_long_numerals_are_read_exactly_or_not_at_all(number: int, unit: str) -> None:
    # Decimal arithmetic keeps 28 digits: a longer numeral must not come back rounded.
    quantity = parse_quantity(f"{number}{unit}")
    assert quantity is None or quantity.value == number * WEIGHT_UNITS.get(unit, 1)
    amount = parse_amount(f"{number}元")
    assert amount is None or amount == number * 100
    price = parse_price(f"{number}元/{unit}")
    fen_per = {"斤": 100, "公斤": 50, "两": 1000, "只": 100}  # a price per 吨 is rounded to the fen per 斤
    if unit in fen_per:
        assert price is None or price.fen == number * fen_per[unit]


@FAST
@given(text=st.one_of(BAD_TEXT, st.from_regex(r"\+?(86)?[ -]?1[3-9]\d[ -]?\d{4}[ -]?\d{4}", fullmatch=True)))
@targeted("text")
def test_phones_are_none_or_plausible_digits(text: str) -> None:
    phone = parse_phone(text)
    if phone is None:
        return
    assert MOBILE.fullmatch(phone) or LANDLINE.fullmatch(phone), phone
    assert parse_phone(phone) == phone


@FAST
@given(text=BAD_TEXT)
@targeted("text")
def test_supply_methods_and_contacts_raise_only_parse_errors(text: str) -> None:
    method = parse_supply_method(text)
    assert method is None or method in SUPPLY_METHOD_LABELS
    try:
        methods = parse_supply_methods(text)
    except ParseError:
        pass
    else:
        assert methods and SupplyMethod(methods) == methods
    try:
        name, phone = split_contact(text)
    except ParseError:
        pass
    else:
        assert parse_phone(phone) == phone and not re.search(r"\d{5,}", name)


@FAST
@given(text=BAD_TEXT)
@targeted("text")
def test_normalised_text_has_no_control_characters_and_is_stable(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert once == once.strip() and not any(unicodedata.category(ch)[0] == "C" for ch in once)


NOT_BEFORE_A_NUMBER = r"(?:[-−~～负]|[0-9.][eE^*×xX/])$"


@FAST
@given(text=BAD_TEXT)
@targeted("text")
@example(text="土豆还剩-200斤，2-5斤，三块五一斤，177 2363 5558，送货上门")
@example(text="10^12斤，1e12元/斤，1/2斤，2×5斤")
@example(text=("两零" * 2152)[:LONG])  # a 10,000-character numeral: once an integer too long to print
def test_mentions_are_exact_spans_with_sane_values(text: str) -> None:
    mentions = find_mentions(text)
    assert [m.start for m in mentions] == sorted(m.start for m in mentions)
    for previous, mention in itertools.pairwise(mentions):
        assert previous.end <= mention.start
    for mention in mentions:
        assert 0 <= mention.start < mention.end <= len(text) and text[mention.start : mention.end] == mention.text
        if mention.entity == "quantity":
            quantity = parse_quantity(mention.value)
            assert quantity is not None and quantity.value > 0
            # A minus sign, a range or an exponent before the number is never read away (-5斤, 10^12斤).
            assert not re.search(NOT_BEFORE_A_NUMBER, text[: mention.start])
        elif mention.entity == "price":
            assert isinstance(mention.details["fen"], int) and mention.details["fen"] >= 0
            assert not re.search(NOT_BEFORE_A_NUMBER, text[: mention.start])
        elif mention.entity == "phone":
            assert parse_phone(mention.value) == mention.value
        elif mention.entity == "supply_method":
            assert mention.value in SUPPLY_METHOD_LABELS.values()
        else:
            assert mention.entity == "order_no" and re.fullmatch(r"XF\d{6}[0-9A-F]{6}", mention.value)


@FAST
@given(text=st.one_of(BAD_TEXT, st.from_regex(r"\d{1,5}\s*[Qq年]\s*第?[0-9一二三四五]?季?度?", fullmatch=True)))
@targeted("text")
@example(text="0000年第一季度")
@example(text="9999Q4")
def test_periods_are_none_or_real_quarters_and_years(text: str) -> None:
    period = parse_period(text)
    if period is None:
        return
    assert period.year in YEARS and period.quarter in (None, 1, 2, 3, 4)
    assert period.start < period.end and period.label
    assert parse_period(period.code) == period
    if period.quarter:
        assert period.start <= period.deadline < period.end


@settings(max_examples=150, deadline=None)
@given(text=BAD_TEXT, spans=st.lists(st.tuples(st.integers(0, 60), st.integers(1, 12)), max_size=4))
@targeted("text", spans=[(0, 3)])
def test_the_entity_normaliser_runs_without_a_model(text: str, spans: list[tuple[int, int]]) -> None:
    orgs = [
        {"entity": "org", "start": start, "end": min(start + size, len(text)), "value": ""}
        for start, size in spans
        if start < len(text)
    ]
    message = Message(data={"text": text, "entities": [*orgs, {"entity": "quantity", "start": 0, "end": 1}]})
    (out,) = EntityNormaliser().process([message])
    entities = out.get("entities")
    owned = [(e["entity"], e["start"], e["end"], e["value"]) for e in entities if e["entity"] in OWNED]
    assert owned == [(m.entity, m.start, m.end, m.value) for m in find_mentions(text)]  # DIET's guess replaced
    for entity in entities:
        assert 0 <= entity["start"] < entity["end"] <= len(text)
    for org in repair_orgs(text, orgs):
        assert org["end"] - org["start"] >= 2 and org["value"] == text[org["start"] : org["end"]]


@FAST
@given(text=BAD_TEXT)
@targeted("text")
@example(text="好" * 3999 + "😀" * 3)
@example(text=("一行\n" * 3000))
def test_long_replies_split_under_telegrams_limit_without_losing_text(text: str) -> None:
    chunks = split_text(text)
    if text.strip():
        assert chunks and all(chunk.strip() for chunk in chunks)
    assert all(utf16_length(chunk) <= MESSAGE_LIMIT for chunk in chunks)
    assert re.sub(r"\s", "", "".join(chunks)) == re.sub(r"\s", "", text)


# --- the dialogue ---------------------------------------------------------------------------------------

DIALOGUE = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
_senders = itertools.count(1)


def _fresh(kind: str) -> str:
    return f"console:prop-{kind}-{next(_senders)}"


def _records(bot: Bot) -> tuple[Any, ...]:
    """Everything a message could wrongly write: orders, sales, listings, buyers, users, pushes."""
    with bot.sessions() as session:
        return (
            sorted(session.execute(select(Order.id, Order.status, Order.quantity, Order.amount_fen)).all()),
            session.scalar(select(func.count()).select_from(SaleRecord)),
            sorted(
                session.execute(
                    select(
                        Listing.id,
                        Listing.remaining_quantity,
                        Listing.planned_quantity,
                        Listing.price_fen,
                        Listing.active,
                    )
                ).all()
            ),
            session.scalar(select(func.count()).select_from(Buyer)),
            session.scalar(select(func.count()).select_from(User)),
            session.scalar(select(func.count()).select_from(Notification)),
        )


@contextmanager
def listings_restored(bot: Bot) -> Iterator[None]:
    """Put every listing's stock and price back afterwards: the assistant's database is the session's."""
    with bot.sessions() as session:
        saved = session.execute(
            select(Listing.id, Listing.remaining_quantity, Listing.planned_quantity, Listing.price_fen)
        ).all()
    try:
        yield
    finally:
        with bot.sessions() as session, session.begin():
            for listing_id, remaining, planned, price in saved:
                session.execute(
                    update(Listing)
                    .where(Listing.id == listing_id)
                    .values(remaining_quantity=remaining, planned_quantity=planned, price_fen=price)
                )


def _has_text(replies: list[Any]) -> bool:
    return any(reply.text.strip() for reply in replies)


@DIALOGUE
@given(texts=st.lists(BAD_TEXT, min_size=1, max_size=2))
@targeted("texts")
@example(texts="买" + "九" * 5000 + "斤土豆")
def test_a_strangers_nonsense_is_always_answered_and_writes_nothing(bot: Bot, texts: list[str] | str) -> None:
    texts = [texts] if isinstance(texts, str) else texts
    sender = _fresh("stranger")
    before = _records(bot)
    for text in texts:
        said = bot.say(sender, text)
        assert _has_text(said.replies), f"no reply to {text[:80]!r}"
    assert _records(bot) == before


def _potato_a(bot: Bot) -> Listing:
    with bot.sessions() as session:
        return session.scalars(
            select(Listing)
            .join(Product)
            .join(Township)
            .where(Product.name == "土豆", Township.name == "龙角镇")
            .order_by(Listing.id)
        ).first()


def _orderable(listing: Listing, text: str) -> bool:
    number = parse_quantity(text, listing.unit)
    return (
        number is not None
        and number.unit == listing.unit
        and quantity_problem(number.value) is None
        and number.value <= listing.remaining_quantity
        and number.value * listing.price_fen >= 1
    )


ABSURD_QUANTITIES = [
    "0斤",
    "-5斤",
    "负五斤",
    "1000000000000斤",
    "一万亿斤",
    "NaN斤",
    "inf斤",
    "0.0001斤",
    "0.001斤",  # 1.5 fen a 斤: less than a fen in all
    "0.1克",
    "2-5斤",
    "3只",  # potatoes are sold by the 斤
    "99999999999999999999斤",
]


@DIALOGUE
@given(quantity=st.one_of(st.sampled_from(ABSURD_QUANTITIES), st.builds(lambda n, u: n + u, NUMBERS, UNITS)))
@example(quantity="0斤")
@example(quantity="-5斤")
@example(quantity="1000000000000斤")
@example(quantity="0.0001斤")
@example(quantity="0.001斤")
def test_absurd_quantities_in_the_order_form_are_refused_and_never_recorded(bot: Bot, quantity: str) -> None:
    potato = _potato_a(bot)
    if _orderable(potato, quantity):
        return  # a sane quantity (两百五十斤, 3.5): not what this test is about
    buyer = _fresh("order")
    orders_before = _records(bot)[0]
    asked = bot.say(buyer, f'/order_product{{"listing_id": "{potato.id}"}}')
    assert "要订多少" in asked.text
    said = bot.say(buyer, quantity)
    assert _has_text(said.replies)
    assert "采购单位" not in said.text, f"{quantity!r} was accepted: {said.text}"
    # Whatever the bot understood, finishing the form never records the absurd quantity.
    for answer in ("县人民医院食堂", "17723635558", "送货上门", "/affirm"):
        assert _has_text(bot.say(buyer, answer).replies)
    assert _records(bot)[0] == orders_before
    bot.say(buyer, "/cancel")


@pytest.mark.parametrize(
    ("forged", "refusal"),
    [
        ('/inform{"phone": "abc"}', "电话号码不对"),
        ('/inform{"phone": "<b>1</b>"}', "电话号码不对"),
        ('/inform{"org": "' + "x" * 300 + '"}', "采购单位的全称"),
        ('/inform{"quantity": "0.0001斤"}', "精确到0.001"),
        ('/inform{"quantity": "-5斤"}', "还没有说数量"),
    ],
)
def test_a_forged_payload_cannot_smuggle_an_unchecked_value_into_an_order(bot: Bot, forged: str, refusal: str) -> None:
    # Buttons carry "/inform{…}" payloads and a client can send any; the form checks what it asks,
    # so what arrives after the read-back is checked again before anything is recorded.
    potato, buyer = _potato_a(bot), _fresh("forged")
    before = _records(bot)[0]
    for answer in (f'/order_product{{"listing_id": "{potato.id}"}}', "30斤", "县人民医院食堂", "17723635558"):
        bot.say(buyer, answer)
    assert "请核对订单" in bot.say(buyer, "送货上门").text
    said = bot.say(buyer, forged)
    confirmed = bot.say(buyer, "/affirm")
    assert refusal in said.text + confirmed.text, (said.text, confirmed.text)
    assert "下单成功" not in confirmed.text
    assert _records(bot)[0] == before
    bot.say(buyer, "/cancel")


STOCK_TEXTS = st.builds(
    lambda product, verb, number: f"{product}{verb}{number}",
    st.sampled_from(["土豆", "蜂蜜", "红薯", "🥔", ""]),
    st.sampled_from(["还剩", "新到", "的价格改成", "卖完了", "又到了", ""]),
    ABSURD_NUMBER,
)


@settings(DIALOGUE, max_examples=12)
@given(text=st.one_of(STOCK_TEXTS, BAD_TEXT))
@example(text="土豆还剩NaN斤")
@example(text="土豆还剩0.0001斤")
@example(text="土豆还剩-200斤")
@example(text="土豆还剩1000000000000斤")
@example(text="新到1000000000斤土豆")
@example(text="把土豆的价格改成100000000元/斤")
@example(text="把土豆的价格改成0元/斤")
@example(text="inf元一斤")
def test_a_contacts_absurd_stock_message_never_stores_an_absurd_value(bot: Bot, text: str) -> None:
    contact = _fresh("contact")
    with bot.sessions() as session, session.begin():
        bind_user(session, contact, Role.CONTACT, township="龙角镇")
    with listings_restored(bot):
        before = _records(bot)
        said = bot.say(contact, text)
        assert _has_text(said.replies)
        assert _records(bot) == before  # nothing changes before the read-back is confirmed
        assert _has_text(bot.say(contact, "/affirm").replies)
        with bot.sessions() as session:
            for listing in session.scalars(select(Listing).join(Township).where(Township.name == "龙角镇")):
                assert quantity_problem(listing.remaining_quantity, allow_zero=True) is None, text
                assert 0 < listing.price_fen <= MAX_PRICE_FEN, text


# --- Telegram -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def telegram(bot: Bot, fake: FakeTelegram) -> Iterator[RunningBot]:
    """The bot by long polling against the fake server."""
    with with_bot(bot, fake) as running:
        yield running


_telegram_users = itertools.count(30_100)
# What a Telegram user can send: never empty, at most 4096 UTF-16 code units.
TELEGRAM_TEXT = BAD_TEXT.map(lambda text: split_text(text, 4096)[0] if text.strip() else "").filter(
    lambda text: bool(text.strip())
)


def _rejected(fake: FakeTelegram) -> list[str]:
    return [f"{c.method} {c.status} {c.params}"[:300] for c in fake.calls() if c.status >= 400]


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(text=TELEGRAM_TEXT)
@example(text="a" * 4096)
@example(text="🥔" * 2048)
@example(text="<b>土豆</b> & <i>")
@example(text="\x00\x07")
@example(text="'; DROP TABLE orders;--")
@example(text="买1000000000000斤土豆")
@example(text="/nonexistent_command")
@example(text="/start " + "x" * 200)
@example(text='/inform{"phone": "<b>&"}')
def test_telegram_answers_absurd_text_within_telegrams_limits(
    telegram: RunningBot, fake: FakeTelegram, text: str
) -> None:
    user = next(_telegram_users)
    fake.send_text(user, text)
    fake.wait_for(lambda f: bool(f.sent_to(user)), timeout=20)
    fake.wait_idle(user, quiet=0.3, timeout=60)
    sent = fake.sent_to(user)
    assert sent and all((m.text or "").strip() for m in sent if m.method == "sendMessage")
    assert not _rejected(fake), _rejected(fake)
    assert not fake.errors


def test_telegram_answers_a_forged_button_and_other_updates(telegram: RunningBot, fake: FakeTelegram) -> None:
    user = next(_telegram_users)
    fake.send_text(user, "你好")
    (greeting,) = fake.wait_sent(user, 1, timeout=60)
    for data in ("x" * 64, "order:confirm:XF000000AAAAAA", "order::", "/affirm", "🥔" * 16):
        before = len(fake.sent_to(user))
        fake.press(user, greeting.message_id, data)
        fake.wait_for(lambda f, n=before: len(f.sent_to(user)) > n, timeout=30)  # type: ignore[misc]
        fake.wait_idle(user, quiet=0.3, timeout=60)
        assert (fake.sent_to(user)[-1].text or "").strip(), data
    fake.share_contact(user, "+1 (555) 0100")  # not a mainland number
    fake.wait_idle(user, quiet=0.3, timeout=60)
    assert "没能识别这个电话号码" in (fake.sent_to(user)[-1].text or "")
    assert not _rejected(fake), _rejected(fake)


# --- spreadsheets ---------------------------------------------------------------------------------------


def _count(db: Database, model: type) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _products(db: Database) -> dict[str, Listing]:
    with db.sessions() as session:
        return {listing.product.name: listing for listing in session.scalars(select(Listing).order_by(Listing.id))}


def _set_cached_value(path: Path, cell: str, value: str) -> None:
    # Excel stores a formula's last result in <v>; openpyxl writes none, so add it as Excel would.
    with zipfile.ZipFile(path) as archive:
        parts = {item: archive.read(item) for item in archive.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    xml, done = re.subn(rf'(<c r="{cell}"[^>]*>\s*<f>.*?</f>)\s*<v\s*/>', rf"\1<v>{value}</v>", xml)
    assert done == 1
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for item, data in parts.items():
            archive.writestr(item, data)


def test_formulas_use_excels_cached_value_or_reject_the_row(db: Database, tmp_path: Path) -> None:
    rows = [
        row(quantity="=20+10"),  # E5: computed by Excel (cached 30): the value is used
        row(product="红薯", quantity="=C6*2"),  # E6: never computed: rejected with row and column
        row(product="白菜", remarks='=HYPERLINK("http://x")'),  # J7: uncomputed in 备注 too
        row(product="玉米"),
    ]
    path = write_xlsx(tmp_path / "公式.xlsx", rows)  # openpyxl writes "=…" cells as formulas, no results
    _set_cached_value(path, "E5", "30")
    report = import_catalog_files(db.sessions, [path])
    file = report.files[0]
    assert file.applied and (file.created, len(file.issues)) == (2, 2), report.lines()
    issues = {(issue.row, issue.column): issue.reason for issue in file.issues}
    assert "公式“=C6*2”" in issues[(6, "E列“计划销量”")]
    assert "公式“=HYPERLINK" in issues[(7, "J列“备注”")]
    listings = _products(db)
    assert set(listings) == {"土豆", "玉米"} and listings["土豆"].planned_quantity == Decimal(30)


def test_formula_text_from_a_csv_is_rejected_and_never_exported_as_a_formula(
    sqlite_db: Database, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "公式.csv", [row(remarks="=1+1"), row(product="红薯", quantity="=A1*2"), GOOD_ROW])
    report = import_catalog_files(sqlite_db.sessions, [path])
    assert [(i.row, i.column) for i in report.files[0].issues] == [(4, "J列“备注”"), (5, "E列“计划销量”")]
    assert _count(sqlite_db, Listing) == 1
    # A value that reached the database as "=…" text is written back as text, never as a live formula.
    with sqlite_db.sessions() as session, session.begin():
        session.execute(update(Listing).values(remarks='=HYPERLINK("http://x","点我")'))
    out = tmp_path / "export.xlsx"
    with sqlite_db.sessions() as session:
        export_catalog(session, out)
    cells = [cell for line in load_workbook(out).active.iter_rows() for cell in line]
    (remark,) = [cell for cell in cells if str(cell.value).startswith("=HYPERLINK")]
    assert remark.data_type == "s"


def test_too_many_rows_is_a_clear_error_and_nothing_is_imported(sqlite_db: Database, tmp_path: Path) -> None:
    path = tmp_path / "十万行.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        good = ["1", *GOOD_ROW]
        writer.writerows([good] * grid.MAX_ROWS)  # header + 100,000 rows: one too many
    report = import_catalog_files(sqlite_db.sessions, [path])
    assert report.files[0].error and "行数过多" in report.files[0].error and "100000" in report.files[0].error
    assert (_count(sqlite_db, Listing), _count(sqlite_db, CatalogImport)) == (0, 0)


def test_a_tiny_workbook_declaring_a_million_rows_or_columns_is_read_quickly(
    sqlite_db: Database, tmp_path: Path
) -> None:
    tall = write_xlsx(tmp_path / "高.xlsx", [GOOD_ROW])
    book = load_workbook(tall)
    book.active["A1000000"] = "末行"  # 5 KB on disk, a million rows once read: refused at row 100,001
    book.save(tall)
    styled = write_xlsx(tmp_path / "格式.xlsx", [GOOD_ROW])
    book = load_workbook(styled)
    book.active["A1000000"].number_format = "0.00"  # an empty formatted cell far below is no data
    book.save(styled)
    wide = write_xlsx(tmp_path / "宽.xlsx", [GOOD_ROW])
    book = load_workbook(wide)
    for number in range(8, 1500):
        book.active[f"XFD{number}"] = "远"  # the last column: 16,384 cells a row, were every row padded
    book.save(wide)
    report = import_catalog_files(sqlite_db.sessions, [tall, styled, wide])
    assert report.files[0].error and "超过100000行" in report.files[0].error
    assert report.files[1].ok and report.files[1].created == 1, report.lines()
    assert report.files[2].ok and report.files[2].updated == 1, report.lines()
    (frame,) = [f for _, f in grid.read_sheets(wide)]
    assert frame.shape[1] <= grid.MAX_COLUMNS


def test_a_file_over_20_mb_is_refused_before_reading(sqlite_db: Database, tmp_path: Path) -> None:
    for big in (write_xlsx(tmp_path / "大.xlsx", [GOOD_ROW]), write_csv(tmp_path / "大.csv", [GOOD_ROW])):
        with big.open("ab") as handle:
            handle.truncate(grid.MAX_FILE_BYTES)  # sparse: no need to write 20 MB
        at_limit = import_catalog_files(sqlite_db.sessions, [big]).files[0]
        assert at_limit.error and "文件过大" not in at_limit.error  # read, and refused for its padding
        with big.open("ab") as handle:
            handle.truncate(grid.MAX_FILE_BYTES + 1)
        report = import_catalog_files(sqlite_db.sessions, [big])
        assert report.files[0].error and "文件过大" in report.files[0].error and "20MB" in report.files[0].error
    assert _count(sqlite_db, Listing) == 0


def _damaged(source: Path, target: Path, part: str, cut: bool) -> Path:
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(target, "w") as out:
        for item in archive.infolist():
            data = archive.read(item.filename)
            if item.filename == part:
                if not cut:
                    continue
                data = data[: len(data) // 2]
            out.writestr(item, data)
    return target


def test_damaged_workbooks_are_clear_errors_and_hidden_sheets_are_not_read(db: Database, tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", [GOOD_ROW])
    broken_sheet = _damaged(good, tmp_path / "半个工作表.xlsx", "xl/worksheets/sheet1.xml", cut=True)
    broken_book = _damaged(good, tmp_path / "半个工作簿.xlsx", "xl/workbook.xml", cut=True)
    truncated = tmp_path / "截断.xlsx"
    truncated.write_bytes(good.read_bytes()[:2000])
    not_a_workbook = tmp_path / "其实是csv.xlsx"
    not_a_workbook.write_bytes(write_csv(tmp_path / "x.csv", [GOOD_ROW]).read_bytes())
    report = import_catalog_files(db.sessions, [broken_sheet, broken_book, truncated, not_a_workbook])
    for file in report.files:
        assert file.error and file.error.startswith(file.file) and not file.applied, file
    assert "损坏" in (report.files[0].error or "")
    assert _count(db, Listing) == 0

    # A hidden sheet (an old version kept by the township) is not what they sent: the visible one is read.
    book = load_workbook(good)
    old = book.copy_worksheet(book.active)
    old["D5"] = "旧产品"
    old.sheet_state = "hidden"
    book.move_sheet(old, offset=-1)
    book.save(tmp_path / "隐藏.xlsx")
    assert import_catalog_files(db.sessions, [tmp_path / "隐藏.xlsx"]).ok
    assert list(_products(db)) == ["土豆"]


def test_a_wrong_sheet_first_and_the_form_second_is_found(sqlite_db: Database, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "两个表.xlsx", [GOOD_ROW])
    book = load_workbook(path)
    other = book.create_sheet("说明", 0)
    other.append(["序号", "地区", "贫困户姓名", "备注"])  # looks like a header, lacks the required columns
    book.save(path)
    report = import_catalog_files(sqlite_db.sessions, [path])
    assert report.ok and report.files[0].created == 1, report.lines()


CELL = st.one_of(st.just(""), FRAGMENT, ABSURD_NUMBER)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.tuples(st.sampled_from(range(9)), CELL), min_size=1, max_size=4))
@example(cells=[(3, "10000000000000000斤")])
@example(cells=[(3, "0.0001斤")])
@example(cells=[(3, "0.1克")])
@example(cells=[(4, "100000000000元/斤")])
@example(cells=[(6, "\x00")])
@example(cells=[(2, "=1+1")])
def test_random_cells_never_break_the_import_or_store_an_absurd_value(
    sqlite_db: Database, tmp_path: Path, cells: list[tuple[int, str]]
) -> None:
    values = list(GOOD_ROW)
    for index, value in cells:
        values[index] = value.replace("\x00", "")  # Python's csv cannot write NUL (a NUL file: its own test)
    path = write_csv(tmp_path / "随机.csv", [tuple(values), row(product="红薯")])
    report = import_catalog_files(sqlite_db.sessions, [path])  # never raises
    file = report.files[0]
    assert file.error is None, file.error
    for issue in file.issues:
        assert issue.row == 4 or (issue.row == 5 and "重复" in issue.reason), issue
    with sqlite_db.sessions() as session:
        for listing in session.scalars(select(Listing)):
            assert quantity_problem(listing.planned_quantity) is None
            assert quantity_problem(listing.remaining_quantity, allow_zero=True) is None
            assert listing.remaining_quantity <= listing.planned_quantity
            assert 0 < listing.price_fen <= MAX_PRICE_FEN
            assert not listing.product.name.startswith("=") and not listing.remarks.startswith("=")


def test_periods_outside_the_programme_are_not_named() -> None:
    assert parse_period("2019Q3") == Period(2019, 3)
    assert parse_period("0000年第一季度") is None and parse_period("9999Q4") is None
