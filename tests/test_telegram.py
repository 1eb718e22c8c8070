"""The Telegram bot end to end: the real Application over HTTP against a fake Bot API server.

Trained model in process, real action server, SQLite file; only Telegram's servers are faked.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.telegram.texts import ADMIN_ONLY
from fupin.models import Listing, Notification, Order, Product, Township, User, WebLink
from fupin.settings import Settings
from fupin.values import SupplyMethod
from harness.fake_telegram import FakeTelegram
from harness.telegram_app import ADMIN_ID, RunningBot
from tests.e2e import ADMIN, Bot
from tests.helpers import GOOD_ROW, write_xlsx
from tests.orders_data import place
from tests.telegram_chat import messages, press, say, titles, wait_messages, wait_text, with_bot
from web.app import create_app

CONTACT = 1001  # becomes 龙角镇's contact by registering with a code
BUYER = 2001
STRANGER = 3001


@pytest.fixture(scope="module")
def telegram(bot: Bot, fake: FakeTelegram) -> Iterator[RunningBot]:
    """The bot running by long polling against the fake server."""
    with with_bot(bot, fake) as running:
        yield running


def _register_contact(fake: FakeTelegram, user: int, township: str) -> None:
    (invite,) = say(fake, ADMIN_ID, f"/invite contact {township}")
    code = re.search(r"邀请码：([0-9A-Z]{10})", invite.text or "")
    assert code, invite.text
    (done,) = say(fake, user, f"/register {code[1]}")
    assert "登记成功" in (done.text or "") and f"{township}供货联系人" in (done.text or "")


def _listing(bot: Bot, product: str, township: str) -> Listing:
    with bot.sessions() as session:
        return session.scalars(
            select(Listing).join(Product).join(Township).where(Product.name == product, Township.name == township)
        ).first()


def test_start_menu_and_help(telegram: RunningBot, fake: FakeTelegram) -> None:
    (greeting,) = say(fake, 5001, "/start")
    assert "消费扶贫助手" in (greeting.text or "") and "哪里有土豆" in (greeting.text or "")
    public = fake.calls("setMyCommands")[0].params["commands"]
    assert {c["command"] for c in public} == {"start", "help", "orders", "cancel", "register"}
    admin_menus = [c for c in fake.calls("setMyCommands") if c.params.get("scope", {}).get("chat_id") == ADMIN_ID]
    assert admin_menus and "invite" in {c["command"] for c in admin_menus[0].params["commands"]}
    (helped,) = say(fake, 5001, "/help")
    assert "哪里有土豆" in (helped.text or "")


def test_buyer_orders_with_buttons_and_contact_confirms_by_push(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot
) -> None:
    _register_contact(fake, CONTACT, "龙角镇")
    potato = _listing(bot, "土豆", "龙角镇")
    stock = potato.remaining_quantity
    (found,) = say(fake, BUYER, "哪里有洋芋")
    number = re.search(r"(\d+)\. 龙角镇张家村", found.text or "")
    assert number and f"订购{number[1]}" in titles(found)
    (asked,) = press(fake, BUYER, found, f"订购{number[1]}")
    # The pressed keyboard is retired and the choice shown, so it cannot be pressed twice.
    edit = fake.calls("editMessageText")[-1]
    assert edit.params["message_id"] == found.message_id and f"👉 订购{number[1]}" in edit.params["text"]
    assert "reply_markup" not in edit.params or not edit.params["reply_markup"]
    assert "要订多少" in (asked.text or "")
    assert "采购单位" in (say(fake, BUYER, "30斤")[0].text or "")
    (phone_question,) = say(fake, BUYER, "县人民医院食堂")
    assert "电话" in (phone_question.text or "")
    assert phone_question.reply_markup and phone_question.reply_markup["keyboard"][0][0]["request_contact"]
    before = len(messages(fake, BUYER))
    fake.share_contact(BUYER, "+8617723635558")
    (methods,) = wait_messages(fake, BUYER, before + 1)[before:]
    assert set(titles(methods)) == {"送货上门", "上门自提"}
    (summary,) = press(fake, BUYER, methods, "送货上门")
    assert "30斤" in (summary.text or "") and "17723635558" in (summary.text or "")
    (done,) = press(fake, BUYER, summary, "确认下单")
    assert "下单成功" in (done.text or "")
    order_no = re.search(r"XF\d{6}[0-9A-F]{6}", done.text or "")
    assert order_no

    # The contact gets the new order at once, with buttons, and confirms it.
    push = wait_text(fake, CONTACT, order_no[0])
    assert "新订单" in (push.text or "") and titles(push) == ["确认接单", "拒绝"]
    (confirmed,) = press(fake, CONTACT, push, "确认接单")
    assert "已确认" in (confirmed.text or "")
    status = wait_text(fake, BUYER, "已被供货方确认")
    assert order_no[0] in (status.text or "")
    with bot.sessions() as session:
        order = session.scalars(select(Order).where(Order.order_no == order_no[0])).one()
        assert (order.status, order.quantity, order.phone) == ("已确认", Decimal(30), "17723635558")
    assert _listing(bot, "土豆", "龙角镇").remaining_quantity == stock - 30


def test_stock_update_by_registered_contact_and_refused_for_a_stranger(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot
) -> None:
    if not _is_contact(bot, CONTACT):
        _register_contact(fake, CONTACT, "龙角镇")
    (readback,) = say(fake, CONTACT, "蜂蜜还剩80斤")
    assert "80斤" in (readback.text or "") and "确认修改" in titles(readback)
    (applied,) = press(fake, CONTACT, readback, "确认修改")
    assert "已" in (applied.text or "")
    assert _listing(bot, "蜂蜜", "龙角镇").remaining_quantity == Decimal(80)
    (refused,) = say(fake, STRANGER, "蜂蜜还剩10斤")
    assert "供货联系人" in (refused.text or "") or "没有权限" in (refused.text or "")
    assert _listing(bot, "蜂蜜", "龙角镇").remaining_quantity == Decimal(80)


def _is_contact(bot: Bot, user_id: int) -> bool:
    with bot.sessions() as session:
        user = session.scalars(select(User).where(User.channel == "telegram", User.external_id == str(user_id))).first()
        return user is not None and user.role == "contact"


def test_registration_codes_are_single_use_and_checked(telegram: RunningBot, fake: FakeTelegram) -> None:
    (usage,) = say(fake, 6001, "/register")
    assert "邀请码" in (usage.text or "")
    (wrong,) = say(fake, 6001, "/register ABCDEFGHJK")
    assert "不对" in (wrong.text or "")
    (invite,) = say(fake, ADMIN_ID, "/invite contact 泥溪镇")
    code = re.search(r"邀请码：([0-9A-Z]{10})", invite.text or "")
    assert code
    assert "泥溪镇供货联系人" in (say(fake, 6001, f"/start {code[1]}")[0].text or "")  # deep link
    assert "已经用过" in (say(fake, 6002, f"/register {code[1]}")[0].text or "")
    (refused,) = say(fake, 6002, "/invite contact 龙角镇")
    assert "只对县级管理员开放" in (refused.text or "")


def test_document_import_by_admin_and_scoped_for_a_contact(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot, tmp_path: Path
) -> None:
    rows = [
        ("云阳县龙角镇张家村", "赵某某", "红薯", "500斤", "1.2元/斤", "送货上门", "", "李xx 17723635558", ""),
        ("云阳县泥溪镇", "钱某某", "黑木耳", "abc", "60元/斤", "上门自提", "", "张xx 13800000000", ""),
    ]
    path = write_xlsx(tmp_path / "龙角镇附件1.xlsx", rows)
    before = len(messages(fake, ADMIN_ID))
    fake.send_document(ADMIN_ID, path)
    received, report = wait_messages(fake, ADMIN_ID, before + 2)[before:]
    assert "正在导入" in (received.text or "")
    assert (
        "新增1条" in (report.text or "") and "第6行" in (report.text or "") and "E列“计划销量”" in (report.text or "")
    )
    assert _listing(bot, "红薯", "龙角镇") is not None

    if not _is_contact(bot, CONTACT):
        _register_contact(fake, CONTACT, "龙角镇")
    other = write_xlsx(tmp_path / "别处.xlsx", [("云阳县泥溪镇", *GOOD_ROW[1:])])
    before = len(messages(fake, CONTACT))
    fake.send_document(CONTACT, other)
    report = wait_messages(fake, CONTACT, before + 2)[-1]
    assert "不在您负责的范围内" in (report.text or "")
    say(fake, STRANGER, "hi")  # a stranger who has talked to the bot before
    before = len(messages(fake, STRANGER))
    fake.send_document(STRANGER, path)
    assert "供货联系人和县级管理员" in (wait_messages(fake, STRANGER, before + 1)[-1].text or "")


def test_admin_exports_the_catalogue_as_a_file(telegram: RunningBot, fake: FakeTelegram) -> None:
    before = len(messages(fake, ADMIN_ID))
    fake.send_text(ADMIN_ID, "/export")
    document = wait_messages(fake, ADMIN_ID, before + 2)[-1]
    assert document.document_name and document.document_name.endswith(".xlsx")
    assert document.document_bytes and document.document_bytes[:2] == b"PK"  # an xlsx is a zip
    assert "只对县级管理员开放" in (say(fake, STRANGER, "/export")[0].text or "")


def test_push_to_a_blocked_contact_is_recorded_undelivered(telegram: RunningBot, fake: FakeTelegram, bot: Bot) -> None:
    _register_contact(fake, 1101, "宝坪镇")
    fake.block(1101)
    cabbage = _listing(bot, "白菜", "宝坪镇")
    answer = say(fake, 2101, f'/order_product{{"listing_id": "{cabbage.id}"}}')
    assert "要订多少" in (answer[0].text or "")
    say(fake, 2101, "20斤")
    say(fake, 2101, "县中医院食堂")
    methods = say(fake, 2101, "17723630001")[0]
    summary = press(fake, 2101, methods, "送货上门")[0] if "送货上门" in titles(methods) else methods
    done = press(fake, 2101, summary, "确认下单")[0]
    assert "下单成功" in (done.text or "")

    def undelivered(_fake: FakeTelegram) -> bool:
        with bot.sessions() as session:
            rows = session.scalars(select(Notification).join(User).where(User.external_id == "1101")).all()
            return any(r.status == "undelivered" for r in rows)

    fake.wait_for(undelivered, timeout=30)
    with bot.sessions() as session:
        row = session.scalars(select(Notification).join(User).where(User.external_id == "1101")).all()[-1]
        assert row.attempts == 1 and "blocked" in row.last_error
    # The bot goes on serving others.
    assert "土豆" in (say(fake, 2102, "哪里有土豆")[0].text or "")


def test_a_flood_from_one_user_is_limited_and_others_are_served(telegram: RunningBot, fake: FakeTelegram) -> None:
    burst = telegram.application.bot_data.runtime.limiter.burst
    for n in range(40):
        fake.send_text(7001, f"哪里有土豆{n}")
    fake.wait_idle(7001, quiet=2.0, timeout=120)
    answers = [m.text or "" for m in messages(fake, 7001)]
    assert answers.count("您发送得太快了，请稍等片刻再发。") == 1
    assert len(answers) <= burst + 2
    assert "土豆" in (say(fake, 7002, "哪里有土豆")[0].text or "")


# Issue #14 conversations through Telegram, the database checked afterwards.


def _telegram_orders(bot: Bot, user: int) -> list[Order]:
    with bot.sessions() as session:
        return list(
            session.scalars(select(Order).join(User).where(User.channel == "telegram", User.external_id == str(user)))
        )


def test_search_in_one_township_then_order_elsewhere(telegram: RunningBot, fake: FakeTelegram, bot: Bot) -> None:
    bacon = _listing(bot, "腊肉", "龙角镇")
    stock = bacon.remaining_quantity
    assert "故陵镇" in (say(fake, 8101, "故陵镇有什么特产")[0].text or "")
    (asked,) = say(fake, 8101, "我要给县人民医院食堂订30斤腊肉")
    assert "电话" in (asked.text or "") and "请问要买什么产品" not in (asked.text or "")
    (summary,) = say(fake, 8101, "13912345678")
    assert "腊肉（龙角镇" in (summary.text or "")
    (done,) = press(fake, 8101, summary, "确认下单")
    assert "下单成功" in (done.text or "")
    (order,) = _telegram_orders(bot, 8101)
    assert (order.listing_id, order.quantity) == (bacon.id, Decimal(30))
    assert _listing(bot, "腊肉", "龙角镇").remaining_quantity == stock - 30


def test_saying_no_leaves_the_order_form(telegram: RunningBot, fake: FakeTelegram, bot: Bot) -> None:
    assert "请选一家" in (say(fake, 8102, "我要买蜂蜜")[0].text or "")
    (left,) = say(fake, 8102, "我不想订了")
    assert "已取消" in (left.text or "")
    assert "没有进行中" in (say(fake, 8102, "取消")[0].text or "")
    assert not _telegram_orders(bot, 8102)


def test_an_unknown_product_offers_close_ones(telegram: RunningBot, fake: FakeTelegram) -> None:
    (unknown,) = say(fake, 8103, "有没有鸭蛋")
    assert "目录里暂时没有鸭蛋" in (unknown.text or "") and "县农业农村委" in (unknown.text or "")
    (close,) = press(fake, 8103, unknown, "哪里有土鸡蛋")
    assert "泥溪镇" in (close.text or "") and "目录里暂时没有" not in (close.text or "")


def test_a_unit_with_a_long_unpaid_order_is_asked_to_pay_first(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot
) -> None:
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update

    from fupin.orders.lifecycle import change_order, place_order
    from fupin.outreach.users import identify
    from fupin.values import Quantity

    unit = "县疾控中心食堂"  # its own unit and orderer: the module's other tests never order for it
    potato = _listing(bot, "土豆", "龙角镇")
    with bot.sessions() as session, session.begin():
        old, _offer = place_order(
            session,
            sender_id="console:cdc-buyer",
            listing_id=potato.id,
            quantity=Quantity(Decimal(10), "斤"),
            buyer_name=unit,
            phone="17723635558",
            supply_method=SupplyMethod.DELIVERY,
        )
        change_order(session, old.order_no, "deliver", identify(session, ADMIN))
        long_ago = datetime.now(timezone.utc) - timedelta(days=75)
        session.execute(update(Order).where(Order.id == old.id).values(updated_at=long_ago))
    held, _next = say(fake, 8105, f"我要给{unit}订30斤腊肉", expect=2)
    assert f"{unit}有1笔订单送达超过60天还没有付款（{old.order_no}）" in (held.text or "")
    assert "请先结清货款" in (held.text or "")
    (cancelled,) = say(fake, 8105, "取消")
    assert "已取消" in (cancelled.text or "")
    assert not _telegram_orders(bot, 8105)


def test_the_buyer_rates_a_delivered_order_with_the_star_buttons(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot
) -> None:
    from fupin.models import Rating

    order_no = place(bot.sessions, "telegram:8108", _listing(bot, "蜂蜜", "龙角镇").id, deliver_as=ADMIN)
    delivered = wait_text(fake, 8108, "已送达")
    assert order_no in (delivered.text or "") and titles(delivered) == ["1星", "2星", "3星", "4星", "5星", "质量投诉"]
    (thanks,) = press(fake, 8108, delivered, "4星")
    assert f"订单 {order_no} 谢谢您的评价：★★★★☆（4星）" in (thanks.text or "")
    (changed,) = say(fake, 8108, f"给订单{order_no}打5星，蜂蜜很纯")
    assert "评价已改为★★★★★（5星），“蜂蜜很纯”已转告供货方" in (changed.text or ""), changed.text
    with bot.sessions() as session:
        (rating,) = session.scalars(select(Rating).join(Order).where(Order.order_no == order_no)).all()
        assert (rating.stars, rating.words) == (5, "蜂蜜很纯")


def test_a_contact_confirms_then_ships_by_post_with_the_buttons_and_the_buyer_gets_the_number(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot
) -> None:
    from fupin.models import Shipment

    order_no = place(bot.sessions, "telegram:8107", _listing(bot, "蜂蜜", "龙角镇").id)
    (confirmed,) = say(fake, ADMIN_ID, f"确认订单{order_no}")
    assert f"订单 {order_no} 已确认" in (confirmed.text or "")
    assert f"邮政寄出 {order_no}" in titles(confirmed)
    (asked,) = press(fake, ADMIN_ID, confirmed, f"邮政寄出 {order_no}")
    assert "请发邮政单号" in (asked.text or "")
    (done,) = say(fake, ADMIN_ID, "9876543210123")
    assert f"订单 {order_no} 已送达（邮政 单号9876543210123）" in (done.text or ""), done.text
    pushed = wait_text(fake, 8107, "已发货")
    assert "邮政 单号9876543210123" in (pushed.text or "") and titles(pushed)[-2:] == ["5星", "质量投诉"]
    with bot.sessions() as session:
        shipment = session.scalars(select(Shipment).join(Order).where(Order.order_no == order_no)).one()
        assert (shipment.carrier, shipment.tracking_no) == ("邮政", "9876543210123")


def test_a_buyer_complains_with_a_photo_the_contact_answers_and_the_buyer_settles_it(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot
) -> None:
    from fupin.models import Complaint, ComplaintEvent
    from fupin.outreach.users import bind_user
    from fupin.values import Role

    buyer, contact, market = 8109, 8201, 8202  # this test's own people
    with bot.sessions() as session, session.begin():
        bind_user(session, f"telegram:{contact}", Role.CONTACT, township="清水土家族乡")
        bind_user(session, f"telegram:{market}", Role.MARKET)
    place(bot.sessions, f"telegram:{buyer}", _listing(bot, "蜂蜜", "清水土家族乡").id, deliver_as=ADMIN)
    delivered = wait_text(fake, buyer, "已送达")
    (asked,) = press(fake, buyer, delivered, "质量投诉")
    assert "请说说是什么问题" in (asked.text or ""), asked.text
    (read_back,) = say(fake, buyer, "蜂蜜是掺假的，全是糖水")
    assert "类别：以次充好" in (read_back.text or "") and "问题：蜂蜜是掺假的，全是糖水" in (read_back.text or "")
    before = len(messages(fake, buyer))
    photo_id = fake.send_photo(buyer, b"\xff\xd8\xff\xe0 a small jpeg")
    (attached,) = wait_messages(fake, buyer, before + 1)[before:]
    assert "照片已附上" in (attached.text or "")
    (filed,) = press(fake, buyer, attached, "确认提交")
    number = re.search(r"编号 (TS\w+)", filed.text or "")
    assert number, filed.text
    pushed = wait_text(fake, contact, f"新的质量投诉 投诉 {number[1]}")
    assert "【以次充好】" in (pushed.text or "") and "（附照片）" in (pushed.text or "") and titles(pushed) == ["受理"]
    # The photo goes with it: sent again by its file id, after the text.
    fake.wait_for(lambda f: any(m.method == "sendPhoto" for m in f.sent_to(contact)))
    (forwarded,) = [m for m in fake.sent_to(contact) if m.method == "sendPhoto"]
    assert forwarded.document_bytes == b"\xff\xd8\xff\xe0 a small jpeg"
    wait_text(fake, market, f"新的质量投诉 投诉 {number[1]}")
    (taken,) = press(fake, contact, pushed, "受理")
    assert "已受理" in (taken.text or "")
    (answered,) = say(fake, contact, f"{number[1]}已退款：退款140元")
    assert "已把处理结果告诉采购方" in (answered.text or "")
    result = wait_text(fake, buyer, "有了处理结果：退款140元")
    assert titles(result) == ["确认解决", "不满意，升级"]
    (settled,) = press(fake, buyer, result, "确认解决")
    assert "投诉已结案" in (settled.text or "")
    with bot.sessions() as session:
        complaint = session.scalars(select(Complaint).where(Complaint.complaint_no == number[1])).one()
        assert (complaint.status, complaint.category, complaint.photo_file_id) == ("已结案", "以次充好", photo_id)
        events = session.scalars(
            select(ComplaintEvent.to_status)
            .where(ComplaintEvent.complaint_id == complaint.id)
            .order_by(ComplaintEvent.id)
        ).all()
        assert events == ["待处理", "处理中", "已解决", "已结案"]


def test_two_failed_answers_get_a_way_out(telegram: RunningBot, fake: FakeTelegram, bot: Bot) -> None:
    potato = _listing(bot, "土豆", "龙角镇")
    say(fake, 8104, f'/order_product{{"listing_id": "{potato.id}"}}')
    say(fake, 8104, f"{int(potato.remaining_quantity) + 1000}斤", expect=2)  # "only … left", the question
    _refused, third = say(fake, 8104, f"{int(potato.remaining_quantity) + 2000}斤", expect=2)
    assert set(titles(third)) == {"取消", "重新说"} and "要订多少斤？" not in (third.text or "")
    (cancelled,) = press(fake, 8104, third, "取消")
    assert "已取消" in (cancelled.text or "")
    assert not _telegram_orders(bot, 8104)


def test_an_admin_gets_a_one_time_console_link_by_chat_and_others_do_not(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot
) -> None:
    (refused,) = say(fake, 5101, "/web")
    assert refused.text == ADMIN_ONLY
    with bot.sessions() as session:
        links_before = session.scalar(select(func.count()).select_from(WebLink))
    (sent,) = say(fake, ADMIN_ID, "/web")
    text = sent.text or ""
    found = re.search(r"(http://127\.0\.0\.1:\d+)/login/(\S+)", text)
    assert found and "一次有效" in text and "15分钟" in text, text
    # No link preview: a preview fetch must not be what opens the link.
    assert fake.calls("sendMessage")[-1].params["link_preview_options"]["is_disabled"] is True
    token = found[2]
    with bot.sessions() as session:
        assert session.scalar(select(func.count()).select_from(WebLink)) == links_before + 1
        assert token not in set(session.scalars(select(WebLink.token_hash)))  # only its hash is kept

    async def use(client: TestClient) -> None:
        opened = await client.post("/login", data={"token": token}, allow_redirects=False)
        assert opened.status == 303, await opened.text()
        home = await client.get("/")
        assert home.status == 200 and "总览" in await home.text()
        again = await client.post("/login", data={"token": token}, allow_redirects=False)
        assert again.status == 403 and "已经用过" in await again.text()

    async def run() -> None:
        url = str(bot.sessions.kw["bind"].url)
        client = TestClient(TestServer(create_app(Settings(database_url=url), bot.sessions)))
        await client.start_server()
        try:
            await use(client)
        finally:
            await client.close()

    asyncio.run(run())


def _listing_at(bot: Bot, product: str, place: str) -> tuple[int, Decimal]:
    """The id and stock left of the listing of a product at a place, as search results name it."""
    with bot.sessions() as session:
        listings = session.scalars(select(Listing).join(Product).where(Product.name == product))
        found = next(li for li in listings if li.place_label == place)
        return found.id, found.remaining_quantity


def _order_by_typed_answers(fake: FakeTelegram, user: int, quantity: str, unit: str, method: str) -> str:
    """Answer the order form's questions after the listing is chosen; returns the confirmation's text."""
    assert "采购单位" in (say(fake, user, quantity)[0].text or "")
    assert "电话" in (say(fake, user, unit)[0].text or "")
    (methods,) = say(fake, user, "13912345678")
    (summary,) = press(fake, user, methods, method)
    assert "请核对订单" in (summary.text or "")
    (done,) = press(fake, user, summary, "确认下单")
    return done.text or ""


def test_a_typed_pick_after_a_search_orders_that_result(telegram: RunningBot, fake: FakeTelegram, bot: Bot) -> None:
    # 8110: this test's own buyer (8105 must have no order in the unpaid-order test, whatever the order).
    (found,) = say(fake, 8110, "哪里有黑木耳")
    second = re.search(r"2\. (\S+) 黑木耳", found.text or "")
    assert second, found.text
    listing_id, stock = _listing_at(bot, "黑木耳", second[1])
    (asked,) = say(fake, 8110, "就要第二个")
    assert f"{second[1]}的黑木耳还剩" in (asked.text or "") and "要订多少" in (asked.text or "")
    assert "下单成功" in _order_by_typed_answers(fake, 8110, "20斤", "县教委机关食堂", "送货上门")
    (order,) = _telegram_orders(bot, 8110)
    assert (order.listing_id, order.quantity, order.supply_method) == (listing_id, Decimal(20), SupplyMethod.DELIVERY)
    assert _listing_at(bot, "黑木耳", second[1])[1] == stock - 20


def test_a_typed_pick_in_the_order_form_orders_from_that_place(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot
) -> None:
    (offered,) = say(fake, 8106, "我要买蜂蜜")
    second = re.search(r"2\. (\S+) ", offered.text or "")
    assert "请选一家" in (offered.text or "") and second, offered.text
    listing_id, stock = _listing_at(bot, "蜂蜜", second[1])
    (asked,) = say(fake, 8106, "选第二个")
    assert f"{second[1]}的蜂蜜还剩" in (asked.text or "")
    assert "下单成功" in _order_by_typed_answers(fake, 8106, "5斤", "个人", "电商")
    (order,) = _telegram_orders(bot, 8106)
    assert (order.listing_id, order.quantity) == (listing_id, Decimal(5))
    assert _listing_at(bot, "蜂蜜", second[1])[1] == stock - 5
