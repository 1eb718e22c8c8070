"""Registration codes, the push outbox, and the pushes an order's life writes (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from fupin.models import Listing, Notification, Product, RegistrationCode, User
from fupin.orders.lifecycle import change_order, place_order
from fupin.orders.pushes import parse_order_action
from fupin.outreach import notifications
from fupin.outreach.registration import RegistrationError, issue_code, normalise_code, redeem_code
from fupin.outreach.users import bind_user, identify
from fupin.parsing import ParseError
from fupin.setup import seed_demo
from fupin.values import Quantity, Role, SupplyMethod
from tests.conftest import Database

CONTACT = "telegram:501"
BUYER = "telegram:601"


def _code(db: Database, role: Role = Role.CONTACT, **kwargs: object) -> str:
    with db.sessions() as session, session.begin():
        return issue_code(session, role, **kwargs).code  # type: ignore[arg-type]


def test_code_binds_a_contact_to_its_village_once(db: Database) -> None:
    code = _code(db, township="龙角镇", village="张家村")
    with db.sessions() as session:
        stored = session.scalars(select(RegistrationCode.code_hash)).all()
    assert code not in stored and len(stored[0]) == 64  # only the hash is kept
    with db.sessions() as session, session.begin():
        _user, scope = redeem_code(session, CONTACT, code.lower()[:5] + " " + code.lower()[5:])
    assert scope == "龙角镇张家村供货联系人"
    with db.sessions() as session:
        identity = identify(session, CONTACT)
    assert identity.is_contact and identity.village_id is not None
    with db.sessions() as session, session.begin(), pytest.raises(RegistrationError, match="已经用过"):
        redeem_code(session, "telegram:502", code)


def test_wrong_short_and_expired_codes_are_refused(db: Database) -> None:
    with db.sessions() as session, session.begin(), pytest.raises(RegistrationError, match="10位"):
        redeem_code(session, CONTACT, "ABC")
    with db.sessions() as session, session.begin(), pytest.raises(RegistrationError, match="不对"):
        redeem_code(session, CONTACT, "ABCDEFGHJK")
    expired = _code(db, township="泥溪镇", ttl=timedelta(seconds=-1))
    with db.sessions() as session, session.begin(), pytest.raises(RegistrationError, match="过期"):
        redeem_code(session, CONTACT, expired)
    with db.sessions() as session:
        assert identify(session, CONTACT).role is None


def test_codes_need_a_real_place_or_lead_unit(db: Database) -> None:
    with db.sessions() as session, session.begin(), pytest.raises(ParseError):
        issue_code(session, Role.CONTACT, township="火星镇")
    with db.sessions() as session, session.begin(), pytest.raises(ParseError):
        issue_code(session, Role.CONTACT)
    with db.sessions() as session, session.begin(), pytest.raises(ParseError, match="牵头单位"):
        issue_code(session, Role.LEAD, lead_unit="县宇航局")
    code = _code(db, Role.LEAD, lead_unit="县教委")
    with db.sessions() as session, session.begin():
        user, scope = redeem_code(session, "telegram:700", code)
        assert user.lead_unit == "县教委" and scope == "县教委牵头单位联系人"


def test_a_code_sent_twice_at_once_binds_one_account(db: Database) -> None:
    code = _code(db, township="龙角镇")

    def attempt(n: int) -> bool:
        try:
            with db.sessions() as session, session.begin():
                redeem_code(session, f"telegram:{800 + n}", code)
            return True
        except RegistrationError:
            return False

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(attempt, range(8)))
    assert results.count(True) == 1


def test_normalise_code_forgives_confusable_letters() -> None:
    assert normalise_code(" ab-cd 2345 ") == "ABCD2345"
    assert normalise_code("OIL") == "011"


def _user(db: Database, sender: str, role: Role = Role.BUYER, **kw: Any) -> User:
    with db.sessions() as session, session.begin():
        return bind_user(session, sender, role, **kw)


def test_outbox_claims_once_and_retries_within_bounds(db: Database) -> None:
    user = _user(db, "telegram:42")
    with db.sessions() as session, session.begin():
        assert notifications.enqueue(session, user, "test", "你好", [("好", "x")], dedupe_key="k1")
        assert not notifications.enqueue(session, user, "test", "你好", dedupe_key="k1")  # once only
    with db.sessions() as session, session.begin():
        first = notifications.claim(session, "telegram")
    with db.sessions() as session, session.begin():
        assert notifications.claim(session, "telegram") == []  # claimed by the first sender
    assert [p.text for p in first] == ["你好"] and first[0].buttons == [("好", "x")]
    assert first[0].external_id == "42"
    for attempt in range(notifications.MAX_ATTEMPTS):
        with db.sessions() as session, session.begin():
            notifications.mark_retry(session, first[0], "network", delay_seconds=0)
            claimed = notifications.claim(session, "telegram")
        if attempt < notifications.MAX_ATTEMPTS - 1:
            assert len(claimed) == 1
            first = claimed
    with db.sessions() as session:
        row = session.scalars(select(Notification)).one()
    assert row.status == notifications.FAILED and row.attempts == notifications.MAX_ATTEMPTS


@pytest.fixture
def demo(db: Database) -> Database:
    """The demo catalogue with a Telegram contact for 龙角镇 and a console one for 泥溪镇."""
    assert seed_demo(db.sessions).ok
    _user(db, CONTACT, Role.CONTACT, township="龙角镇")
    _user(db, "console:nx", Role.CONTACT, township="龙角镇")
    return db


def _place(db: Database, sender: str = BUYER) -> str:
    with db.sessions() as session:
        listing = session.scalars(
            select(Listing).join(Product).where(Product.name == "土豆", Listing.listing_key.contains("500235105"))
        ).one()
    with db.sessions() as session, session.begin():
        order, _ = place_order(
            session,
            sender_id=sender,
            listing_id=listing.id,
            quantity=Quantity(Decimal(30), "斤"),
            buyer_name="县人民医院食堂",
            phone="17723635558",
            supply_method=SupplyMethod.DELIVERY,
        )
        return order.order_no


def _pushes(db: Database) -> list[Notification]:
    with db.sessions() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def test_new_order_is_pushed_to_telegram_contacts_with_buttons(demo: Database) -> None:
    order_no = _place(demo)
    pushes = _pushes(demo)
    assert len(pushes) == 1  # the console contact cannot receive pushes
    push = pushes[0]
    assert push.kind == "new_order" and order_no in push.text and "县人民医院食堂" in push.text
    actions = [parse_order_action(payload) for _title, payload in json.loads(push.buttons)]
    assert actions == [("confirm", order_no), ("reject", order_no)]


def test_status_changes_are_pushed_to_the_buyer_not_the_actor(demo: Database) -> None:
    order_no = _place(demo)
    with demo.sessions() as session, session.begin():
        change_order(session, order_no, "confirm", identify(session, CONTACT))
    with demo.sessions() as session, session.begin():
        change_order(session, order_no, "deliver", identify(session, CONTACT))
    texts = [p.text for p in _pushes(demo) if p.kind == "order_status"]
    assert len(texts) == 2 and "已被供货方确认" in texts[0] and "已送达" in texts[1] and "付款" in texts[1]
    with demo.sessions() as session:
        buyer = session.scalars(select(User).where(User.external_id == "601")).one()
    assert {p.user_id for p in _pushes(demo) if p.kind == "order_status"} == {buyer.id}


def test_a_cancelled_order_is_pushed_to_the_contacts(demo: Database) -> None:
    order_no = _place(demo)
    with demo.sessions() as session, session.begin():
        change_order(session, order_no, "cancel", identify(session, BUYER))
    cancelled = [p for p in _pushes(demo) if p.kind == "order_status"]
    assert len(cancelled) == 1 and "已被采购方取消" in cancelled[0].text


def test_parse_order_action_ignores_other_data() -> None:
    assert parse_order_action("order:pay:XF1") == ("pay", "XF1")
    assert parse_order_action("/affirm") is None
    assert parse_order_action("order::") is None
