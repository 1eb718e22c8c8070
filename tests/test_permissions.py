"""Who may do what: every role against every operation, where the decision is made and through Telegram.

The domain table runs on SQLite and (with TEST_DATABASE_URL) PostgreSQL, on a demo catalogue where 龙角镇
is township A and 泥溪镇 township B. The Telegram table drives the real Application against the fake Bot
API for what only the chat can do (/invite, /export, /report, a spreadsheet, a push's button). Then the
registration codes' storage and comparison, the webhook secret, and no SQL built from strings.
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import Application

from actions.common import Services
from actions.households import ActionBeneficiaries, ActionHouseholdSales, HouseholdAction
from actions.pairing import ActionSetPairing
from actions.sales import ActionSalesSummary
from bot.telegram import app as telegram_app
from fupin.catalog import ledger, stock
from fupin.catalog.files import import_catalog_files
from fupin.catalog.listings import CatalogWriter, HouseholdRef, ListingDraft
from fupin.catalog.search import CatalogSearch
from fupin.catalog.stock_history import history_reply
from fupin.catalog.vocabulary import VocabularyError
from fupin.catalog.vocabulary_requests import RequestKind, VocabularyRequest, apply, preview
from fupin.complaints.filing import file_complaint
from fupin.complaints.handling import close, settle, take_up
from fupin.complaints.states import ComplaintError
from fupin.models import (
    AdoptionUpdate,
    Buyer,
    Complaint,
    Listing,
    Order,
    Pairing,
    Product,
    ProductAlias,
    RegistrationCode,
    SaleRecord,
    StockMove,
    User,
    Village,
)
from fupin.offers.adoption import send_update
from fupin.offers.expected import announce_expected, parse_expected
from fupin.offers.harvest import confirm_harvest
from fupin.offers.moves import OfferError
from fupin.orders.lifecycle import OrderError, change_order, orders_for, place_order, view
from fupin.outreach import one_time
from fupin.outreach.registration import RegistrationError, issue_code, redeem_code
from fupin.outreach.users import Identity, bind_user, identify
from fupin.periods import today
from fupin.places import Gazetteer
from fupin.reporting.sales import SaleError, draft_sale, record_sale
from fupin.settings import PROJECT_ROOT, Settings
from fupin.setup import seed_demo
from fupin.values import ComplaintStatus, OfferKind, OrderStatus, Price, Quantity, Role, SupplyMethod
from harness.fake_telegram import FakeTelegram, Sent
from harness.netproxy import free_port
from harness.telegram_app import ADMIN_ID, RunningBot, running_telegram, settings_for
from tests.conftest import BACKENDS, Database, fresh_database
from tests.e2e import Bot
from tests.helpers import row, write_xlsx
from tests.telegram_chat import messages, with_bot
from tests.unions_data import union_operation

# --- the domain table -------------------------------------------------------------------------------------

ROLES = ("stranger", "buyer", "contact_A", "contact_B", "village_A", "lead", "market", "admin")
# Who each role is: township A is 龙角镇, B 泥溪镇; the village contact answers for 龙角镇张家村 only.
# "buyer" placed the orders the order operations act on (the stranger never used the bot before).
# "market" is the county's market-supervision staff (市场监管): quality complaints, nothing of orders or stock.
#
# operation               stranger buyer  A   B  vill. lead market admin
TABLE = {
    "search the catalogue": "Y Y Y Y Y Y Y Y",  # public: anyone may look
    "place an order": "Y Y Y Y Y Y Y Y",  # anyone may buy, a supply contact or county staff too
    "see A's order": "N Y Y N Y N N Y",  # the buyer sees their own; contacts their places'
    "confirm A's order": "N N Y N Y N N Y",  # never the buyer: they cannot confirm what they ordered
    "deliver A's order": "N N Y N Y N N Y",
    "cancel A's order": "N Y Y N Y N N Y",  # the buyer's right; for A's contact it is a refusal, stock released
    "update stock in A (张家村)": "N N Y N Y N N Y",
    "update stock in A (高家村)": "N N Y N N N N Y",  # outside the village contact's village
    "import A's rows": "N N Y N Y N N Y",  # a file's rows for places the sender does not answer for are refused
    # A sale is recorded for the reporter's own place (B's contact: in B, never A). The admin is asked which
    # township: a sale by chat names none, and the county enters its own purchases from 附件2/附件3 files.
    "report a sale": "N N Y Y Y N N N",
    # Figures are shared among townships (the county ranks them openly); lead units get theirs in 附件3.
    "county sales summary": "N N Y Y Y N N Y",
    "A's sales summary": "N N Y Y Y N N Y",
    # Privacy: poverty status is sensitive, so a household's name goes to the contacts of its place and admins;
    # a buyer's phone to the contacts of the listing ordered, admins, and the buyer themself.
    "sees A's household names": "N N Y N Y N N Y",
    "sees the buyer's phone": "N Y Y N Y N N Y",
    # The stock ledger of a listing goes to those who manage it (issue #20: 土豆的库存记录).
    "see A's stock history (张家村)": "N N Y N Y N N Y",
    # The product vocabulary is the county's (issue #19: aliases and merges, by chat or the command line).
    "keep the vocabulary": "N N N N N N N Y",
    # Quality complaints (质量投诉) about the buyer's delivered order of A's 张家村 potatoes: the buyer (or an
    # admin for them) files; A's contacts, market staff and admins take it up; market staff or admins close it.
    "complain about A's order": "N Y N N N N N Y",
    "take up a complaint in A": "N N Y N Y N Y Y",
    "settle a complaint": "N Y N N N N N N",
    "close a complaint": "N N N N N N Y Y",
    # What each poor household gained (见成效) names households: the county's admins only, by chat too.
    "ask which households sold": "N N N N N N N Y",
    "ask how many households benefited": "N N N N N N N Y",
    # The 百企帮百村 register is the county's (县工商联 through the admins): by chat, admins only.
    "pair a firm with a village": "N N N N N N N Y",
    # A union's budget (工会, 人均500元) and member count: its contact (here the buyer) and admins, by chat.
    "see a union's budget": "N Y N N N N N Y",
    "set a union's member count": "N Y N N N N N Y",
    # Pre-sales and adoptions (issue #17) are the supply side's: the contacts of the place and admins.
    "announce a harvest in A (张家村)": "N N Y N Y N N Y",
    "confirm a harvest in A (张家村)": "N N Y N Y N N Y",
    "send an update to A's adopters": "N N Y N Y N N Y",
}
CASES = [
    pytest.param(role, operation, flag == "Y", id=f"{operation}-{role}")
    for operation, flags in TABLE.items()
    for role, flag in zip(ROLES, flags.split(), strict=True)
]


@dataclass
class World:
    """A demo catalogue with one identity per role, and the listings the operations touch."""

    sessions: sessionmaker[Session]
    backend: str
    potato_a: int  # 土豆, 龙角镇张家村
    honey_a: int  # 蜂蜜, 龙角镇高家村


SENDERS = {
    "buyer": "console:perm-buyer",
    "contact_A": "console:perm-contact-a",
    "contact_B": "console:perm-contact-b",
    "village_A": "console:perm-village-a",
    "lead": "console:perm-lead",
    "market": "console:perm-market",
    "admin": "console:perm-admin",
}


def _listing_id(session: Session, product: str, village: str) -> int:
    return session.scalars(
        select(Listing.id).join(Product).join(Village).where(Product.name == product, Village.short_name == village)
    ).one()


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One database per backend for the whole table: each case makes the order or file it acts on."""
    target = tmp_path_factory.mktemp("permissions") / "perm.db"
    with fresh_database(request, request.param, target) as database:
        sessions = database.sessions
        assert seed_demo(sessions).ok
        with sessions() as session, session.begin():
            bind_user(session, SENDERS["buyer"], Role.BUYER)
            bind_user(session, SENDERS["contact_A"], Role.CONTACT, township="龙角镇")
            bind_user(session, SENDERS["contact_B"], Role.CONTACT, township="泥溪镇")
            bind_user(session, SENDERS["village_A"], Role.CONTACT, township="龙角镇", village="张家村")
            bind_user(session, SENDERS["lead"], Role.LEAD, lead_unit="县教委")
            bind_user(session, SENDERS["market"], Role.MARKET)
            bind_user(session, SENDERS["admin"], Role.ADMIN)
        with sessions() as session:
            potato_a, honey_a = _listing_id(session, "土豆", "张家村"), _listing_id(session, "蜂蜜", "高家村")
        yield World(sessions=sessions, backend=request.param, potato_a=potato_a, honey_a=honey_a)


def _sender(role: str) -> str:
    # A stranger is new for every case: placing an order makes one a buyer.
    return SENDERS.get(role) or f"console:perm-stranger-{uuid.uuid4().hex[:8]}"


def _identity(world: World, sender: str) -> Identity:
    with world.sessions() as session:
        return identify(session, sender)


def _new_order(world: World) -> str:
    with world.sessions() as session, session.begin():
        order, _quote = place_order(
            session,
            sender_id=SENDERS["buyer"],
            listing_id=world.potato_a,
            quantity=Quantity(Decimal(1), "斤"),
            buyer_name="县人民医院食堂",
            phone="17723635558",
            supply_method=SupplyMethod.DELIVERY,
        )
        return order.order_no


def _status(world: World, order_no: str) -> str:
    with world.sessions() as session:
        return session.scalars(select(Order.status).where(Order.order_no == order_no)).one()


def op_search(world: World, sender: str, tmp_path: Path) -> bool:
    result = CatalogSearch(world.sessions).search(product="土豆", place="龙角镇")
    return result.total >= 1 and bool(result.listings)


def op_order(world: World, sender: str, tmp_path: Path) -> bool:
    try:
        with world.sessions() as session, session.begin():
            order, _quote = place_order(
                session,
                sender_id=sender,
                listing_id=world.potato_a,
                quantity=Quantity(Decimal(1), "斤"),
                buyer_name="县教委机关食堂",
                phone="17723630000",
                supply_method=SupplyMethod.PICKUP,
            )
            order_no = order.order_no
    except OrderError:
        return False
    # The order is the sender's own, visible to them as theirs.
    assert order_no in {view.order_no for view in _views(world, sender)}
    return True


def _views(world: World, sender: str) -> list[Any]:
    with world.sessions() as session:
        return orders_for(session, identify(session, sender), limit=1000)


def op_see(world: World, sender: str, tmp_path: Path) -> bool:
    order_no = _new_order(world)
    return order_no in {view.order_no for view in _views(world, sender)}


def _change(action: str) -> Callable[[World, str, Path], bool]:
    def operation(world: World, sender: str, tmp_path: Path) -> bool:
        order_no = _new_order(world)
        with world.sessions() as session:
            remaining = session.get(Listing, world.potato_a).remaining_quantity
        try:
            with world.sessions() as session, session.begin():
                change_order(session, order_no, action, identify(session, sender))
        except OrderError as exc:
            assert "没有权限" in str(exc), exc
            assert _status(world, order_no) == OrderStatus.PENDING.value  # a refusal changes nothing
            return False
        expected = {"confirm": OrderStatus.CONFIRMED, "deliver": OrderStatus.DELIVERED, "cancel": OrderStatus.CANCELLED}
        assert _status(world, order_no) == expected[action].value
        with world.sessions() as session:
            if action == "deliver":  # the purchase record of 附件2/附件3
                assert session.scalars(select(SaleRecord).join(Order).where(Order.order_no == order_no)).one()
            if action == "cancel":  # the reserved 1斤 goes back
                assert session.get(Listing, world.potato_a).remaining_quantity == remaining + 1
        return True

    return operation


_stock_values = iter(range(1000, 100_000))


def _stock(attribute: str, product: str, village: str) -> Callable[[World, str, Path], bool]:
    def operation(world: World, sender: str, tmp_path: Path) -> bool:
        listing_id = getattr(world, attribute)
        value = Decimal(next(_stock_values))
        with world.sessions() as session:
            before = session.get(Listing, listing_id).remaining_quantity
            # 还剩X is a count: what open orders hold of it is not for sale again (issue #20).
            promised = ledger.promised_of(session, listing_id, value)
            identity = identify(session, sender)
            try:  # when the message is understood: which listings may this person change?
                offered = [c.listing_id for c in stock.candidates(session, identity, product, village)]
            except stock.StockError:
                offered = []
        change = stock.StockChange(listing_id, stock.StockKind.SET, Quantity(value, "斤"))
        try:  # when the read-back is confirmed (a forged confirmation too): checked again
            with world.sessions() as session, session.begin():
                stock.apply(session, identify(session, sender), change)
            applied = True
        except stock.StockError:
            applied = False
        with world.sessions() as session:
            after = session.get(Listing, listing_id).remaining_quantity
        assert after == (value - promised if applied else before)
        assert (listing_id in offered) == applied, (offered, applied)  # both checks agree
        return applied

    return operation


def op_import(world: World, sender: str, tmp_path: Path) -> bool:
    household = f"测试户{uuid.uuid4().hex[:6]}"
    path = write_xlsx(tmp_path / "龙角镇张家村.xlsx", [row(household=household, product="魔芋")])
    identity = _identity(world, sender)
    # As the Telegram handler calls it: an admin's file unscoped, anyone else's scoped to their places.
    report = import_catalog_files(world.sessions, [path], scope=None if identity.is_admin else identity)
    file = report.files[0]
    with world.sessions() as session:
        written = session.scalars(select(Listing).where(Listing.listing_key.contains(household))).all()
    if file.ok:
        assert file.created == 1 and len(written) == 1
        return True
    assert file.issues and all("不在您负责的范围内" in issue.reason for issue in file.issues), report.lines()
    assert written == []
    return False


def op_sale(world: World, sender: str, tmp_path: Path) -> bool:
    identity = _identity(world, sender)
    try:
        with world.sessions() as session, session.begin():
            draft = draft_sale(
                session,
                identity,
                buyer_name="县人民医院食堂",
                product="土豆",
                quantity=Quantity(Decimal(10), "斤"),
                amount_fen=1500,
                unit_price_fen=None,
                sold_on=today(),
            )
            record = record_sale(session, identity, draft)
            township_id, village_id = record.township_id, record.village_id
    except SaleError:
        return False
    assert township_id == identity.township_id  # always the reporter's own township
    assert identity.village_id is None or village_id == identity.village_id
    return True


def _summary(text: str, place: str | None) -> Callable[[World, str, Path], bool]:
    def operation(world: World, sender: str, tmp_path: Path) -> bool:
        entities = [{"entity": "location", "value": place}] if place else []
        tracker = Tracker(sender, {}, {"text": text, "entities": entities, "intent": {}}, [], False, None, {}, "")
        dispatcher = CollectingDispatcher()
        services = Services(sessions=world.sessions, search=CatalogSearch(world.sessions))
        asyncio.run(ActionSalesSummary(services).run(dispatcher, tracker, {}))  # on this world's database
        (message,) = dispatcher.messages
        if "只对县里的管理员和各乡镇（村）供货联系人开放" in message["text"]:
            return False
        assert "消费扶贫销售" in message["text"], message
        assert place is None or place in message["text"].splitlines()[0]
        return True

    return operation


def op_household(world: World, sender: str, tmp_path: Path) -> bool:
    viewer = _identity(world, sender)
    result = CatalogSearch(world.sessions).search(product="土豆", place="张家村", viewer=viewer)
    (listing,) = result.listings
    assert listing.place == "龙角镇张家村" and listing.contact_phone  # the rest is for everyone
    return listing.household == "王某某"


BUYER_PHONE = "13911112222"  # not the supply contact's: a phone seen must be the buyer's


def op_phone(world: World, sender: str, tmp_path: Path) -> bool:
    with world.sessions() as session, session.begin():
        order, _quote = place_order(
            session,
            sender_id=SENDERS["buyer"],
            listing_id=world.potato_a,
            quantity=Quantity(Decimal(1), "斤"),
            buyer_name="县人民医院食堂",
            phone=BUYER_PHONE,
            supply_method=SupplyMethod.DELIVERY,
        )
        order_no = order.order_no
    with world.sessions() as session:
        # The order's view as this person would get it anywhere (a list, a reminder): the rule is in the view.
        stored = session.scalars(select(Order).where(Order.order_no == order_no)).one()
        seen = view(stored, identify(session, sender)).phone
        assert view(stored).phone == ""  # no viewer, no phone
    assert seen in ("", BUYER_PHONE)
    listed = [v.phone for v in _views(world, sender) if v.order_no == order_no]
    assert listed in ([], [seen])  # 我的订单 agrees
    return seen == BUYER_PHONE


def op_history(world: World, sender: str, tmp_path: Path) -> bool:
    with world.sessions() as session:
        try:
            answer = history_reply(session, identify(session, sender), "土豆", "张家村")
        except stock.StockError as exc:
            assert "查看" in str(exc), exc
            return False
    assert answer.startswith(f"#{world.potato_a} 龙角镇张家村") and "库存记录" in answer, answer
    return True


def op_vocabulary(world: World, sender: str, tmp_path: Path) -> bool:
    alias = f"测试名{uuid.uuid4().hex[:6]}"
    request = VocabularyRequest(RequestKind.ADD_ALIAS, alias, "土豆")
    with world.sessions() as session:
        try:  # the read-back
            preview(session, identify(session, sender), request)
            previewed = True
        except VocabularyError:
            previewed = False
    try:  # the confirmation (a forged one too): checked again
        with world.sessions() as session, session.begin():
            apply(session, identify(session, sender), request)
        applied = True
    except VocabularyError as exc:
        assert "只有县里的管理员" in str(exc), exc
        applied = False
    with world.sessions() as session:
        stored = session.scalar(select(ProductAlias.alias).where(ProductAlias.alias == alias))
    assert (stored is not None) == applied == previewed
    return applied


def _complaint(world: World) -> tuple[str, str]:
    """A delivered order of the buyer's and its complaint, filed by the buyer: (order number, complaint number)."""
    order_no = _new_order(world)
    with world.sessions() as session, session.begin():
        change_order(session, order_no, "deliver", identify(session, SENDERS["admin"]))
        complaint = file_complaint(session, order_no, identify(session, SENDERS["buyer"]), "质量", "有一半是烂的")
        return order_no, complaint.complaint_no


def _complaint_status(world: World, number: str) -> str:
    with world.sessions() as session:
        return session.scalars(select(Complaint.status).where(Complaint.complaint_no == number)).one()


def op_complain(world: World, sender: str, tmp_path: Path) -> bool:
    order_no = _new_order(world)
    with world.sessions() as session, session.begin():
        change_order(session, order_no, "deliver", identify(session, SENDERS["admin"]))
    try:
        with world.sessions() as session, session.begin():
            file_complaint(session, order_no, identify(session, sender), "数量不足", "少了两斤")
    except ComplaintError as exc:
        assert "只有下这个订单的采购方" in str(exc), exc
        with world.sessions() as session:
            assert (
                session.scalar(
                    select(Complaint).join(Order, Complaint.order_id == Order.id).where(Order.order_no == order_no)
                )
                is None
            )
        return False
    return True


def _complaint_move(move: str) -> Callable[[World, str, Path], bool]:
    targets = {"take": ComplaintStatus.IN_HAND, "settle": ComplaintStatus.CLOSED, "close": ComplaintStatus.CLOSED}

    def operation(world: World, sender: str, tmp_path: Path) -> bool:
        _order_no, number = _complaint(world)
        try:
            with world.sessions() as session, session.begin():
                actor = identify(session, sender)
                if move == "take":
                    take_up(session, number, actor)
                elif move == "settle":
                    settle(session, number, actor)
                else:
                    close(session, number, actor, "经核实已处理")
        except ComplaintError as exc:
            assert "权限" in str(exc) or "只有" in str(exc), exc
            assert _complaint_status(world, number) == ComplaintStatus.OPEN.value  # a refusal changes nothing
            return False
        assert _complaint_status(world, number) == targets[move].value
        return True

    return operation


def _households(action: type[HouseholdAction], text: str, answered: str) -> Callable[[World, str, Path], bool]:
    def operation(world: World, sender: str, tmp_path: Path) -> bool:
        tracker = Tracker(sender, {}, {"text": text, "entities": [], "intent": {}}, [], False, None, {}, "")
        dispatcher = CollectingDispatcher()
        services = Services(sessions=world.sessions, search=CatalogSearch(world.sessions))
        asyncio.run(action(services).run(dispatcher, tracker, {}))
        (message,) = dispatcher.messages
        if message.get("response") == "utter_households_admin_only":
            return False
        assert answered in message["text"], message
        return True

    return operation


def op_pairing(world: World, sender: str, tmp_path: Path) -> bool:
    firm = f"云阳县爱心{uuid.uuid4().hex[:6]}有限公司"  # a new firm each case: the table shares one database
    tracker = Tracker(sender, {}, {"text": f"把{firm}和龙角镇张家村结成帮扶对子", "entities": [], "intent": {}},
                      [], False, None, {}, "")  # fmt: skip
    dispatcher = CollectingDispatcher()
    services = Services(sessions=world.sessions, search=CatalogSearch(world.sessions))
    asyncio.run(ActionSetPairing(services).run(dispatcher, tracker, {}))
    (message,) = dispatcher.messages
    with world.sessions() as session:
        paired = session.scalar(select(Pairing.id).join(Buyer, Pairing.buyer_id == Buyer.id).where(Buyer.name == firm))
    assert message["text"].startswith("已登记" if paired else "只有县里的管理员"), message
    return paired is not None


def _offer_listing(world: World, offer: OfferKind) -> int:
    """A new 预售 or 认养 listing in 龙角镇张家村 of a product of its own (the table shares one database)."""
    name = f"测试{uuid.uuid4().hex[:6]}"
    with world.sessions() as session, session.begin():
        draft = ListingDraft(
            place=Gazetteer.load(session).resolve_region("龙角镇张家村", None),
            product_name=name,
            variety="",
            quantity=Quantity(Decimal(100), "斤"),
            price=Price(300, "斤"),
            supply_methods=SupplyMethod.DELIVERY,
            contact_name="李xx",
            contact_phone="17723635558",
            household=HouseholdRef("王某某"),
            offer=offer,
            expected_month=date(today().year + 1, 1, 1),
            terms="一头年猪，约200斤，腊月交付" if offer is OfferKind.ADOPTION else "",
        )
        CatalogWriter(session).write_all([draft])
        return session.scalars(select(Listing.id).join(Product).where(Product.name == name)).one()


def op_announce(world: World, sender: str, tmp_path: Path) -> bool:
    listing_id = _offer_listing(world, OfferKind.IN_HAND)
    try:
        with world.sessions() as session, session.begin():
            name = session.scalars(select(Product.name).join(Listing).where(Listing.id == listing_id)).one()
            said = parse_expected("12月上市，预计500斤", name)
            announce_expected(session, identify(session, sender), said, listing_id)
    except OfferError:
        return False
    with world.sessions() as session:
        return session.scalars(select(Listing.offer).where(Listing.id == listing_id)).one() == "预售"


def op_harvest(world: World, sender: str, tmp_path: Path) -> bool:
    listing_id = _offer_listing(world, OfferKind.PRE_ORDER)
    try:
        with world.sessions() as session, session.begin():
            confirm_harvest(session, identify(session, sender), listing_id, Quantity(Decimal(80), "斤"))
    except OfferError:
        return False
    with world.sessions() as session:
        return session.scalars(select(Listing.offer).where(Listing.id == listing_id)).one() == "现货"


def op_adoption_update(world: World, sender: str, tmp_path: Path) -> bool:
    listing_id = _offer_listing(world, OfferKind.ADOPTION)
    try:
        with world.sessions() as session, session.begin():
            send_update(session, identify(session, sender), listing_id, "猪已经长到150斤了")
    except OfferError:
        return False
    with world.sessions() as session:
        return session.scalar(select(AdoptionUpdate.id).where(AdoptionUpdate.listing_id == listing_id)) is not None


OPERATIONS: dict[str, Callable[[World, str, Path], bool]] = {
    "search the catalogue": op_search,
    "place an order": op_order,
    "see A's order": op_see,
    "confirm A's order": _change("confirm"),
    "deliver A's order": _change("deliver"),
    "cancel A's order": _change("cancel"),
    "update stock in A (张家村)": _stock("potato_a", "土豆", "张家村"),
    "update stock in A (高家村)": _stock("honey_a", "蜂蜜", "高家村"),
    "import A's rows": op_import,
    "report a sale": op_sale,
    "county sales summary": _summary("这个季度全县卖了多少", None),
    "A's sales summary": _summary("龙角镇这个季度卖了多少", "龙角镇"),
    "sees A's household names": op_household,
    "sees the buyer's phone": op_phone,
    "see A's stock history (张家村)": op_history,
    "keep the vocabulary": op_vocabulary,
    "complain about A's order": op_complain,
    "take up a complaint in A": _complaint_move("take"),
    "settle a complaint": _complaint_move("settle"),
    "close a complaint": _complaint_move("close"),
    "ask which households sold": _households(ActionHouseholdSales, "张家村今年哪些贫困户卖出了产品", "龙角镇张家村"),
    "ask how many households benefited": _households(ActionBeneficiaries, "全县有多少贫困户受益", "受益贫困户"),
    "pair a firm with a village": op_pairing,
    "see a union's budget": union_operation("see", SENDERS["buyer"]),
    "set a union's member count": union_operation("set", SENDERS["buyer"]),
    "announce a harvest in A (张家村)": op_announce,
    "confirm a harvest in A (张家村)": op_harvest,
    "send an update to A's adopters": op_adoption_update,
}


@pytest.mark.parametrize(("role", "operation", "allowed"), CASES)
def test_who_may_do_what(world: World, tmp_path: Path, role: str, operation: str, allowed: bool) -> None:
    assert OPERATIONS[operation](world, _sender(role), tmp_path) is allowed


def test_the_table_covers_every_role_and_operation() -> None:
    assert set(TABLE) == set(OPERATIONS)
    assert {role for role, _op, _allowed in (case.values for case in CASES)} == set(ROLES)
    assert {role.value for role in Role} == {"buyer", "contact", "lead", "market", "admin"}  # a new role: a column


# --- registration codes --------------------------------------------------------------------------------


def test_codes_are_stored_as_hashes_and_compared_in_constant_time(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.sessions() as session, session.begin():
        code = issue_code(session, Role.CONTACT, township="龙角镇").code
    digest = hashlib.sha256(code.encode("ascii")).hexdigest()
    with db.sessions() as session:
        (stored,) = session.scalars(select(RegistrationCode)).all()
        cells = [str(getattr(stored, column.key)) for column in RegistrationCode.__table__.columns]
    assert stored.code_hash == digest
    assert not any(code in cell.upper() for cell in cells)  # the code itself is never stored

    compared: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(one_time.hmac, "compare_digest", spy)
    with db.sessions() as session, session.begin():
        redeem_code(session, "telegram:30901", code.lower())
    assert compared == [(digest, digest)]  # the stored hash against the typed code's hash, nothing else

    # The comparison decides: were it to say "different", even the right code is refused.
    with db.sessions() as session, session.begin():
        second = issue_code(session, Role.ADMIN).code
    monkeypatch.setattr(one_time.hmac, "compare_digest", lambda a, b: False)
    with db.sessions() as session, session.begin(), pytest.raises(RegistrationError, match="不对"):
        redeem_code(session, "telegram:30902", second)
    with db.sessions() as session:
        assert identify(session, "telegram:30902").role is None


# --- no SQL built from strings ---------------------------------------------------------------------------

SCANNED = ("fupin", "actions", "bot", "nlu", "web")
EXECUTORS = frozenset({"execute", "executemany", "executescript", "exec_driver_sql"})
RAW_SQL = frozenset({"text", "literal_column", "TextClause"})
# Reviewed raw SQL: (file, the constant statement) → why it is safe.
REVIEWED = {
    ("fupin/db.py", "PRAGMA journal_mode=WAL"): "constant, on each new SQLite connection; no input",
    ("fupin/db.py", "PRAGMA busy_timeout=30000"): "constant, on each new SQLite connection; no input",
    ("fupin/db.py", "PRAGMA foreign_keys=ON"): "constant, on each new SQLite connection; no input",
    ("fupin/db.py", "PRAGMA synchronous=NORMAL"): "constant, on each new SQLite connection; no input",
    # The backup works on the SQLite file itself with the sqlite3 module (its online backup API), not SQLAlchemy.
    ("fupin/maintenance/backup.py", "PRAGMA integrity_check"): "constant check of a backup or restore file; no input",
    ("fupin/maintenance/backup.py", "SELECT version_num FROM alembic_version"): "constant read of a backup's revision",
}


def sql_from_strings(source: str, file: str) -> list[str]:
    """Every place in a module that hands SQL text to the database, unless reviewed: (line, what)."""
    tree = ast.parse(source)
    raw_names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
        for alias in node.names
        if alias.name in RAW_SQL
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        imported = isinstance(func, ast.Name) and name in raw_names
        qualified = (
            isinstance(func, ast.Attribute)
            and name in RAW_SQL
            and isinstance(func.value, ast.Name)
            and func.value.id in ("sa", "sqlalchemy", "sql")
        )
        if imported or qualified:
            found.append(f"{file}:{node.lineno} {name}(…) builds SQL from text")
        if isinstance(func, ast.Attribute) and name in EXECUTORS and node.args:
            statement = node.args[0]
            if isinstance(statement, ast.Constant) and isinstance(statement.value, str):
                if (file, statement.value) not in REVIEWED:
                    found.append(f"{file}:{node.lineno} {name}({statement.value!r}) runs raw SQL")
            elif _is_string_building(statement):
                found.append(f"{file}:{node.lineno} {name}(…) runs SQL built from strings")
    return found


def _is_string_building(node: ast.AST) -> bool:
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return any(
            isinstance(side, ast.Constant | ast.JoinedStr) or _is_string_building(side)
            for side in (node.left, node.right)
        )
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return False
    # "…".format(…) and "…".join(…) (a query's .join(Model) is no string).
    receiver = node.func.value
    return node.func.attr == "format" or (node.func.attr == "join" and isinstance(receiver, ast.Constant))


def test_no_sql_is_built_from_strings() -> None:
    files = sorted(path for folder in SCANNED for path in (PROJECT_ROOT / folder).rglob("*.py"))
    assert len(files) > 40
    found = [
        problem
        for path in files
        for problem in sql_from_strings(path.read_text(encoding="utf-8"), str(path.relative_to(PROJECT_ROOT)))
    ]
    assert found == []
    # Every reviewed exception still exists: a stale entry would hide a new statement of the same text.
    for file, statement in REVIEWED:
        assert statement in (PROJECT_ROOT / file).read_text(encoding="utf-8")


def test_the_sql_scan_finds_what_it_looks_for() -> None:
    bad = """
from sqlalchemy import text as t
import sqlalchemy as sa

def f(session, name, table):
    session.execute(f"SELECT * FROM orders WHERE buyer = '{name}'")
    session.execute("DELETE FROM listings WHERE id = %s" % name)
    session.execute("SELECT " + name)
    session.execute("SELECT {}".format(name))
    conn.exec_driver_sql("DROP TABLE orders")
    session.execute(t("SELECT 1"))
    session.execute(sa.text("SELECT 1"))
    cursor.executescript("PRAGMA foreign_keys=OFF")
    session.execute(", ".join(["SELECT 1", name]))
    session.execute(select(Order).join(Listing).where(Order.buyer == name))
"""
    found = sql_from_strings(bad, "example.py")
    assert sorted(int(line.split(":")[1].split()[0]) for line in found) == [6, 7, 8, 9, 10, 11, 12, 13, 14]


# --- Telegram ------------------------------------------------------------------------------------------

TG = {"stranger": 30001, "buyer": 30002, "contact_A": 30003, "contact_B": 30004, "admin": 30005}
TG_ROLES = tuple(TG)
# operation              stranger buyer  A   B  admin
TG_TABLE = {
    "/invite a contact": "N N N N Y",
    "/export the catalogue": "N N N N Y",
    "send A's 附件1 file": "N N Y N Y",
    "confirm A's order by button": "N N Y N Y",  # a push's button; any client can send any button data
    "/report A's 附件2": "N N Y N Y",  # B's contact gets B's own report, never A's
}
TG_CASES = [
    pytest.param(role, operation, flag == "Y", id=f"{operation}-{role}")
    for operation, flags in TG_TABLE.items()
    for role, flag in zip(TG_ROLES, flags.split(), strict=True)
]


MARKER = "权限测试户"  # the households of the files this module imports into the shared database


@pytest.fixture(scope="module")
def telegram(bot: Bot, fake: FakeTelegram) -> Iterator[RunningBot]:
    """The bot by long polling, with a Telegram account per role; the shared database put back afterwards."""
    users = {role: f"telegram:{user_id}" for role, user_id in TG.items()}
    with bot.sessions() as session:
        saved = session.execute(select(Listing.id, Listing.remaining_quantity, Listing.planned_quantity)).all()
    with bot.sessions() as session, session.begin():
        bind_user(session, users["buyer"], Role.BUYER)
        bind_user(session, users["contact_A"], Role.CONTACT, township="龙角镇")
        bind_user(session, users["contact_B"], Role.CONTACT, township="泥溪镇")
        bind_user(session, users["admin"], Role.ADMIN)
    try:
        # Telegram admins are those configured (any other loses the role at start).
        with with_bot(bot, fake, admin_telegram_ids=(ADMIN_ID, TG["admin"])) as running:
            yield running
    finally:
        with bot.sessions() as session, session.begin():
            for listing_id, remaining, planned in saved:
                session.execute(
                    update(Listing)
                    .where(Listing.id == listing_id)
                    .values(remaining_quantity=remaining, planned_quantity=planned)
                )
            marked = select(Listing.id).where(Listing.listing_key.contains(MARKER))
            session.execute(
                delete(StockMove).where(StockMove.listing_id.in_(marked)).execution_options(synchronize_session=False)
            )
            session.execute(
                delete(Listing).where(Listing.listing_key.contains(MARKER)).execution_options(synchronize_session=False)
            )
            # Later modules' orders in 龙角镇 should not be pushed to this module's accounts.
            session.execute(
                update(User)
                .where(User.channel == "telegram", User.external_id.in_([str(u) for u in TG.values()]))
                .values(role=Role.BUYER.value, township_id=None, village_id=None, contact_id=None)
            )


def _new(fake: FakeTelegram, user: int, before: int) -> list[Sent]:
    return messages(fake, user)[before:]


def _exchange(fake: FakeTelegram, user: int, send: Callable[[], object], *markers: str) -> list[Sent]:
    """Send something and wait for an answer carrying one of the markers (pushes may arrive meanwhile)."""
    before = len(messages(fake, user))
    send()

    def answered(f: FakeTelegram) -> bool:
        return any(
            marker in (m.text or "") or marker in (m.document_name or "")
            for m in _new(f, user, before)
            for marker in markers
        )

    fake.wait_for(answered, timeout=60)
    return _new(fake, user, before)


def _texts(messages: list[Sent]) -> str:
    return "\n".join(m.text or "" for m in messages)


ADMIN_ONLY = "只对县级管理员开放"
CONTACT_OR_ADMIN_ONLY = "只有乡镇（村）供货联系人和县级管理员可以上传供应目录"
REPORT_ONLY = "季度报表只对"


def tg_invite(bot: Bot, fake: FakeTelegram, role: str, tmp_path: Path) -> bool:
    user = TG[role]
    answer = _texts(
        _exchange(fake, user, lambda: fake.send_text(user, "/invite contact 龙角镇"), "邀请码：", ADMIN_ONLY)
    )
    return "邀请码：" in answer


def tg_export(bot: Bot, fake: FakeTelegram, role: str, tmp_path: Path) -> bool:
    user = TG[role]
    sent = _exchange(fake, user, lambda: fake.send_text(user, "/export"), ".xlsx", ADMIN_ONLY)
    files = [m for m in sent if m.method == "sendDocument"]
    assert bool(files) != (ADMIN_ONLY in _texts(sent))
    return bool(files) and (files[0].document_bytes or b"")[:2] == b"PK"


def tg_import(bot: Bot, fake: FakeTelegram, role: str, tmp_path: Path) -> bool:
    user = TG[role]
    household = f"{MARKER}{role}"
    path = write_xlsx(tmp_path / "龙角镇附件1.xlsx", [row(household=household, product="魔芋")])
    answer = _texts(
        _exchange(fake, user, lambda: fake.send_document(user, path), "已导入", "未导入", CONTACT_OR_ADMIN_ONLY)
    )
    with bot.sessions() as session:
        written = session.scalars(select(Listing).where(Listing.listing_key.contains(household))).all()
    if "新增1条" in answer:
        assert len(written) == 1
        return True
    assert "不在您负责的范围内" in answer or CONTACT_OR_ADMIN_ONLY in answer, answer
    assert written == []
    return False


def _potato_a(bot: Bot) -> int:
    with bot.sessions() as session:
        return session.scalars(
            select(Listing.id)
            .join(Product)
            .join(Village)
            .where(Product.name == "土豆", Village.short_name == "张家村")
            .order_by(Listing.id)
        ).first()


def tg_confirm(bot: Bot, fake: FakeTelegram, role: str, tmp_path: Path) -> bool:
    user = TG[role]
    with bot.sessions() as session, session.begin():
        order, _quote = place_order(
            session,
            sender_id=f"telegram:{TG['buyer']}",
            listing_id=_potato_a(bot),
            quantity=Quantity(Decimal(1), "斤"),
            buyer_name="县人民医院食堂",
            phone="17723635558",
            supply_method=SupplyMethod.DELIVERY,
        )
        order_no = order.order_no
    (shown,) = _exchange(fake, user, lambda: fake.send_text(user, "/cancel"), "")[:1]
    answer = _texts(
        _exchange(
            fake, user, lambda: fake.press(user, shown.message_id, f"order:confirm:{order_no}"), "已确认", "没有权限"
        )
    )
    with bot.sessions() as session:
        status = session.scalars(select(Order.status).where(Order.order_no == order_no)).one()
    if f"订单 {order_no} 已确认" in answer:
        assert status == OrderStatus.CONFIRMED.value
        return True
    assert "没有权限" in answer and status == OrderStatus.PENDING.value, answer
    return False


def tg_report(bot: Bot, fake: FakeTelegram, role: str, tmp_path: Path) -> bool:
    user = TG[role]
    if role == "admin":
        sent = _exchange(fake, user, lambda: fake.send_text(user, "/report sales 龙角镇"), ".xlsx", "用法")
        return any(m.method == "sendDocument" and "龙角镇" in (m.document_name or "") for m in sent)
    answer = _texts(_exchange(fake, user, lambda: fake.send_text(user, "/report"), "附件2", "附件3", REPORT_ONLY))
    if role == "contact_B":
        assert "泥溪镇" in answer, answer  # their own township's
    return "龙角镇" in answer and REPORT_ONLY not in answer


TG_OPERATIONS: dict[str, Callable[[Bot, FakeTelegram, str, Path], bool]] = {
    "/invite a contact": tg_invite,
    "/export the catalogue": tg_export,
    "send A's 附件1 file": tg_import,
    "confirm A's order by button": tg_confirm,
    "/report A's 附件2": tg_report,
}


@pytest.mark.parametrize(("role", "operation", "allowed"), TG_CASES)
def test_who_may_do_what_through_telegram(
    bot: Bot, fake: FakeTelegram, telegram: RunningBot, tmp_path: Path, role: str, operation: str, allowed: bool
) -> None:
    assert TG_OPERATIONS[operation](bot, fake, role, tmp_path) is allowed


# --- the webhook secret --------------------------------------------------------------------------------


def _update(update_id: int, user: int, text: str) -> dict[str, Any]:
    person = {"id": user, "is_bot": False, "first_name": "用户"}
    message = {
        "message_id": 1,
        "date": int(time.time()),
        "chat": {"id": user, "type": "private", "first_name": "用户"},
        "from": person,
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
    }
    return {"update_id": update_id, "message": message}


def test_webhook_updates_are_processed_only_with_the_secret(bot: Bot) -> None:
    pytest.importorskip("tornado", reason="PTB's webhook server needs python-telegram-bot[webhooks]")
    port = free_port()
    url = f"http://127.0.0.1:{port}/fupin-hook"
    secret = f"s3cret-{uuid.uuid4().hex}"
    webhook = {
        "listen": "127.0.0.1",
        "port": port,
        "url_path": "fupin-hook",
        "webhook_url": url,
        "secret_token": secret,
    }
    with FakeTelegram() as hook_fake:
        # The same admins as the module's other bot: a start demotes every Telegram admin it is not told of.
        settings = settings_for(hook_fake, str(bot.sessions.kw["bind"].url), admin_telegram_ids=(ADMIN_ID, TG["admin"]))
        with running_telegram(hook_fake, settings, bot.assistant, bot.sessions, webhook=webhook):
            # Telegram's own deliveries carry the secret the bot registered.
            assert hook_fake.calls("setWebhook")[-1].params["secret_token"] == secret
            hook_fake.send_text(31001, "/start")
            (greeting,) = hook_fake.wait_sent(31001, 1, timeout=60)
            assert "消费扶贫助手" in (greeting.text or "")
            with httpx.Client(timeout=10) as client:
                assert client.post(url, json=_update(900_001, 31002, "/start")).status_code == 403
                wrong = {"X-Telegram-Bot-Api-Secret-Token": secret[:-1] + "x"}
                assert client.post(url, json=_update(900_002, 31002, "/start"), headers=wrong).status_code == 403
                # Nothing should happen, so there is nothing to wait for: a refused update would have been
                # answered within milliseconds (a /start needs no model); the answer below is counted exactly.
                time.sleep(0.5)
                assert hook_fake.sent_to(31002) == []  # neither was processed
                right = {"X-Telegram-Bot-Api-Secret-Token": secret}
                assert client.post(url, json=_update(900_003, 31002, "/start"), headers=right).status_code == 200
            (answer,) = hook_fake.wait_sent(31002, 1, timeout=60)  # the same update with the secret is
            assert "消费扶贫助手" in (answer.text or "")


def test_webhook_mode_needs_a_secret_and_hands_it_to_the_webhook_server(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(telegram_bot_token="123456:TEST", telegram_webhook_url="https://example.org/fupin-hook")
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        telegram_app.run(settings)
    started: list[dict[str, Any]] = []
    monkeypatch.setattr(Application, "run_webhook", lambda self, **kwargs: started.append(kwargs))
    telegram_app.run(replace(settings, telegram_webhook_secret="s3cret"))
    (arguments,) = started
    assert arguments["secret_token"] == "s3cret" and arguments["url_path"] == "fupin-hook"
    assert arguments["webhook_url"] == "https://example.org/fupin-hook"
