"""The Telegram front-end's small parts: message splitting, keyboards, flood limit, secret redaction."""

from __future__ import annotations

import logging

import pytest

from bot.dialogue.assistant import Reply, to_replies
from bot.logs import RedactSecrets
from bot.telegram.ratelimit import RateLimiter
from bot.telegram.render import MESSAGE_LIMIT, inline_keyboard, split_text, utf16_length


def test_short_text_is_one_message() -> None:
    assert split_text("你好") == ["你好"]


def test_long_text_splits_at_lines_under_the_limit() -> None:
    lines = [f"第{i}行：龙角镇张家村 土豆 剩200斤 1.5元/斤 🥔" for i in range(400)]
    parts = split_text("\n".join(lines))
    assert len(parts) > 1
    assert all(utf16_length(p) <= MESSAGE_LIMIT for p in parts)
    assert "\n".join(parts) == "\n".join(lines)  # nothing lost, nothing doubled


def test_one_huge_line_is_cut_without_breaking_emoji() -> None:
    text = "🥔" * 5000  # each counts 2 UTF-16 units
    parts = split_text(text)
    assert all(utf16_length(p) <= MESSAGE_LIMIT for p in parts)
    assert "".join(parts) == text


def test_keyboard_layout_and_oversized_data() -> None:
    short = inline_keyboard([("订购1", "/a"), ("订购2", "/b"), ("订购3", "/c"), ("查看更多", "/d")])
    assert short is not None and [len(r) for r in short.inline_keyboard] == [3, 1]
    long = inline_keyboard([("1. 龙角镇张家村 1.5元", "/x"), ("2. 泥溪镇 2元", "/y")])
    assert long is not None and [len(r) for r in long.inline_keyboard] == [1, 1]
    assert inline_keyboard([("太长", "/inform" + "{" + "数" * 30 + "}")]) is None


def test_rasa_custom_request_contact_marks_the_question() -> None:
    replies = to_replies([{"text": "请留一个联系电话"}, {"custom": {"request_contact": True}}])
    assert replies == [Reply("请留一个联系电话", [], True)]


def test_flood_limit_allows_a_burst_then_warns_once() -> None:
    now = [0.0]
    limiter = RateLimiter(burst=3, per_minute=60, clock=lambda: now[0])
    verdicts = [limiter.check(1) for _ in range(6)]
    assert verdicts == ["ok", "ok", "ok", "warn", "drop", "drop"]
    assert limiter.check(2) == "ok"  # others are not affected
    now[0] += 1.0  # one message per second refills
    assert limiter.check(1) == "ok"
    assert limiter.check(1) == "warn"


def test_token_is_redacted_from_messages_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    token = "123456:SECRET-token"
    logger = logging.getLogger("test.redact")
    handler = logging.StreamHandler()
    records: list[str] = []
    handler.emit = lambda record: records.append(handler.format(record))  # type: ignore[method-assign]
    handler.addFilter(RedactSecrets([token]))
    logger.addHandler(handler)
    try:
        logger.warning("POST https://api.telegram.org/bot%s/getMe", token)
        try:
            raise RuntimeError(f"bad url /bot{token}/x")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    assert records and all(token not in r for r in records)
    assert "[REDACTED]" in records[0] and "[REDACTED]" in records[1]


def test_action_results_are_still_validated_after_building_the_validator_once() -> None:
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction

    from bot.dialogue.rasa_patches import validate_action_results_with_a_built_validator

    validate_action_results_with_a_built_validator()
    validate_action_results_with_a_built_validator()  # idempotent: never wraps itself twice
    assert getattr(RemoteAction._validate_action_result, "built_validator", False)
    action = RemoteAction("action_test", None)
    assert action._validate_action_result({"events": [], "responses": []})
    with pytest.raises(ValidationError):
        action._validate_action_result({"events": "not a list"})
