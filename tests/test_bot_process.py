"""`python -m bot run` with a token: a real process that polls the fake Bot API, survives a crash, stops cleanly.

Each test starts the whole bot (database, model, the actions in process) in its own process: slow, but
it is what a county server runs. It starts no child process and, polling, opens no listening socket unless
WEB_PORT asks it to serve the web console (then on 127.0.0.1 only).
"""

from __future__ import annotations

import http.cookiejar
import re
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from fupin.db import make_engine, make_session_factory
from fupin.models import Listing, Order
from harness.bot_process import BotProcess, child_pids, listening_sockets
from harness.fake_telegram import FakeTelegram, Sent
from harness.netproxy import free_port
from tests.telegram_chat import button_data, messages, press_data, press_one, say_one, wait_messages

pytestmark = pytest.mark.process

BUYER = 41001
ADMIN = 41009


def _console_orders_page(port: int, token: str) -> str:
    """Sign in with a one-time link against a served console as a browser would; returns the orders page."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    base = f"http://127.0.0.1:{port}"
    with opener.open(f"{base}/login/{token}", timeout=30) as page:
        assert page.status == 200
    body = urllib.parse.urlencode({"token": token}).encode()
    with opener.open(f"{base}/login", data=body, timeout=30) as home:  # 303 to / with the session cookie
        assert home.status == 200 and home.url == f"{base}/" and "总览" in home.read().decode()
    with opener.open(f"{base}/orders", timeout=30) as orders:
        return str(orders.read().decode())


def _order_read_back(fake: FakeTelegram, quantity: str) -> Sent:
    """Order 龙角镇's potatoes through the form up to the read-back with its 确认下单 button."""
    say_one(fake, BUYER, "我要买龙角镇的土豆")
    say_one(fake, BUYER, quantity)
    say_one(fake, BUYER, "县人民医院食堂")
    methods = say_one(fake, BUYER, "17723635558")
    return press_one(fake, BUYER, methods, "送货上门")


def test_run_survives_a_crash_between_confirmation_and_reply_and_stops_cleanly_on_sigterm(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    bot = BotProcess(fake, tmp_path, url)
    bot.start()
    try:
        summary = _order_read_back(fake, "30斤")
        assert "确认下单" in str(summary.reply_markup)
        # The reply to the confirmation hangs at Telegram; the bot is killed before it is answered.
        fake.fail_next("sendMessage", 200, delay=30)
        fake.press(BUYER, summary.message_id, button_data(summary, "确认下单"))
        # The fake records the reply, then holds its answer back: the bot is still waiting when killed.
        fake.wait_for(lambda f: any("下单成功" in (m.text or "") for m in messages(f, BUYER)), timeout=60)
    finally:
        bot.kill()

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        orders = session.scalar(select(func.count()).select_from(Order))
    assert orders in (0, 1)

    with engine.connect() as connection:
        # Rasa's SQL tracker store keeps the conversation in the same database.
        remembered = connection.execute(
            text("SELECT count(*) FROM events WHERE sender_id = :sender AND data LIKE :org"),
            {"sender": f"telegram:{BUYER}", "org": "%17723635558%"},
        ).scalar()
    assert remembered

    # Killed before it confirmed the press, the bot receives it again and answers it; the test waits for that
    # answer, or it would be taken for the answer to what is said next.
    redelivered = bool(fake.unconfirmed(BUYER))
    answered = len(messages(fake, BUYER))
    restarted = BotProcess(fake, tmp_path, url, LOG_LEVEL="DEBUG")
    restarted.start()
    try:
        if redelivered:
            wait_messages(fake, BUYER, answered + 1)
        assert "消费扶贫助手" in (say_one(fake, BUYER, "/start").text or "")
        listed = say_one(fake, BUYER, "我的订单")
        with sessions() as session:
            numbers = list(session.scalars(select(Order.order_no)))
        # The buyer was told 下单成功, so exactly one order exists now: the one committed before the kill, or
        # (killed before its commit) the one the redelivered press placed under the read-back's key.
        assert len(numbers) == 1, (orders, numbers)
        assert numbers[0] in (listed.text or "")  # the buyer sees the order the crash did not lose
        # The conversation state survived in the SQL tracker store: the order form is not open any more,
        # so "确认" does not place a second order.
        say_one(fake, BUYER, "确认")
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(Order)) == 1
        assert re.search("土豆", say_one(fake, BUYER, "哪里有土豆").text or "")
        assert restarted.process is not None
        # The actions answered in process: no action server child, and (long polling) nothing listens.
        assert child_pids(restarted.process.pid) == [], "no child process (the actions run in the bot)"
        assert listening_sockets(restarted.process.pid) == [], "the bot in polling mode listens on no port"
    finally:
        code = restarted.terminate()  # SIGTERM, as systemd or Ctrl-C
        engine.dispose()
    assert code == 0, restarted.output()[-3000:]
    output = restarted.output()
    assert "telegram bot ready" in output  # the logs were written
    assert fake.token not in output and fake.token.split(":")[1] not in output  # not even at DEBUG


def test_a_crash_after_the_order_before_the_conversation_is_saved_does_not_double_the_order(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    # Issue #20: killed 10-40 ms after 确认下单, the order was committed but the conversation was not, so the
    # restarted bot still held the read-back and a second 确认下单 placed a second order. A trigger makes the
    # conversation's save fail once the order exists: the state such a crash leaves, every time.
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    bot = BotProcess(fake, tmp_path, url)
    bot.start()
    try:
        summary = _order_read_back(fake, "10斤")
        data = button_data(summary, "确认下单")
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE TRIGGER crash_before_save BEFORE INSERT ON events WHEN EXISTS (SELECT 1 FROM orders) "
                "BEGIN SELECT RAISE(ABORT, 'simulated crash'); END"
            )
        fake.press(BUYER, summary.message_id, data)

        def placed(_fake: FakeTelegram) -> bool:
            with sessions() as session:
                return bool(session.scalar(select(func.count()).select_from(Order)))

        fake.wait_for(placed, timeout=60)
        time.sleep(1)  # the conversation's save runs (and fails) after the order's commit
    finally:
        bot.kill()
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER crash_before_save")

    # Restarted with WEB_PORT: the same process serves the web console, on the loopback address only.
    port = free_port()
    restarted = BotProcess(fake, tmp_path, url, WEB_PORT=str(port), ADMIN_TELEGRAM_IDS=str(ADMIN))
    restarted.start()
    try:
        again = press_data(fake, BUYER, summary, data)  # the buyer saw no answer and presses again
        assert "已经下好了" in (again[0].text or ""), again[0].text
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(Order)) == 1
            order = session.scalars(select(Order)).one()
            listing = session.get(Listing, order.listing_id)
            assert listing is not None and listing.remaining_quantity == 1990  # 10斤 reserved once, not 20
        assert restarted.process is not None
        assert listening_sockets(restarted.process.pid) == [("127.0.0.1", port)]
        link = re.search(rf"http://127\.0\.0\.1:{port}/login/(\S+)", say_one(fake, ADMIN, "/web").text or "")
        assert link, "the admin's /web link points at the console this process serves"
        assert order.order_no in _console_orders_page(port, link[1])  # the console reads the bot's database
    finally:
        restarted.terminate()
        engine.dispose()
