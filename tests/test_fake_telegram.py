"""The fake Telegram server against the real python-telegram-bot Bot and Application over HTTP."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes, filters
from telegram.ext import MessageHandler as TextHandler

from harness.fake_telegram import FakeTelegram, parse_html, utf16_length

USER = 501
OTHER = 502


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    """A running fake server, stopped after the test."""
    with FakeTelegram() as server:
        yield server
    assert not server.errors, server.describe()


def make_bot(fake: FakeTelegram, token: str | None = None) -> Bot:
    """A real PTB Bot talking to the fake."""
    return Bot(token or fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)


def make_app(fake: FakeTelegram) -> Application:  # type: ignore[type-arg]
    """A real PTB Application talking to the fake, built as the project builds its own."""
    return ApplicationBuilder().token(fake.token).base_url(fake.base_url).base_file_url(fake.base_file_url).build()


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seconds(value: int | timedelta) -> float:
    """RetryAfter.retry_after as seconds, whichever type PTB returns."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    """One button per row."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(title, callback_data=data)] for title, data in pairs])


def test_get_me_tokens_and_unknown_methods(fake: FakeTelegram) -> None:
    async def main() -> None:
        async with make_bot(fake) as bot:
            me = await bot.get_me()
            assert (me.id, me.username, me.is_bot) == (100, "fupin_test_bot", True)
            with pytest.raises(EndPointNotFound):
                await bot.do_api_request("noSuchMethod", api_kwargs={"x": 1})
        with pytest.raises(InvalidToken):
            await make_bot(fake, "999:WRONG").get_me()

    asyncio.run(main())
    assert [c.status for c in fake.calls("getMe")] == [200, 200, 401]
    unknown = fake.calls("noSuchMethod")
    assert unknown[0].status == 404 and unknown[0].params == {"x": 1}


def test_inline_keyboard_press_reaches_the_application(fake: FakeTelegram) -> None:
    seen: list[tuple[str | None, Any]] = []

    async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.effective_chat is not None
        await update.message.reply_text(f"你好 {context.args}", reply_markup=keyboard(("要", "yes"), ("不要", "no")))

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and isinstance(query.message, Message)
        seen.append((query.data, query.message.reply_markup))
        await query.answer()
        if query.message.reply_markup is not None:
            await query.edit_message_text(f"选了 {query.data}")

    async def main() -> None:
        app = make_app(fake)
        app.add_handler(CommandHandler("start", on_start))
        app.add_handler(CallbackQueryHandler(on_button))
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=10)
            try:
                started = time.monotonic()
                fake.send_text(USER, "/start abc", first_name="张三", username="zhangsan")
                fake.send_text(USER, "还是张三")  # the default name keeps the one given before
                [sent] = await asyncio.to_thread(fake.wait_sent, USER, 1, 10)
                # The long poll returned at once, not after its 10 s timeout.
                assert time.monotonic() - started < 3
                assert sent.text == "你好 ['abc']"
                assert sent.reply_markup is not None
                assert [row[0]["callback_data"] for row in sent.reply_markup["inline_keyboard"]] == ["yes", "no"]
                fake.press(USER, sent.message_id, "yes")
                await asyncio.to_thread(fake.wait_sent, USER, 2, 10)
                # A second tap on the retired keyboard carries the message without its markup.
                fake.press(USER, sent.message_id, "yes")
                await asyncio.to_thread(fake.wait_for, lambda f: len(f.calls("answerCallbackQuery")) == 2, 10)
                await asyncio.to_thread(fake.wait_idle, USER, 0.3, 10)
            finally:
                await app.updater.stop()
                await app.stop()

    asyncio.run(main())
    assert [data for data, _ in seen] == ["yes", "yes"]
    assert seen[0][1] is not None and seen[1][1] is None
    first, edit = fake.sent_to(USER)
    assert (edit.method, edit.message_id, edit.text, edit.reply_markup) == (
        "editMessageText",
        first.message_id,
        "选了 yes",
        None,
    )
    stored = fake.message(USER, first.message_id)
    assert stored is not None and "reply_markup" not in stored and stored["chat"]["first_name"] == "张三"
    start = fake.calls("sendMessage")[0].params
    assert start["chat_id"] == USER and start["reply_markup"]["inline_keyboard"][1][0]["text"] == "不要"
    assert all(c.status == 200 for c in fake.calls("answerCallbackQuery"))


def test_get_updates_offset_limit_and_long_poll(fake: FakeTelegram) -> None:
    ids = [fake.send_text(USER, f"m{n}") for n in range(3)]
    fake.share_contact(USER, "+8613800000000")

    async def main() -> None:
        async with make_bot(fake) as bot:
            first = await bot.get_updates()
            assert [u.update_id for u in first] == [*ids, ids[-1] + 1]
            assert first[0].message is not None and first[0].message.text == "m0"
            contact = first[3].message.contact if first[3].message else None
            assert contact is not None and contact.user_id == USER and contact.phone_number == "+8613800000000"
            command = await asyncio.to_thread(fake.send_text, USER, "/help")
            assert [u.update_id for u in await bot.get_updates(offset=ids[2], limit=2)] == [ids[2], ids[2] + 1]
            # Confirmed updates are gone for good.
            assert [u.update_id for u in await bot.get_updates()] == [ids[2], ids[2] + 1, command]
            latest = await bot.get_updates(offset=-1)
            assert [u.update_id for u in latest] == [command]
            entity = latest[0].message.entities[0] if latest[0].message else None
            assert entity is not None and (entity.type, entity.offset, entity.length) == ("bot_command", 0, 5)
            assert await bot.get_updates(offset=command + 1, timeout=0) == ()
            # A long poll answers as soon as an update arrives.
            loop = asyncio.get_running_loop()
            loop.call_later(0.3, fake.send_text, OTHER, "late")
            started = time.monotonic()
            late = await bot.get_updates(offset=command + 1, timeout=10)
            assert time.monotonic() - started < 2
            assert [u.effective_user.id for u in late if u.effective_user] == [OTHER]
            # Updates of types left out of allowed_updates are not kept.
            assert await bot.get_updates(offset=late[-1].update_id + 1, allowed_updates=["callback_query"]) == ()
            fake.send_text(USER, "not wanted")
            assert await bot.get_updates(allowed_updates=[]) == ()

    asyncio.run(main())


def test_document_round_trip(fake: FakeTelegram, tmp_path: Path) -> None:
    source = tmp_path / "目录.xlsx"
    source.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 40)
    fake.send_document(USER, source, caption="新目录")

    async def main() -> None:
        async with make_bot(fake) as bot:
            [update] = await bot.get_updates()
            assert update.message is not None
            document = update.message.document
            assert document is not None and document.file_name == "目录.xlsx"
            assert document.file_size == source.stat().st_size and update.message.caption == "新目录"
            telegram_file = await document.get_file()
            assert telegram_file.file_path == f"{fake.base_file_url}{fake.token}/documents/目录.xlsx"
            target = tmp_path / "down.xlsx"
            fake.fail_next("downloadFile", 502)
            with pytest.raises(NetworkError, match="Bad Gateway"):
                await telegram_file.download_to_drive(target)
            await telegram_file.download_to_drive(target)
            assert target.read_bytes() == source.read_bytes()
            message = await bot.send_document(USER, b"a,b\n1,2\n", filename="导出.csv", caption="共 1 行")
            assert message.document is not None and message.document.file_name == "导出.csv"
            with pytest.raises(BadRequest, match="Invalid file_id"):
                await bot.get_file("nope")

    asyncio.run(main())
    [sent] = fake.sent_to(USER)
    assert (sent.method, sent.document_name, sent.document_bytes, sent.text) == (
        "sendDocument",
        "导出.csv",
        b"a,b\n1,2\n",
        "共 1 行",
    )
    upload = fake.calls("sendDocument")[0].params["document"]
    assert upload.filename == "导出.csv" and upload.data == b"a,b\n1,2\n"
    assert [c.status for c in fake.calls("downloadFile")] == [502, 200]


def test_blocked_and_never_started_chats(fake: FakeTelegram) -> None:
    fake.block(USER)
    fake.never_started(OTHER)

    async def main() -> None:
        async with make_bot(fake) as bot:
            with pytest.raises(Forbidden, match="bot was blocked by the user"):
                await bot.send_message(USER, "hi")
            with pytest.raises(BadRequest, match="Chat not found"):
                await bot.send_message(OTHER, "hi")
            with pytest.raises(BadRequest, match="Chat not found"):
                await bot.set_my_commands([BotCommand("orders", "订单")], scope=BotCommandScopeChat(OTHER))
            await bot.set_my_commands([BotCommand("start", "开始")])
            with pytest.raises(BadRequest, match="Bot_command_invalid"):
                await bot.set_my_commands([BotCommand("Bad-Name", "x")])
            # Writing to the bot again unblocks it.
            await asyncio.to_thread(fake.send_text, USER, "回来了")
            await bot.send_message(USER, "欢迎回来")

    asyncio.run(main())
    assert [c.status for c in fake.calls("sendMessage")] == [403, 400, 200]
    assert fake.my_commands() == [{"command": "start", "description": "开始"}]
    assert [s.text for s in fake.sent_to(USER)] == ["欢迎回来"]


def test_injected_faults_and_delayed_delivery(fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", 429, retry_after=3)
    fake.fail_next("sendMessage", 500)
    fake.fail_next("sendMessage", 502)
    fake.fail_next("sendMessage", 200, delay=1.0)

    async def main() -> None:
        async with make_bot(fake) as bot:
            with pytest.raises(RetryAfter) as flood:
                await bot.send_message(USER, "1")
            assert seconds(flood.value.retry_after) == 3
            with pytest.raises(NetworkError, match="Internal Server Error"):
                await bot.send_message(USER, "2")
            with pytest.raises(NetworkError, match="Bad Gateway"):
                await bot.send_message(USER, "3")
            with pytest.raises(TimedOut):
                await bot.send_message(USER, "4", read_timeout=0.3)
            await bot.send_message(USER, "5")

    asyncio.run(main())
    # The timed-out call was delivered; the failed ones were not.
    assert [s.text for s in fake.sent_to(USER)] == ["4", "5"]
    calls = fake.calls("sendMessage")
    assert [c.status for c in calls] == [429, 500, 502, 200, 200]
    assert calls[-1].time > calls[0].time


def test_telegram_limits(fake: FakeTelegram) -> None:
    async def main() -> None:
        async with make_bot(fake) as bot:
            await bot.send_message(USER, "😀" * 2048)  # 4096 UTF-16 code units: the most allowed
            with pytest.raises(BadRequest, match="Message is too long"):
                await bot.send_message(USER, "😀" * 2048 + "x")
            with pytest.raises(BadRequest, match="Message text is empty"):
                await bot.send_message(USER, " \n ")
            with pytest.raises(BadRequest, match="Button_data_invalid"):
                await bot.send_message(USER, "选", reply_markup=keyboard(("长", "数" * 22)))  # 66 bytes
            ok = await bot.send_message(USER, "选", reply_markup=keyboard(("短", "a" * 64)))
            for bad in ("<b>未关闭", "a < b", "R&D", "<br>", "<b><i>x</b></i>", "x</b>"):
                with pytest.raises(BadRequest, match="Can't parse entities"):
                    await bot.send_message(USER, bad, parse_mode=ParseMode.HTML)
            html = await bot.send_message(USER, "<b>粗</b> &lt;ok&gt; <a href='https://x.cn'>链</a>", parse_mode="HTML")
            assert html.text == "粗 <ok> 链"
            assert [(e.type, e.offset, e.length) for e in html.entities] == [("bold", 0, 1), ("text_link", 7, 1)]
            with pytest.raises(BadRequest, match="Message to edit not found"):
                await bot.edit_message_text("x", chat_id=USER, message_id=999)
            with pytest.raises(BadRequest, match="Message is not modified"):
                await bot.edit_message_reply_markup(USER, ok.message_id, reply_markup=keyboard(("短", "a" * 64)))
            edited = await bot.edit_message_reply_markup(USER, ok.message_id)
            assert isinstance(edited, object) and fake.message(USER, ok.message_id) is not None
            with pytest.raises(BadRequest, match="Message is not modified"):
                await bot.edit_message_reply_markup(USER, ok.message_id)
            with pytest.raises(BadRequest, match="Message is not modified"):
                await bot.edit_message_text("选", chat_id=USER, message_id=ok.message_id)

    asyncio.run(main())
    assert len(fake.sent_to(USER)) == 3
    assert utf16_length(fake.sent_to(USER)[0].text or "") == 4096
    stored = fake.message(USER, fake.sent_to(USER)[1].message_id)
    assert stored is not None and "reply_markup" not in stored


def test_parse_html_details() -> None:
    text, entities = parse_html(
        '<pre><code class="language-python">x = 1</code></pre>&#x1F600;<tg-spoiler>s</tg-spoiler>'
    )
    assert text == "x = 1😀s"
    assert entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
        {"type": "spoiler", "offset": 7, "length": 1},
    ]


def test_webhook_delivery_secret_and_failures(fake: FakeTelegram) -> None:
    pytest.importorskip("tornado", reason="PTB's webhook server needs python-telegram-bot[webhooks]")
    texts: list[str] = []

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        texts.append(update.message.text)
        await update.message.reply_text("收到")

    async def main() -> None:
        app = make_app(fake)
        app.add_handler(TextHandler(filters.TEXT, on_text))
        port = free_port()
        url = f"http://127.0.0.1:{port}/hook"
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_webhook(
                listen="127.0.0.1", port=port, url_path="hook", webhook_url=url, secret_token="s3cret-token"
            )
            try:
                assert (await app.bot.get_webhook_info()).url == url
                with pytest.raises(Conflict, match="webhook is active"):
                    await app.bot.get_updates()
                fake.send_text(USER, "经由 webhook")
                await asyncio.to_thread(fake.wait_sent, USER, 1, 10)
                update = {"update_id": 9999, "message": fake.message(USER, 1)}
                async with httpx.AsyncClient() as client:
                    assert (await client.post(url, json=update)).status_code == 403
                    wrong = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
                    assert (await client.post(url, json=update, headers=wrong)).status_code == 403
            finally:
                await app.updater.stop()
                await app.stop()

        # Nobody listens now: deliveries fail, are recorded, and the update waits for getUpdates.
        async with make_bot(fake) as bot:
            await bot.set_webhook(url, secret_token="s3cret-token")
            fake.send_text(USER, "没人收")
            await asyncio.to_thread(fake.wait_for, lambda f: bool(f.webhook_errors), 10)
            info = await bot.get_webhook_info()
            assert info.pending_update_count == 1 and info.last_error_message
            await bot.delete_webhook()
            assert [u.message.text for u in await bot.get_updates() if u.message] == ["没人收"]

    asyncio.run(main())
    assert texts == ["经由 webhook"]
    assert fake.calls("setWebhook")[0].params["secret_token"] == "s3cret-token"
    assert [s.text for s in fake.sent_to(USER)] == ["收到"]


def test_server_errors_are_answered_500_and_kept() -> None:
    with FakeTelegram() as fake:

        def broken(params: dict[str, Any]) -> Any:
            raise ZeroDivisionError("bug in the fake")

        fake._methods["getme"] = broken

        async def main() -> None:
            with pytest.raises(NetworkError, match="ZeroDivisionError"):
                await make_bot(fake).get_me()

        asyncio.run(main())
        assert [type(e) for e in fake.errors] == [ZeroDivisionError]
        assert fake.calls("getMe")[0].status == 500


def test_wait_for_reports_recent_calls(fake: FakeTelegram) -> None:
    async def main() -> None:
        async with make_bot(fake) as bot:
            await bot.send_message(USER, "唯一的一条")

    asyncio.run(main())
    with pytest.raises(AssertionError, match="唯一的一条"):
        fake.wait_sent(USER, 2, timeout=0.2)
    fake.wait_idle(quiet=0.1, timeout=2)


def test_stop_answers_a_long_poll_in_progress() -> None:
    fake = FakeTelegram()
    fake.start()
    fake.start()  # a second start is a no-op

    async def main() -> None:
        async with make_bot(fake) as bot:
            poll = asyncio.create_task(bot.get_updates(timeout=30))
            await asyncio.to_thread(fake.wait_for, lambda f: any(c.status == 0 for c in f.calls("getUpdates")), 5)
            started = time.monotonic()
            await asyncio.to_thread(fake.stop)
            assert time.monotonic() - started < 2
            # The poll was answered (empty), not cut off.
            assert await poll == ()

    asyncio.run(main())
    fake.stop()  # a second stop is a no-op
