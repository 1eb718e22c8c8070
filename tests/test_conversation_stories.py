"""The conversation stories played through the running assistant, actions in process.

`rasa test` (make test) runs the stories of tests/stories/ without the custom actions: it checks intents
and the rules' next actions only. Here those and the ones `rasa test` cannot run (tests/conversations/:
across a new session) are played: every user text is sent to the assistant, the actions it ran in each
turn are compared with the story's, and the answers and the database are checked where a story says so
(CHECKS).
A story's role is the prefix of its name: buyer, township (龙角镇), township nixi (泥溪镇), village
(龙角镇张家村) or admin. "/session_start" starts a new session, as the next day does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from fupin.models import Listing, Order, User
from fupin.outreach.users import bind_user
from fupin.values import Role
from tests.e2e import ADMIN, CONTACT_LJ, CONTACT_NX, Bot, Said

STORY_FOLDERS = (Path(__file__).parent / "stories", Path(__file__).parent / "conversations")
VILLAGE_CONTACT = "console:contact-zhangjia"
SENDERS = {"township": CONTACT_LJ, "township nixi": CONTACT_NX, "village": VILLAGE_CONTACT, "admin": ADMIN}
# Rasa's entity annotation in a story's user text: [text](entity) or [text]{"entity": ...}.
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass
class Turn:
    """One user text and the actions the story expects in answer (action_listen left out)."""

    text: str
    actions: list[str] = field(default_factory=list)


@dataclass
class Story:
    """A conversation of one role."""

    name: str
    turns: list[Turn]

    @property
    def role(self) -> str:
        """The role before the name's colon."""
        return self.name.split(":", 1)[0]


def load_stories() -> list[Story]:
    """Every story with user text in the story folders."""
    stories = []
    for path in sorted(p for folder in STORY_FOLDERS for p in folder.glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("stories", []):
            turns: list[Turn] = []
            for step in item["steps"]:
                if "user" in step:
                    turns.append(Turn(_ANNOTATION.sub(r"\1", str(step["user"])).strip()))
                elif "action" in step and turns:
                    turns[-1].actions.append(step["action"])
            if turns:
                stories.append(Story(item["story"], turns))
    return stories


Check = Callable[[Bot, str, list[Said]], None]
CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Check], Check]:
    """Register what a story's answers and database must show afterwards."""

    def register(function: Check) -> Check:
        CHECKS[name] = function
        return function

    return register


@dataclass(frozen=True)
class Placed:
    """An order as recorded, with its buyer's name."""

    order_no: str
    listing_id: int
    quantity: Decimal
    buyer_name: str
    phone: str


def _orders(bot: Bot, sender: str) -> list[Placed]:
    with bot.sessions() as session:
        orders = session.scalars(
            select(Order).join(User).where(User.external_id == sender.split(":", 1)[1]).order_by(Order.id)
        )
        return [Placed(o.order_no, o.listing_id, o.quantity, o.buyer.name, o.phone) for o in orders]


def _remaining(bot: Bot, listing_id: int) -> Decimal:
    with bot.sessions() as session:
        listing = session.get(Listing, listing_id)
        assert listing is not None
        return listing.remaining_quantity


ALL = load_stories()


def test_there_are_enough_conversations_of_every_role() -> None:
    assert len(ALL) >= 40
    assert {s.role for s in ALL} >= {"buyer", "township", "village", "admin"}
    assert all(s.name in {t.name for t in ALL} for s in ALL if s.name in CHECKS)
    assert set(CHECKS) <= {s.name for s in ALL}


@pytest.mark.parametrize("story", ALL, ids=[s.name for s in ALL])
def test_story(fresh_bot: Bot, story: Story) -> None:
    bot = fresh_bot
    sender = SENDERS.get(story.role, f"console:buyer-{ALL.index(story)}")
    if sender == VILLAGE_CONTACT:
        with bot.sessions() as session, session.begin():
            bind_user(session, VILLAGE_CONTACT, Role.CONTACT, township="龙角镇", village="张家村")
    answers = []
    for number, turn in enumerate(story.turns, 1):
        said = bot.say(sender, turn.text)
        answers.append(said)
        ran = _actions_of_last_turn(bot, sender)
        assert ran == turn.actions, f"turn {number} {turn.text!r}: ran {ran}, answered {said.text!r}"
    if story.name in CHECKS:
        CHECKS[story.name](bot, sender, answers)


def _actions_of_last_turn(bot: Bot, sender: str) -> list[str]:
    # The whole conversation: a turn that started a new session began in the one before.
    tracker = bot.run(bot.trackers.retrieve_full_tracker(sender))
    assert tracker is not None
    events = list(tracker.events)
    last_user = max(i for i, e in enumerate(events) if type(e).__name__ == "UserUttered")
    names = [getattr(e, "action_name", None) for e in events[last_user + 1 :] if type(e).__name__ == "ActionExecuted"]
    return [n for n in names if n and n != "action_listen"]


# What the stories must show beyond the actions taken.


@check("buyer: search in one township, then order elsewhere")
def _search_then_elsewhere(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "故陵镇" in answers[0].text
    assert "暂时没有货" not in answers[1].text and "请问要买什么产品" not in answers[1].text
    assert "电话" in answers[1].text
    assert "腊肉（龙角镇" in answers[2].text and "30斤 × 45元/斤" in answers[2].text
    assert "下单成功" in answers[3].text
    (order,) = _orders(bot, sender)
    assert (order.listing_id, order.quantity, order.buyer_name) == (4, Decimal(30), "县人民医院食堂")


@check("buyer: the only stock is in another township")
def _only_elsewhere(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "泥溪镇暂时没有腊肉的货，龙角镇有" in answers[0].text
    assert "腊肉（龙角镇" in answers[2].text
    (order,) = _orders(bot, sender)
    assert order.listing_id == 4 and order.quantity == Decimal(20)


@check("buyer: a typed 订购1 right after a search")
def _typed_order_number(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "要订多少" in answers[1].text
    (order,) = _orders(bot, sender)
    first = re.search(r"1\. (\S+) ", answers[0].text)
    assert first and order.quantity == Decimal(10)
    assert first[1] in answers[5].text  # the read-back names the place of the first result


@check("buyer: 我要买30斤 right after a search for one place")
def _quantity_after_search(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "采购单位" in answers[1].text
    (order,) = _orders(bot, sender)
    assert (order.listing_id, order.quantity) == (1, Decimal(30))


@check("buyer: unknown product in a search, then a close one")
def _unknown_search(bot: Bot, sender: str, answers: list[Said]) -> None:
    text = answers[0].text
    assert "目录里暂时没有鸭蛋" in text and "相近的有：土鸡蛋" in text and "县农业农村委" in text
    assert ("哪里有土鸡蛋", '/search_product{"product": "土鸡蛋"}') in answers[0].buttons
    assert "泥溪镇" in answers[1].text and "土鸡蛋" in answers[1].text


@check("buyer: unknown product asked with a place")
def _unknown_with_place(bot: Bot, sender: str, answers: list[Said]) -> None:
    # Nothing in stock is close to 火龙果: what there is, and whom to ask.
    assert "目录里暂时没有火龙果" in answers[0].text and "目前有：" in answers[0].text


@check("buyer: unknown product with nothing close")
def _unknown_far(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "目录里暂时没有榴莲" in answers[0].text and "目前有：" in answers[0].text


@check("buyer: unknown product in an order, then a known one")
def _unknown_order(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "目录里暂时没有火龙果" in answers[0].text and "要买什么产品" in answers[0].text
    assert "请选一家" in answers[1].text
    assert not _orders(bot, sender)


@check("buyer: 我不想订了 leaves the order form")
def _negation_leaves(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "已取消" in answers[1].text and "没太明白" not in answers[1].text
    assert "没有进行中" in answers[2].text
    assert not _orders(bot, sender)


@check("buyer: a new search leaves the order form")
def _search_leaves(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "45元/斤" in answers[1].text and "请选一家" not in answers[1].text
    assert "腊肉" in answers[2].text and "要订多少" in answers[2].text


@check("buyer: two failed quantities in a row, then the way out")
def _two_failures(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "要订多少" in answers[1].text
    assert "要订多少" not in answers[2].text and "比如“30斤”" in answers[2].text
    assert {t for t, _p in answers[2].buttons} == {"取消", "重新说"}
    assert "已取消" in answers[3].text and not _orders(bot, sender)


@check("buyer: two failed quantities, then 重新说 and a good answer")
def _retry(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert {t for t, _p in answers[2].buttons} == {"取消", "重新说"}
    assert "要订多少" in answers[3].text  # the plain question again
    assert "采购单位" in answers[4].text


@check("buyer: a new session the next day offers the unit back")
def _next_day(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "还是县人民医院食堂、13912345678吗？" in answers[8].text
    assert {t for t, _p in answers[8].buttons} == {"是", "不是"}
    _first, second = _orders(bot, sender)
    assert (second.listing_id, second.buyer_name, second.phone) == (3, "县人民医院食堂", "13912345678")


@check("buyer: a new session, 不是 to the unit offered back")
def _next_day_other_unit(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "采购单位" in answers[8].text
    assert "电话" in answers[9].text
    _first, second = _orders(bot, sender)
    assert (second.buyer_name, second.phone) == ("县中医院食堂", "13800002222")


@check("buyer: a place searched yesterday does not hold today's order")
def _yesterday_place(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "暂时没有" not in answers[2].text and "龙角镇" in answers[2].text


@check("buyer: 第二个 chooses the second listing")
def _second(bot: Bot, sender: str, answers: list[Said]) -> None:
    second = re.search(r"2\. (\S+) ", answers[0].text)
    assert second and second[1] in answers[1].text and "要订多少" in answers[1].text


@check("buyer: 就要第二个 after a search orders that result")
def _typed_pick_after_search(bot: Bot, sender: str, answers: list[Said]) -> None:
    second = re.search(r"2\. (\S+) 黑木耳", answers[0].text)
    assert second and f"{second[1]}的黑木耳还剩" in answers[1].text and "要订多少" in answers[1].text
    assert f"黑木耳（{second[1]}" in answers[5].text
    (order,) = _orders(bot, sender)
    with bot.sessions() as session:
        listing = session.get(Listing, order.listing_id)
        assert listing is not None and listing.place_label == second[1]
    assert order.quantity == Decimal(20) and "下单成功" in answers[6].text


@check("buyer: 选第二个 in the order form orders from the second place")
def _typed_pick_in_form(bot: Bot, sender: str, answers: list[Said]) -> None:
    second = re.search(r"2\. (\S+) ", answers[0].text)
    assert second and f"{second[1]}的蜂蜜还剩" in answers[1].text
    (order,) = _orders(bot, sender)
    assert order.quantity == Decimal(5) and order.buyer_name == "个人"
    with bot.sessions() as session:
        listing = session.get(Listing, order.listing_id)
        assert listing is not None and listing.place_label == second[1]


@check("buyer: a pick at the quantity question is answered, then the question again")
def _pick_not_now(bot: Bot, sender: str, answers: list[Said]) -> None:
    first = re.search(r"1\. (\S+) ", answers[0].text)
    assert first and f"{first[1]}的蜂蜜还剩" in answers[1].text
    assert "这一步不用选哪一家" in answers[2].text and f"{first[1]}的蜂蜜还剩" in answers[2].text
    assert "已取消" in answers[3].text and not _orders(bot, sender)


@check("buyer: a pick with nothing listed asks what to buy")
def _pick_without_list(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "还没有列出可以选的结果" in answers[0].text and "要买什么产品" in answers[0].text


@check("buyer: 龙角镇的 chooses by place")
def _by_place(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "龙角镇高家村的蜂蜜还剩" in answers[1].text


@check("buyer: 不订了 at the order read-back")
def _cancel_read_back(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "已取消" in answers[2].text and not _orders(bot, sender)
    assert _remaining(bot, 4) == Decimal(800)


@check("buyer: 不对 at the read-back, then a new quantity")
def _change_read_back(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "要改哪一项" in answers[2].text and "25斤 × 45元/斤" in answers[3].text
    (order,) = _orders(bot, sender)
    assert order.quantity == Decimal(25)


@check("buyer: greet, find by alias, order by button")
def _alias_order(bot: Bot, sender: str, answers: list[Said]) -> None:
    (order,) = _orders(bot, sender)
    assert order.order_no in answers[8].text and _remaining(bot, 1) == Decimal(1950)


@check("buyer: an order given in one sentence")
def _one_sentence(bot: Bot, sender: str, answers: list[Said]) -> None:
    (order,) = _orders(bot, sender)
    assert (order.listing_id, order.quantity) == (27, Decimal(150))


@check("township: stock update confirmed")
def _stock_confirmed(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert _remaining(bot, 4) == Decimal(200)


@check("township: 不要了 at a stock read-back")
def _stock_cancelled(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "已取消" in answers[1].text and _remaining(bot, 4) == Decimal(800)


@check("township nixi: 不要了 at a sale read-back")
def _sale_cancelled(bot: Bot, sender: str, answers: list[Said]) -> None:
    from fupin.models import SaleRecord

    assert "已取消" in answers[1].text
    with bot.sessions() as session:
        assert not session.scalars(select(SaleRecord).where(SaleRecord.buyer_name == "县中医院")).all()


@check("township nixi: a typed pick between the township's two listings of a stock message")
def _stock_typed_pick(bot: Bot, sender: str, answers: list[Said]) -> None:
    buttons = [title for title, _payload in answers[0].buttons]
    assert len(buttons) == 2 and buttons[1].startswith("2. ")
    assert "确认吗" in answers[1].text and "已更新" in answers[2].text
    with bot.sessions() as session:
        first, second = (session.get(Listing, int(p.split('"')[-2])) for _t, p in answers[0].buttons)
        assert first is not None and second is not None
        assert second.remaining_quantity == Decimal(100) and first.remaining_quantity != Decimal(100)


@check("village: stock update of the village's potatoes")
def _village_stock(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert _remaining(bot, 1) == Decimal(1500)


@check("village: another village's listing is refused")
def _village_refused(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "不在您的范围" in answers[0].text and _remaining(bot, 4) == Decimal(800)


@check("admin: stock update anywhere, dropped by 不要了")
def _admin_dropped(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "已取消" in answers[1].text and _remaining(bot, 10) == Decimal(5000)


@check("admin: an unknown product and an order cancelled by 不想订了")
def _admin_unknown(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "目录里暂时没有火龙果" in answers[0].text and "已取消" in answers[2].text


def _aliases(bot: Bot) -> dict[str, str]:
    from fupin.models import Product, ProductAlias

    with bot.sessions() as session:
        return dict(session.execute(select(ProductAlias.alias, Product.name).join(Product)).all())


def _vocabulary_changes(bot: Bot) -> list[tuple[str, str, str]]:
    from fupin.models import VocabularyChange

    with bot.sessions() as session:
        rows = session.execute(select(VocabularyChange.kind, VocabularyChange.name, VocabularyChange.actor))
        return [tuple(row) for row in rows]  # type: ignore[misc]


@check("admin: an alias set by chat is found at once")
def _alias_by_chat(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "将把“山药蛋”设为“土豆”的别名" in answers[0].text and ("确认修改", "/affirm") in answers[0].buttons
    assert "已把“山药蛋”设为“土豆”的别名" in answers[1].text
    assert _aliases(bot)["山药蛋"] == "土豆" and _vocabulary_changes(bot) == [("alias_added", "山药蛋", sender)]
    # Found by the live vocabulary, not the model (山药蛋 is in no training data): the 土豆 listings.
    assert "土豆共4条" in answers[2].text and "目录里暂时没有" not in answers[2].text


@check("admin: an alias removal dropped by 不改了")
def _alias_removal_dropped(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "将删除“猕猴桃”的别名“奇异果”" in answers[0].text and "已取消" in answers[1].text
    assert _aliases(bot)["奇异果"] == "猕猴桃" and _vocabulary_changes(bot) == []


@check("admin: a merge of a product the catalogue lacks")
def _merge_unknown(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "目录里没有产品“红心猕猴桃”" in answers[0].text
    assert "现在没有需要确认的事项" in answers[1].text and _vocabulary_changes(bot) == []


@check("buyer: the vocabulary is the county's")
def _vocabulary_refused(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "只有县里的管理员" in answers[0].text and not answers[0].buttons
    assert _vocabulary_changes(bot) == []


@check("township: the stock history of a product")
def _stock_history(bot: Bot, sender: str, answers: list[Said]) -> None:
    # 龙角镇's contact sees 龙角镇's 土豆 (imported from the demo 附件1), never 泥溪镇's.
    assert "龙角镇张家村" in answers[0].text and "库存记录" in answers[0].text and "附件1导入" in answers[0].text
    assert "可售2000" in answers[0].text and "泥溪镇" not in answers[0].text
    assert "蜂蜜" in answers[1].text and "可售300" in answers[1].text


@check("buyer: the stock history is for supply contacts")
def _stock_history_refused(bot: Bot, sender: str, answers: list[Said]) -> None:
    assert "才能查看库存记录" in answers[0].text and "可售" not in answers[0].text
