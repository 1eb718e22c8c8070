"""Quality complaints by chat: the buyer's complaint gathered and read back, and the handlers' answers.

On the trained model, the actions in process and the seeded database (the `fresh_bot` fixture).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fupin.complaints.pushes import ComplaintOp
from fupin.complaints.wording import category_in, complaint_no_in, complaint_op_in, complaint_words, note_in
from fupin.models import Complaint, ComplaintEvent, Listing, Order, Product, Township
from fupin.outreach.users import bind_user
from fupin.values import ComplaintCategory, Role
from nlu.references import referenced_intent
from tests.e2e import CONTACT_LJ, Bot
from tests.orders_data import place

BUYER = "console:complaint-buyer"
MARKET = "console:market-1"


@pytest.mark.parametrize(
    ("text", "category", "words"),
    [
        ("XF261204E407F3的土豆有一半是烂的", ComplaintCategory.QUALITY, "土豆有一半是烂的"),
        ("订单XF261204E407F3少了5斤", ComplaintCategory.SHORT, "少了5斤"),
        ("收到的腊肉是以次充好，我要投诉", ComplaintCategory.INFERIOR, "收到的腊肉是以次充好"),
        ("货一直没送到，我要投诉", ComplaintCategory.NOT_DELIVERED, "货一直没送到"),
        ("包装太简陋了", None, "包装太简陋了"),
        ("我要投诉", None, ""),
    ],
)
def test_a_complaint_message_gives_its_category_and_the_buyers_words(
    text: str, category: ComplaintCategory | None, words: str
) -> None:
    assert (category_in(text), complaint_words(text)) == (category, words)


def test_a_handlers_message_gives_the_complaint_what_to_do_and_the_note() -> None:
    said = "TS261204K7QM已处理：补发10斤"
    assert (complaint_no_in(said), complaint_op_in(said), note_in(said)) == (
        "TS261204K7QM", ComplaintOp.ANSWER, "补发10斤"
    )  # fmt: skip
    assert complaint_op_in("ts261204k7qm不满意，还是没补发") is ComplaintOp.ESCALATE
    assert complaint_op_in("TS261204K7QM结案：属实") is ComplaintOp.CLOSE
    assert complaint_op_in("TS261204K7QM解决了") is ComplaintOp.SETTLE


def _delivered(bot: Bot, product: str = "土豆", township: str = "龙角镇", deliver: bool = True) -> str:
    with bot.sessions() as session:
        listing = session.scalars(
            select(Listing).join(Product).join(Township).where(Product.name == product, Township.name == township)
        ).first()
        assert listing is not None
    return place(bot.sessions, BUYER, listing.id, amount=10, deliver_as=CONTACT_LJ if deliver else None)


def _complaints(bot: Bot) -> list[tuple[str, str, str, str, str]]:
    """(number, order, category, words, status) of every complaint."""
    with bot.sessions() as session:
        query = select(Complaint.complaint_no, Order.order_no, Complaint.category, Complaint.text, Complaint.status)
        return [tuple(row) for row in session.execute(query.join(Order, Complaint.order_id == Order.id))]


@pytest.mark.usefixtures("fresh_bot")
def test_a_buyer_names_the_order_and_the_problem_in_one_message_and_confirms(bot: Bot) -> None:
    order_no = _delivered(bot)
    read_back = bot.say(BUYER, f"{order_no}的土豆有一半是烂的")
    assert "请确认投诉" in read_back.text and "类别：质量" in read_back.text, read_back.text
    assert "问题：土豆有一半是烂的" in read_back.text and order_no in read_back.text
    assert not _complaints(bot)  # nothing recorded before confirmation
    done = bot.say(BUYER, read_back.payload("确认提交"))
    assert "投诉已提交，编号 TS" in done.text
    ((number, complained, category, words, status),) = _complaints(bot)
    assert (complained, category, words, status) == (order_no, "质量", "土豆有一半是烂的", "待处理")
    assert number in done.text


@pytest.mark.usefixtures("fresh_bot")
def test_with_several_orders_the_buyer_picks_one_says_what_is_wrong_and_can_cancel(bot: Bot) -> None:
    first, second = _delivered(bot), _delivered(bot, "蜂蜜")
    pending = _delivered(bot, "腊肉", deliver=False)  # not confirmed yet: nothing to complain about
    which = bot.say(BUYER, "我要投诉")
    assert "要投诉哪个订单" in which.text
    titles = [t for t, _p in which.buttons]
    assert len(titles) == 2 and any(first in t for t in titles) and any(second in t for t in titles)
    assert not any(pending in t for t in titles)
    asked = bot.say(BUYER, which.payload(second))
    assert "请说说是什么问题" in asked.text
    kind = bot.say(BUYER, "包装破了好几罐")
    assert "类别：质量" in kind.text and "问题：包装破了好几罐" in kind.text, kind.text
    assert "已取消" in bot.say(BUYER, "取消").text
    assert not _complaints(bot)
    # A problem without a known kind gets the kinds as buttons.
    bot.say(BUYER, f"投诉订单{first}")
    buttons = bot.say(BUYER, "箱子上的标签写错了")
    assert {t for t, _p in buttons.buttons} == {c.value for c in ComplaintCategory}
    read_back = bot.say(BUYER, buttons.payload("其他"))
    assert "类别：其他" in read_back.text and "问题：箱子上的标签写错了" in read_back.text
    assert "投诉已提交" in bot.say(BUYER, "确认").text
    assert [(order, category) for _n, order, category, _w, _s in _complaints(bot)] == [(first, "其他")]


@pytest.mark.usefixtures("fresh_bot")
def test_an_unconfirmed_order_cannot_be_complained_about_and_a_second_complaint_is_refused(bot: Bot) -> None:
    pending = _delivered(bot, deliver=False)
    refused = bot.say(BUYER, f"{pending}的土豆有一半是烂的")
    assert "还在等供货方确认" in refused.text and "不能投诉" in refused.text
    order_no = _delivered(bot, "蜂蜜")
    bot.say(BUYER, f"{order_no}的蜂蜜是掺假的")
    bot.say(BUYER, "确认")
    ((number, _order, category, _words, _status),) = _complaints(bot)
    assert category == "以次充好"
    again = bot.say(BUYER, f"{order_no}的蜂蜜还是有问题")
    assert f"已有投诉 {number} 还没有结案" in again.text


@pytest.mark.usefixtures("fresh_bot")
def test_the_contact_answers_the_buyer_escalates_and_market_staff_close_it(bot: Bot) -> None:
    with bot.sessions() as session, session.begin():
        bind_user(session, MARKET, Role.MARKET)
    order_no = _delivered(bot)
    bot.say(BUYER, f"{order_no}少了3斤")
    bot.say(BUYER, "确认")
    ((number, _order, _category, _words, _status),) = _complaints(bot)
    answered = bot.say(CONTACT_LJ, f"{number}已处理：补发3斤")
    assert "已把处理结果告诉采购方：补发3斤" in answered.text and "已解决" in answered.text
    assert f"投诉 {number} 由供货方和县市场监管处理" in bot.say(BUYER, f"{number}结案：没事").text
    escalated = bot.say(BUYER, f"{number}不满意，补发的也是烂的")
    assert "已升级到县市场监管" in escalated.text
    closed = bot.say(MARKET, f"{number}结案：情况属实，已责令供货方退款")
    assert "已结案。结论：情况属实,已责令供货方退款" in closed.text, closed.text
    with bot.sessions() as session:
        events = session.scalars(
            select(ComplaintEvent.to_status)
            .join(Complaint, ComplaintEvent.complaint_id == Complaint.id)
            .where(Complaint.complaint_no == number)
            .order_by(ComplaintEvent.id)
        ).all()
    assert events == ["待处理", "处理中", "已解决", "已升级", "已结案"]


@pytest.mark.parametrize(
    ("text", "entities", "predicted", "expected"),
    [
        ("TS261204K7QM不满意", [{"entity": "complaint_no"}], "nlu_fallback", "manage_complaint"),
        ("XF261204E407F3少了3斤", [{"entity": "order_no"}, {"entity": "quantity"}], "inform", "complain"),
        ("XF261204E407F3的蜂蜜还是有问题", [{"entity": "order_no"}], "manage_order", "complain"),
        ("XF261204E407F3的蜂蜜还是有问题", [{"entity": "order_no"}], "help", "complain"),
        ("XF261204E407F3的蜂蜜还是有问题", [{"entity": "order_no"}], "complain", "complain"),
        ("拒绝XF261204E407F3，货不够了", [{"entity": "order_no"}], "manage_order", "manage_order"),
        ("订单XF241203AB12CD发货了", [{"entity": "order_no"}], "check_orders", "manage_order"),
        ("查一下XF241203AB12CD发货没", [{"entity": "order_no"}], "check_orders", None),
        ("取消订单XF241203AB12CD", [{"entity": "order_no"}], "cancel", None),
        ("我的订单XF241203AB12CD怎么还没发货", [{"entity": "order_no"}], "check_orders", None),
        ("XF241203AB12CD什么时候发货？", [{"entity": "order_no"}], "manage_order", None),
        ("TS261204K7QM已处理：补发3斤", [{"entity": "complaint_no"}], "manage_complaint", "manage_complaint"),
        ("XF261205FACE12打2星，土豆有点不新鲜", [{"entity": "order_no"}], "inform", None),
        ("土豆有一半是烂的", [], "inform", None),
        ('/manage_order{"order_no": "XF261204E407F3"}', [{"entity": "order_no"}], "manage_order", None),
        # Nothing but a tracking number (after 邮政寄出): shipping the order, whatever the model read.
        ("9876543210123", [], "nlu_fallback", "manage_order"),
        ("单号是 EA987654321CN", [], "choose_listing", "manage_order"),
        ("顺丰 SF1234567890123", [], "inform", "manage_order"),
        ("17723635558", [], "inform", None),  # a phone is no tracking number
        ("120", [], "set_union_members", None),
    ],
)
def test_a_named_complaint_or_an_orders_problem_decides_the_intent(
    text: str, entities: list[dict[str, str]], predicted: str, expected: str | None
) -> None:
    assert referenced_intent(text, entities, predicted) == expected
