"""Parses of repeated texts are kept per process and give exactly the NLU's parse, under the same names only."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import OperationalError

from bot.dialogue.parse_cache import LONGEST_TEXT, ParseCache
from fupin.catalog.listings import add_alias
from fupin.catalog.search import CatalogNames
from tests.conftest import Database
from tests.e2e import Bot

PARSE: dict[str, Any] = {"text": "我的订单", "intent": {"name": "my_orders", "confidence": 0.98}, "entities": []}


def test_a_kept_parse_is_handed_out_as_a_copy() -> None:
    cache = ParseCache()
    cache.put(1, "我的订单", PARSE)
    first = cache.get(1, "我的订单")
    assert first == PARSE
    assert first is not None
    first["entities"].append({"entity": "product", "value": "土豆"})  # Rasa may change what it was given
    assert cache.get(1, "我的订单") == PARSE
    assert (cache.hits, cache.misses) == (2, 0)


def test_parses_are_kept_per_names_version_short_texts_only_and_few() -> None:
    cache = ParseCache(size=2)
    cache.put(1, "我的订单", PARSE)
    assert cache.get(2, "我的订单") is None  # other names: parsed afresh
    cache.put(1, "长" * (LONGEST_TEXT + 1), PARSE)
    assert len(cache) == 1
    cache.put(1, "确认", PARSE)
    cache.get(1, "我的订单")  # used: the least recently used is now 确认
    cache.put(1, "好的", PARSE)
    assert cache.get(1, "确认") is None and cache.get(1, "我的订单") is not None and len(cache) == 2


def test_a_cache_of_size_zero_keeps_nothing_as_the_setting_says() -> None:
    from fupin.settings import Settings

    size = Settings.from_env({"PARSE_CACHE_SIZE": "0"}).parse_cache_size
    assert size == 0 and Settings.from_env({}).parse_cache_size > 0
    cache = ParseCache(size)
    cache.put(1, "确认", {"text": "确认"})
    assert cache.get(1, "确认") is None and len(cache) == 0


def test_names_read_again_unchanged_keep_their_version_and_a_new_alias_moves_it(db: Database) -> None:
    now = [0.0]
    names = CatalogNames(db.sessions, refresh_seconds=5.0, clock=lambda: now[0])
    version = names.current_version()
    with db.sessions() as session:
        vocabulary, gazetteer = names.get(session)
    now[0] = 10.0  # due: read again, the same names
    assert names.current_version() == version and names.is_fresh()
    with db.sessions() as session:
        assert names.get(session) == (vocabulary, gazetteer)  # the same objects
    names.refresh()
    assert names.current_version() == version
    with db.sessions() as session, session.begin():
        assert add_alias(session, "土豆", "山芋蛋")
    names.refresh()
    assert names.current_version() == version + 1


def test_names_that_could_not_be_read_again_are_stale(db: Database) -> None:
    now = [0.0]
    names = CatalogNames(db.sessions, refresh_seconds=5.0, clock=lambda: now[0])
    names.current_version()

    def broken() -> Any:
        raise OperationalError("SELECT", {}, Exception("database is gone"))

    names.session_factory = broken  # type: ignore[assignment]
    now[0] = 10.0
    assert not names.is_fresh()  # a parse made now (the matcher without names) is not kept


def test_a_repeated_text_gets_the_nlu_parse_and_a_new_alias_is_recognised_at_once(fresh_bot: Bot) -> None:
    assistant = fresh_bot.assistant
    for text in ("我的订单", "哪里有土豆", "20斤", "县人民医院食堂"):
        parsed = fresh_bot.run(assistant.text_parse(text))
        hits = assistant._parses.hits
        assert fresh_bot.run(assistant.text_parse(text)) == parsed == fresh_bot.parse(text)
        assert assistant._parses.hits == hits + 1
    before = fresh_bot.run(assistant.text_parse("哪里有山芋蛋"))
    assert before is not None
    assert not any(e.get("value") == "土豆" for e in before["entities"])
    with fresh_bot.sessions() as session, session.begin():
        assert add_alias(session, "土豆", "山芋蛋")
    fresh_bot.services.search.names.refresh()  # what the alias command's process does; others within 5 s
    after = fresh_bot.run(assistant.text_parse("哪里有山芋蛋"))
    assert after is not None
    assert any(e["entity"] == "product" and e["value"] == "土豆" for e in after["entities"])
    assert after == fresh_bot.parse("哪里有山芋蛋")


def test_the_same_text_twice_answers_the_same(fresh_bot: Bot) -> None:
    first = fresh_bot.say("telegram:7001", "哪里有土豆")
    second = fresh_bot.say("telegram:7002", "哪里有土豆")
    assert first.text == second.text and first.buttons == second.buttons
    assert "土豆" in first.text
