"""Actions as thin adapters: a Tracker and a CollectingDispatcher in, events and messages out."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.common import Services, make_services
from actions.order_status import operation_of
from actions.orders import ActionOrderSummary, ValidateOrderForm
from actions.pending import ActionApplyPending, ActionCancel, ActionHandleInform
from actions.search import ActionSearchProducts
from actions.stock import ActionStockUpdate, price_of
from actions.stock_history import ActionStockHistory
from actions.vocabulary import ActionManageVocabulary
from fupin.catalog.listings import CatalogWriter, ListingDraft
from fupin.db import make_engine, make_session_factory
from fupin.models import Listing, Product, ProductAlias, VocabularyChange
from fupin.outreach.users import bind_user
from fupin.places import Gazetteer
from fupin.setup import seed_demo
from fupin.values import JIN, Price, Quantity, Role, SupplyMethod
from tests.conftest import Database


@pytest.fixture
def demo(sqlite_db: Database) -> Database:
    """The demo catalogue."""
    assert seed_demo(sqlite_db.sessions).ok
    return sqlite_db


@pytest.fixture
def services(demo: Database) -> Services:
    """The actions' services on the demo catalogue, as the entry point builds them."""
    return make_services(demo.sessions)


def tracker(
    text: str = "",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    sender: str = "console:t",
) -> Tracker:
    """A tracker whose latest message is `text` with `entities`."""
    latest = {"text": text, "entities": entities or [], "intent": {"name": "x"}}
    return Tracker(sender, slots or {}, latest, events or [], False, None, {}, "action_listen")


def run(action: Any, current: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, current, {}))
    return events, dispatcher.messages


def _potato_id(db: Database) -> int:
    with db.sessions() as session:
        return session.scalars(
            select(Listing.id).join(Product).where(Product.name == "土豆", Listing.listing_key.contains("500235105"))
        ).one()


def test_search_answers_with_order_buttons(services: Services) -> None:
    _events, messages = run(
        ActionSearchProducts(services), tracker("哪里有洋芋", [{"entity": "product", "value": "土豆"}])
    )
    assert "土豆共4条" in messages[0]["text"]
    assert all(b["payload"].startswith("/order_product") for b in messages[0]["buttons"])


def test_summary_reads_back_and_sets_pending(demo: Database, services: Services) -> None:
    slots = {
        "listing_id": str(_potato_id(demo)),
        "quantity": "30斤",
        "org": "县教委",
        "phone": "17723635558",
        "supply_method": "送货上门",
    }
    events, messages = run(ActionOrderSummary(services), tracker(slots=slots))
    assert "30斤 × 1.5元/斤 = 45元" in messages[0]["text"]
    (pending,) = [e["value"] for e in events if e.get("event") == "slot" and e["name"] == "pending"]
    # The read-back carries a key (one order per confirmation) and when it was shown (it expires).
    assert pending["kind"] == "order" and len(pending["key"]) == 32 and pending["shown_at"]


def test_summary_sends_the_buyer_back_to_the_part_at_fault(demo: Database, services: Services) -> None:
    slots = {
        "listing_id": str(_potato_id(demo)),
        "quantity": "3000斤",
        "org": "县教委",
        "phone": "17723635558",
        "supply_method": "送货上门",
    }
    events, messages = run(ActionOrderSummary(services), tracker(slots=slots))
    assert "只剩2000斤" in messages[0]["text"]
    assert {"event": "slot", "timestamp": None, "name": "quantity", "value": None} in events
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "order_form"}


def test_form_validation_rejects_a_bad_phone_and_an_unoffered_method(demo: Database, services: Services) -> None:
    form = ValidateOrderForm(services)
    dispatcher = CollectingDispatcher()
    current = tracker(slots={"listing_id": str(_potato_id(demo))})
    assert form.validate_phone("1772363555", dispatcher, current, {}) == {"phone": None}
    assert form.validate_phone("177 2363 5558", dispatcher, current, {}) == {"phone": "17723635558"}
    # The validators that read the database run in a worker thread: coroutines.
    assert asyncio.run(form.validate_supply_method("电商", dispatcher, current, {})) == {"supply_method": None}
    assert "只支持：送货上门、上门自提" in dispatcher.messages[-1]["text"]
    assert asyncio.run(form.validate_quantity("两百斤", dispatcher, current, {})) == {"quantity": "200斤"}


def test_a_bare_number_answers_the_quantity_question_in_the_listings_unit(demo: Database, services: Services) -> None:
    form = ValidateOrderForm(services)
    dispatcher = CollectingDispatcher()
    asked = {"listing_id": str(_potato_id(demo)), "requested_slot": "quantity"}
    assert form.extract_quantity(dispatcher, tracker("３０", slots=asked), {}) == {"quantity": "30"}
    assert asyncio.run(form.validate_quantity("30", dispatcher, tracker(slots=asked), {})) == {"quantity": "30斤"}
    # Only as the answer to that question, and never over what the message said itself.
    assert form.extract_quantity(dispatcher, tracker("30", slots={**asked, "requested_slot": "org"}), {}) == {}
    said = [{"entity": "quantity", "value": "30斤"}]
    assert form.extract_quantity(dispatcher, tracker("30斤", said, slots=asked), {}) == {}


def test_stock_update_from_a_stranger_is_refused(services: Services) -> None:
    entities = [{"entity": "product", "value": "土豆"}, {"entity": "quantity", "value": "200斤"}]
    events, messages = run(ActionStockUpdate(services), tracker("土豆还剩两百斤", entities))
    assert "只有登记过的供货联系人" in messages[0]["text"]
    assert [(e["name"], e["value"]) for e in events] == [("pending", None), ("choice_for", None)]


def test_cancel_after_the_form_was_stopped(services: Services) -> None:
    stopped = [{"event": "action", "name": "order_form"}, {"event": "action", "name": "action_deactivate_loop"}]
    _events, messages = run(ActionCancel(services), tracker("取消", events=stopped))
    assert messages[0]["response"] == "utter_cancelled"
    _events, messages = run(ActionCancel(services), tracker("取消"))
    assert messages[0]["response"] == "utter_nothing_to_cancel"


def test_an_amount_alone_after_a_search_orders_from_it(services: Services) -> None:
    said = [{"entity": "quantity", "value": "300斤"}]
    events, messages = run(ActionHandleInform(services), tracker("来三百斤", said, slots={"product": "土豆"}))
    assert events == [{"event": "followup", "timestamp": None, "name": "order_form"}] and messages == []
    # With nothing searched, it is only a hint.
    events, messages = run(ActionHandleInform(services), tracker("来三百斤", said))
    assert events == [] and "我要买30斤土豆" in messages[0]["text"]


def test_database_failure_gets_a_busy_reply() -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none")
    unreachable = make_services(make_session_factory(engine))
    _events, messages = run(
        ActionSearchProducts(unreachable), tracker("哪里有土豆", [{"entity": "product", "value": "土豆"}])
    )
    assert messages[0]["response"] == "utter_system_busy"
    engine.dispose()


def test_message_helpers() -> None:
    assert operation_of("XF261129A1B2C3已送达") == "deliver"
    assert operation_of("确认订单XF261129A1B2C3") == "confirm"
    assert operation_of("拒绝XF261129A1B2C3") == "reject"
    assert operation_of("XF261129A1B2C3钱收到了") == "pay"
    assert price_of({"additional_info": {"fen": 350, "unit": "斤"}}) == Price(350, "斤")
    assert price_of({"additional_info": {"fen": 15000, "unit": None}}) is None


def test_bare_choices_are_read_as_numbers() -> None:
    from actions.orders import ordinal_of

    assert [ordinal_of(t) for t in ("订购1", "第二个", "2", "第3家", "30斤", "土豆")] == [1, 2, 2, 3, None, None]
    picks = ("就要第三个", "选第二个", "1号", "我要订第二家的", "麻烦帮我选第一个", "第２个", "要得，就第二个")
    assert [ordinal_of(t) for t in picks] == [3, 2, 1, 2, 1, 2, 2]
    # A pick that says more (第二个，30斤) counts by its first clause that is a pick; 最后 needs the count.
    assert [ordinal_of(t) for t in ("第二个，30斤", "50斤，第一个", "上面那个", "13912345678")] == [2, 1, None, None]
    assert (ordinal_of("最后一个", 4), ordinal_of("选最后那家"), ordinal_of("2 斤")) == (4, None, None)


def test_a_typed_pick_chooses_among_a_stock_messages_listings(demo: Database, services: Services) -> None:
    from actions.stock import ActionChooseListing
    from fupin.outreach.users import bind_user
    from fupin.values import Role

    with demo.sessions() as session, session.begin():
        bind_user(session, "console:nx", Role.CONTACT, township="泥溪镇")
    message = [{"entity": "product", "value": "黑木耳"}, {"entity": "quantity", "value": "100斤"}]
    events, messages = run(ActionStockUpdate(services), tracker("黑木耳还剩100斤", message, sender="console:nx"))
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert slots["choice_for"] == "stock" and [t[:3] for t in titles] == ["1. ", "2. "]
    second = titles[1][3:].split(" ")[0]
    events, messages = run(
        ActionChooseListing(services), tracker("第二个", slots={"pending": slots["pending"]}, sender="console:nx")
    )
    assert second in messages[0]["text"] and "确认吗" in messages[0]["text"]
    read_back = next(e["value"] for e in events if e["name"] == "pending")
    assert read_back["kind"] == "stock" and read_back["change"]["listing_id"] == slots["pending"]["choices"][1]
    # A pick that names none of them asks again; with nothing offered there is nothing to choose.
    _events, messages = run(
        ActionChooseListing(services), tracker("第五个", slots={"pending": slots["pending"]}, sender="console:nx")
    )
    assert "请从上面2条里选一条" in messages[0]["text"]
    _events, messages = run(ActionChooseListing(services), tracker("第二个", sender="console:nx"))
    assert messages[0]["response"] == "utter_nothing_to_choose"


def test_an_unknown_product_is_found_in_the_sentence_with_close_names(services: Services) -> None:
    from fupin.catalog.search import product_term

    assert product_term("给县人民医院食堂订30斤火龙果") == "火龙果"
    assert product_term("龙角镇有什么特产") is None
    # A unit's name is never taken for a product (issue #14's trial: 目录里暂时没有们医院食堂拿).
    assert product_term("帮我们医院食堂拿二十斤") is None
    assert product_term("县中医院食堂") is None
    assert product_term("帮我们订30斤火龙果") == "火龙果"
    unknown = services.search.unknown_product(None, "龙角镇有火龙果吗")
    assert unknown is not None and unknown.written == "火龙果" and "土豆" in unknown.available
    assert not unknown.closest  # 枇杷 and 猕猴桃 are near in name, but nobody has them in stock
    duck = services.search.unknown_product(None, "有没有鸭蛋")
    assert duck is not None and duck.closest == ["土鸡蛋"]
    assert services.search.unknown_product(None, "哪里有洋芋") is None
    assert services.search.unknown_product("龙角镇") is None  # a place, not a product


def test_search_names_an_unknown_product(services: Services) -> None:
    events, messages = run(ActionSearchProducts(services), tracker("哪里有火龙果"))
    assert "目录里暂时没有火龙果" in messages[0]["text"] and "县农业农村委" in messages[0]["text"]
    assert {"event": "slot", "name": "shown", "value": None, "timestamp": None} in events


def test_a_known_product_nobody_lists_is_named_with_the_place_asked(services: Services) -> None:
    # 猕猴桃 is a product of the alias list that no listing of the demo catalogue has.
    _events, messages = run(
        ActionSearchProducts(services), tracker("哪里有猕猴桃", [{"entity": "product", "value": "猕猴桃"}])
    )
    assert messages[0]["text"].startswith("目录里暂时没有猕猴桃的供货信息。") and "县农业农村委" in messages[0]["text"]
    entities = [{"entity": "product", "value": "猕猴桃"}, {"entity": "location", "value": "龙角镇"}]
    _events, messages = run(ActionSearchProducts(services), tracker("龙角镇有猕猴桃吗", entities))
    assert messages[0]["text"].startswith("龙角镇暂时没有猕猴桃的供货信息，其他乡镇也没有。")


def test_a_new_session_carries_over_only_the_buyers_unit_and_phone(services: Services) -> None:
    from actions.session import ActionSessionStart

    slots = {"org": "县人民医院食堂", "phone": "13912345678", "location": "故陵镇", "product": "腊肉"}
    events, _ = run(ActionSessionStart(services), tracker(slots=slots))
    assert [e["event"] for e in events] == ["session_started", "slot", "action"]
    assert events[1]["name"] == "known_buyer"
    assert events[1]["value"] == {"org": "县人民医院食堂", "phone": "13912345678"}


# Issue #19: the county keeps the vocabulary by chat; issue #20: a contact's stock history.

ADMIN = "console:vocab-admin"
CONTACT = "console:history-contact"


@pytest.fixture
def people(demo: Database) -> Database:
    """The demo catalogue with a county admin and 龙角镇's supply contact."""
    with demo.sessions() as session, session.begin():
        bind_user(session, ADMIN, Role.ADMIN)
        bind_user(session, CONTACT, Role.CONTACT, township="龙角镇", display_name="李xx")
    return demo


def _pending(events: list[dict[str, Any]]) -> Any:
    (value,) = [e["value"] for e in events if e.get("event") == "slot" and e["name"] == "pending"]
    return value


def _aliases(db: Database) -> dict[str, str]:
    with db.sessions() as session:
        return dict(session.execute(select(ProductAlias.alias, Product.name).join(Product)).all())


def test_an_admins_alias_is_read_back_then_applied_with_the_admin_as_actor(people: Database) -> None:

    services = make_services(people.sessions)
    # The NLU knows no 藤梨 yet: the names come from the sentence, not from entities.
    asked = tracker("把“藤梨”设为猕猴桃的别名", [{"entity": "product", "value": "猕猴桃"}], sender=ADMIN)
    events, messages = run(ActionManageVocabulary(services), asked)
    assert messages[0]["text"].startswith("将把“藤梨”设为“猕猴桃”的别名")
    assert [b["title"] for b in messages[0]["buttons"]] == ["确认修改", "不改了"]
    pending = _pending(events)
    assert pending["kind"] == "vocabulary" and pending["request"]["name"] == "藤梨" and len(pending["key"]) == 32
    assert "藤梨" not in _aliases(people)  # nothing changes before the yes

    services.search.names.get(people.sessions())  # the names cache is warm, as in the running bot
    events, messages = run(ActionApplyPending(services), tracker("确认", slots={"pending": pending}, sender=ADMIN))
    assert messages[0]["text"] == "已把“藤梨”设为“猕猴桃”的别名，现在说“藤梨”就能找到“猕猴桃”。"
    assert _pending(events) is None
    assert _aliases(people)["藤梨"] == "猕猴桃"
    with people.sessions() as session:
        change = session.scalars(select(VocabularyChange)).one()
        assert (change.kind, change.product, change.name, change.actor) == ("alias_added", "猕猴桃", "藤梨", ADMIN)
    # The shared names cache was refreshed at once: search (and the NLU's matcher) know the word now.
    with people.sessions() as session:
        vocabulary, _gazetteer = services.search.names.get(session)
    assert [m.product for m in vocabulary.match("藤梨")] == ["猕猴桃"]


def test_a_merge_read_back_names_what_moves_and_the_answer_what_moved(people: Database) -> None:

    with people.sessions() as session, session.begin():
        draft = ListingDraft(
            place=Gazetteer.load(session).resolve_region("龙角镇张家村", None),
            product_name="红心猕猴桃",
            variety="",
            quantity=Quantity(Decimal(600), JIN),
            price=Price(800, JIN),
            supply_methods=SupplyMethod.DELIVERY,
            contact_name="李xx",
            contact_phone="17723635558",
        )
        CatalogWriter(session).write_all([draft])
    services = make_services(people.sessions)
    events, messages = run(ActionManageVocabulary(services), tracker("红心猕猴桃合并到猕猴桃，品种红心", sender=ADMIN))
    assert "将把“红心猕猴桃”合并到“猕猴桃”，品种“红心”：“红心猕猴桃”的目录1条（连同订单0个）" in messages[0]["text"]
    events, messages = run(
        ActionApplyPending(services), tracker("好的", slots={"pending": _pending(events)}, sender=ADMIN)
    )
    assert messages[0]["text"] == (
        "已把“红心猕猴桃”合并到“猕猴桃”，品种“红心”：转过去目录1条、订单0个、销售记录0条；“红心猕猴桃”已设为“猕猴桃”的别名。"
    )
    with people.sessions() as session:
        (listing,) = session.scalars(select(Listing).join(Product).where(Product.name == "猕猴桃")).all()
        assert listing.variety == "红心"
        assert session.scalar(select(Product).where(Product.name == "红心猕猴桃")) is None


def test_vocabulary_refusals_and_errors_change_nothing(people: Database) -> None:

    services = make_services(people.sessions)
    before = _aliases(people)
    # A buyer (or a supply contact) is refused before anything is read back.
    for sender in ("console:someone", CONTACT):
        events, messages = run(ActionManageVocabulary(services), tracker("把奇异果设为猕猴桃的别名", sender=sender))
        assert "只有县里的管理员" in messages[0]["text"] and events == [] and not messages[0].get("buttons")
    # A forged confirmation from a buyer is refused by the domain too.
    forged = {"kind": "vocabulary", "key": "k", "shown_at": "2999-01-01T00:00:00+00:00", "session": None,
              "request": {"kind": "add_alias", "name": "藤梨", "product": "猕猴桃", "variety": None}}  # fmt: skip
    _events, messages = run(ActionApplyPending(services), tracker("确认", slots={"pending": forged}))
    assert "只有县里的管理员" in messages[0]["text"]
    # The admin gets the domain's reasons: an alias of another product, an unknown product or alias.
    for text, reason in [
        ("把洋芋设为红薯的别名", "“洋芋”已经是“土豆”的别名，请先删除"),
        ("把藤梨设为火龙果的别名", "目录里没有产品“火龙果”"),
        ("删除别名藤梨", "没有叫“藤梨”的别名"),
        ("删除红薯的别名洋芋", "“洋芋”是“土豆”的别名，不是“红薯”的"),
        ("把土豆并入洋芋", "“土豆”和“洋芋”是同一个产品"),
        ("把火龙果并入土豆", "目录里没有产品“火龙果”"),
    ]:
        events, messages = run(ActionManageVocabulary(services), tracker(text, sender=ADMIN))
        assert reason in messages[0]["text"], (text, messages)
        assert _pending(events) is None
    # Wording it cannot read gets the examples.
    events, messages = run(ActionManageVocabulary(services), tracker("别名的事情问一下", sender=ADMIN))
    assert messages[0]["response"] == "utter_vocabulary_how" and events == []
    assert _aliases(people) == before


def test_stock_history_for_a_contact_and_refused_for_others(people: Database, services: Services) -> None:

    potato = [{"entity": "product", "value": "土豆"}]
    events, messages = run(ActionStockHistory(services), tracker("土豆的库存记录", potato, sender=CONTACT))
    text = messages[0]["text"]
    assert events == [] and text.startswith(f"#{_potato_id(people)} 龙角镇张家村 王某某 土豆 库存记录")
    assert "附件1导入 可售+2000 计划+2000 → 可售2000 已预订0 计划2000" in text and "泥溪镇" not in text
    # Another township's listing, a buyer, and no product named.
    place = [*potato, {"entity": "location", "value": "泥溪镇"}]
    _events, messages = run(ActionStockHistory(services), tracker("泥溪镇土豆的库存记录", place, sender=CONTACT))
    assert messages[0]["text"] == "您只能查看自己负责的村（乡镇）的产品，土豆不在您的范围内。"
    _events, messages = run(ActionStockHistory(services), tracker("土豆的库存记录", potato))
    assert "才能查看库存记录" in messages[0]["text"]
    _events, messages = run(ActionStockHistory(services), tracker("库存记录", sender=CONTACT))
    assert messages[0]["response"] == "utter_stock_history_which"


def test_the_form_says_which_other_answers_it_kept() -> None:
    from actions.asking import kept_answers

    def slot(name: str, value: Any) -> dict[str, Any]:
        return {"event": "slot", "name": name, "value": value}

    asked_place = [slot("requested_slot", "listing_id"), slot("quantity", "200斤"), {"event": "user"}]
    answered = tracker(events=[*asked_place, slot("org", "县第一中学食堂"), slot("quantity", "200斤")])
    # The unit is new; the quantity is the one it already had.
    assert kept_answers(answered) == ["采购单位县第一中学食堂"]
    # The answer to the question asked is not echoed: 30斤 to "要订多少", then the unit is asked.
    quantity = [slot("requested_slot", "quantity"), {"event": "user"}, slot("quantity", "30斤")]
    assert kept_answers(tracker(events=quantity)) == []
    both = [slot("requested_slot", "org"), {"event": "user"}, slot("org", "县教委"), slot("phone", "13912345678")]
    assert kept_answers(tracker(events=both)) == []
    started = tracker(events=[{"event": "user"}, slot("quantity", "200斤"), slot("requested_slot", "listing_id")])
    assert kept_answers(started) == []  # the message that starts the order is not echoed
