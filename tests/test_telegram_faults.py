"""Faults on the Telegram side and in the dialogue: 429, 5xx, timeouts, the database failing mid-order, and a
separately started action server dying.

Real python-telegram-bot objects over HTTP against the fake Bot API server; the fake injects the faults.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from telegram import Bot as TelegramBot
from telegram.error import Forbidden
from telegram.request import HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.telegram.aiohttp_request import AiohttpRequest
from bot.telegram.retry import NotSent, call_with_retry
from fupin.models import Order
from harness.bot_process import start_action_server
from harness.fake_telegram import FakeTelegram
from harness.netproxy import free_port
from harness.telegram_app import RunningBot
from tests.e2e import Bot
from tests.telegram_chat import messages, say_one, with_bot

ACTION_TOKEN = "faults-action-token_7"


# The bot's own requests (aiohttp) and python-telegram-bot's default (httpx) must behave the same.
REQUESTS = {"aiohttp": AiohttpRequest, "httpx": HTTPXRequest}


@pytest.fixture(params=sorted(REQUESTS))
def request_kind(request: pytest.FixtureRequest) -> str:
    """Which request class the client-side fault tests use."""
    return str(request.param)


def _client(fake: FakeTelegram, kind: str, base_url: str | None = None, **timeouts: Any) -> TelegramBot:
    request = REQUESTS[kind](**{"read_timeout": 5.0, "connect_timeout": 2.0, **timeouts})
    return TelegramBot(
        fake.token, base_url=base_url or fake.base_url, base_file_url=fake.base_file_url, request=request
    )


def _send(fake: FakeTelegram, kind: str, chat_id: int, text: str, read_timeout: float = 5.0) -> None:
    async def go() -> None:
        async with _client(fake, kind, read_timeout=read_timeout) as client:
            await call_with_retry(lambda: client.send_message(chat_id, text), what="test", base_delay=0.05)

    asyncio.run(go())


def _delivered(fake: FakeTelegram, chat_id: int, text: str) -> int:
    return sum(1 for m in fake.sent_to(chat_id) if m.text == text)


def test_429_is_waited_out_as_telegram_asks_and_sent_once(fake: FakeTelegram, request_kind: str) -> None:
    chat = 50001 if request_kind == "httpx" else 50011
    fake.fail_next("sendMessage", 429, retry_after=1)
    started = time.monotonic()
    _send(fake, request_kind, chat, "限流后再发")
    assert time.monotonic() - started >= 1.0  # honoured retry_after
    assert _delivered(fake, chat, "限流后再发") == 1
    assert [c.status for c in fake.calls("sendMessage") if c.params.get("chat_id") == chat] == [429, 200]


def test_server_errors_are_retried_with_back_off_then_given_up(fake: FakeTelegram, request_kind: str) -> None:
    chat = 50002 if request_kind == "httpx" else 50012
    fake.fail_next("sendMessage", 500, times=2)
    _send(fake, request_kind, chat, "服务器错误后重试")
    assert _delivered(fake, chat, "服务器错误后重试") == 1
    fake.fail_next("sendMessage", 502, times=4)  # as many as the attempts
    with pytest.raises(NotSent):
        _send(fake, request_kind, chat, "一直失败")
    assert _delivered(fake, chat, "一直失败") == 0
    failing = [
        c for c in fake.calls("sendMessage") if c.params.get("text") == "一直失败" and c.params.get("chat_id") == chat
    ]
    assert len(failing) == 4  # bounded


def test_a_timed_out_message_is_not_sent_twice(fake: FakeTelegram, request_kind: str) -> None:
    # Telegram got the message but its answer came too late: sending again would show it twice.
    chat = 50003 if request_kind == "httpx" else 50013
    fake.fail_next("sendMessage", 200, delay=2.0)
    with pytest.raises(NotSent) as caught:
        _send(fake, request_kind, chat, "超时的消息", read_timeout=0.5)
    assert caught.value.maybe_delivered
    time.sleep(2.0)
    assert _delivered(fake, chat, "超时的消息") == 1
    timed_out = [c for c in fake.calls("sendMessage") if c.params.get("chat_id") == chat]
    assert len(timed_out) == 1


def test_a_message_waiting_for_a_free_connection_is_sent_once_it_gets_one(
    fake: FakeTelegram, request_kind: str
) -> None:
    # A pool timeout means the request never left: it is sent again, and arrives once.
    chat = 50005 if request_kind == "httpx" else 50015
    fake.fail_next("sendMessage", 200, delay=1.0)  # the first message holds the only connection for a second

    async def go() -> None:
        async with _client(fake, request_kind, connection_pool_size=1, pool_timeout=0.3) as client:
            slow = asyncio.create_task(client.send_message(chat, "占着连接"))
            await asyncio.sleep(0.1)
            await call_with_retry(lambda: client.send_message(chat, "等连接"), what="test", base_delay=0.3)
            await slow

    asyncio.run(go())
    assert _delivered(fake, chat, "等连接") == 1 and _delivered(fake, chat, "占着连接") == 1


def test_a_server_nobody_answers_on_is_retried_then_given_up_as_not_sent(request_kind: str) -> None:
    async def go() -> None:
        request = REQUESTS[request_kind](connect_timeout=2.0)
        await request.initialize()
        url = f"http://127.0.0.1:{free_port()}/bot{'0' * 10}/sendMessage"
        data = RequestData(
            [RequestParameter.from_input("chat_id", 50006), RequestParameter.from_input("text", "没人听")]
        )
        try:
            await call_with_retry(lambda: request.post(url, data), what="test", base_delay=0.01)
        finally:
            await request.shutdown()

    with pytest.raises(NotSent) as caught:
        asyncio.run(go())
    assert not caught.value.maybe_delivered  # refused: never reached anyone


def test_forbidden_is_not_retried(fake: FakeTelegram, request_kind: str) -> None:
    chat = 50004 if request_kind == "httpx" else 50014
    fake.block(chat)
    with pytest.raises(Forbidden):
        _send(fake, request_kind, chat, "被屏蔽")
    assert len([c for c in fake.calls("sendMessage") if c.params.get("chat_id") == chat]) == 1


@pytest.fixture(scope="module")
def telegram(bot: Bot, fake: FakeTelegram) -> Iterator[RunningBot]:
    """The bot running by long polling against the fake server."""
    with with_bot(bot, fake) as running:
        yield running


def test_the_bot_answers_through_429_and_5xx_without_duplicates(telegram: RunningBot, fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", 429, retry_after=1)
    assert "土豆" in (say_one(fake, 51001, "哪里有土豆").text or "")
    fake.fail_next("sendMessage", 500)
    assert "蜂蜜" in (say_one(fake, 51001, "哪里有蜂蜜").text or "")
    fake.wait_idle(51001, quiet=1.0)
    texts = [m.text for m in messages(fake, 51001)]
    assert len(texts) == len(set(texts)) == 2


def test_the_database_failing_mid_order_gets_system_busy_writes_nothing_and_the_conversation_continues(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot
) -> None:
    user = 51002
    assert "要订多少" in (say_one(fake, user, "我要买龙角镇的土豆").text or "")
    with bot.sessions() as session:
        orders_before = session.scalar(select(func.count()).select_from(Order))

    def fail(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The catalogue's stock cannot be read, as with a database gone away (the tracker store, another
        # database connection, still works, so the form's state survives).
        if "listings" in statement:
            raise OperationalError(statement, None, ConnectionError("database unavailable"))

    event.listen(bot.engine, "before_cursor_execute", fail)
    try:
        busy = say_one(fake, user, "30斤")  # the form's quantity check reads the listing
        assert "系统繁忙" in (busy.text or "")
    finally:
        event.remove(bot.engine, "before_cursor_execute", fail)
    # Back up: the form goes on from where it was.
    assert "采购单位" in (say_one(fake, user, "30斤").text or "")
    with bot.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == orders_before  # nothing half-written
    assert "已取消" in (say_one(fake, user, "取消").text or "")


def test_a_separate_action_server_dying_mid_order_gets_system_busy_then_the_conversation_continues(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot, tmp_path: Path
) -> None:
    user = 51003
    port = free_port()
    server = start_action_server(str(bot.engine.url), port, tmp_path, ACTION_TOKEN)
    try:
        with bot.remote_actions(f"http://127.0.0.1:{port}/webhook", ACTION_TOKEN, telegram.loop):
            assert "要订多少" in (say_one(fake, user, "我要买龙角镇的土豆").text or "")
            with bot.sessions() as session:
                orders_before = session.scalar(select(func.count()).select_from(Order))
            server.kill()
            server.wait(30)
            busy = say_one(fake, user, "30斤")
            assert "系统繁忙" in (busy.text or "")
            server = start_action_server(str(bot.engine.url), port, tmp_path, ACTION_TOKEN)
            # Back up: the form goes on from where it was.
            assert "采购单位" in (say_one(fake, user, "30斤").text or "")
            with bot.sessions() as session:
                assert session.scalar(select(func.count()).select_from(Order)) == orders_before
            assert "已取消" in (say_one(fake, user, "取消").text or "")
    finally:
        server.terminate()
        server.wait(30)
