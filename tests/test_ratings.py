"""Ratings: one per delivered order by its buyer, changeable for 7 days, a village's average shown and ranked."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from fupin.catalog.search import CatalogSearch
from fupin.complaints.pushes import parse_complain_action
from fupin.models import Listing, Notification, Product, Rating, Village, utcnow
from fupin.orders.ratings import RatingError, parse_rating_action, rate_order, stars_in, stars_text, words_in
from fupin.outreach.users import bind_user, identify
from fupin.setup import seed_demo
from fupin.values import Role
from tests.conftest import Database
from tests.orders_data import place

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def demo(db: Database) -> Database:
    """The demo catalogue with the contacts of 龙角镇 and 清水土家族乡."""
    assert seed_demo(db.sessions).ok
    with db.sessions() as session, session.begin():
        bind_user(session, "console:contact-lj", Role.CONTACT, township="龙角镇")
        bind_user(session, "console:contact-qs", Role.CONTACT, township="清水土家族乡")
    return db


def _honey(db: Database, village: str) -> int:
    with db.sessions() as session:
        return session.scalars(
            select(Listing.id).join(Product).join(Village).where(Product.name == "蜂蜜", Village.name.contains(village))
        ).one()


def _order(db: Database, buyer: str, listing_id: int, deliver: bool = True) -> str:
    with db.sessions() as session:
        listing = session.get(Listing, listing_id)
        assert listing is not None
        contact = "console:contact-lj" if "高家村" in listing.place_label else "console:contact-qs"
    return place(db.sessions, buyer, listing_id, deliver_as=contact if deliver else None)


def _rate(db: Database, buyer: str, order_no: str, stars: int, when: datetime = NOW) -> bool:
    with db.sessions() as session, session.begin():
        return rate_order(session, order_no, stars, identify(session, buyer), when).changed


def test_the_buyer_rates_a_delivered_order_once_and_may_change_it_for_seven_days(demo: Database) -> None:
    order_no = _order(demo, "console:r1", _honey(demo, "高家村"))
    assert _rate(demo, "console:r1", order_no, 4) is False
    assert _rate(demo, "console:r1", order_no, 2, NOW + timedelta(days=6)) is True
    with pytest.raises(RatingError, match="评价7天后不能再修改"):
        _rate(demo, "console:r1", order_no, 5, NOW + timedelta(days=8))
    with demo.sessions() as session:
        (rating,) = session.scalars(select(Rating)).all()
        assert rating.stars == 2 and rating.updated_at == NOW + timedelta(days=6)


def test_only_its_buyer_rates_and_only_once_delivered(demo: Database) -> None:
    listing = _honey(demo, "高家村")
    delivered = _order(demo, "console:r2", listing)
    open_order = _order(demo, "console:r2", listing, deliver=False)
    with pytest.raises(RatingError, match="只有下这个订单的采购方可以评价"):
        _rate(demo, "console:someone-else", delivered, 5)
    with pytest.raises(RatingError, match="送达以后才能评价"):
        _rate(demo, "console:r2", open_order, 5)
    with pytest.raises(RatingError, match="1到5星"):
        _rate(demo, "console:r2", delivered, 6)
    with pytest.raises(RatingError, match="没有找到订单"):
        _rate(demo, "console:r2", "XF000000000000", 5)
    with demo.sessions() as session:
        assert session.scalars(select(Rating)).all() == []


def test_a_villages_rating_is_shown_from_three_ratings_and_ranks_it_among_equals(demo: Database) -> None:
    search = CatalogSearch(demo.sessions)
    gaojia, cixi = _honey(demo, "高家村"), _honey(demo, "磁溪村")

    def gaojia_freshest() -> None:
        # Both honey villages are in stock and neither is deep-poverty: equals, the fresher first.
        with demo.sessions() as session, session.begin():
            session.execute(update(Listing).where(Listing.id == gaojia).values(updated_at=utcnow()))

    gaojia_freshest()
    assert [v.place for v in search.search(product="蜂蜜").listings] == ["龙角镇高家村", "清水土家族乡磁溪村"]
    for number, stars in enumerate((5, 4), start=1):
        _rate(demo, f"console:rc{number}", _order(demo, f"console:rc{number}", cixi), stars)
    gaojia_freshest()
    two = search.search(product="蜂蜜").listings
    assert [v.place for v in two] == ["龙角镇高家村", "清水土家族乡磁溪村"] and two[1].rating is None
    _rate(demo, "console:rc3", _order(demo, "console:rc3", cixi), 5)
    gaojia_freshest()
    three = search.search(product="蜂蜜").listings
    assert [v.place for v in three] == ["清水土家族乡磁溪村", "龙角镇高家村"]
    assert three[0].rating is not None and three[0].rating.label() == "评分 4.7（3单）"
    assert three[1].rating is None


def test_the_delivery_push_asks_the_buyer_for_stars(demo: Database) -> None:
    with demo.sessions() as session, session.begin():
        bind_user(session, "telegram:7301", Role.BUYER)
    order_no = _order(demo, "telegram:7301", _honey(demo, "高家村"))
    with demo.sessions() as session:
        pushes = session.scalars(select(Notification).where(Notification.kind == "order_status")).all()
    (delivered,) = [p for p in pushes if "已送达" in p.text]
    assert "打个分" in delivered.text
    buttons = json.loads(delivered.buttons)
    assert [title for title, _data in buttons] == ["1星", "2星", "3星", "4星", "5星", "质量投诉"]
    assert parse_rating_action(buttons[4][1]) == (order_no, 5)
    assert parse_complain_action(buttons[5][1]) == order_no


def test_stars_are_read_from_what_people_write() -> None:
    assert [stars_in(t) for t in ("打5星", "五星好评", "评个４颗星", "给三星吧", "很好", "打8星")] == [
        5,
        5,
        4,
        3,
        None,
        None,
    ]
    assert stars_text(4) == "★★★★☆"


def test_words_beside_the_stars_are_kept_and_told_to_the_contacts(demo: Database) -> None:
    with demo.sessions() as session, session.begin():
        bind_user(session, "telegram:6101", Role.CONTACT, township="龙角镇")
    order_no = _order(demo, "console:buyer-w", _honey(demo, "高家村"))
    assert words_in(f"给订单{order_no}打2星，蜂蜜有点稀") == "蜂蜜有点稀"
    assert words_in(f"给订单{order_no}打5星吧") == ""
    with demo.sessions() as session, session.begin():
        rated = rate_order(session, order_no, 2, identify(session, "console:buyer-w"), NOW, "蜂蜜有点稀")
    assert rated.words == "蜂蜜有点稀"
    # New stars alone keep the words; nothing new is pushed for them.
    with demo.sessions() as session, session.begin():
        assert rate_order(session, order_no, 3, identify(session, "console:buyer-w"), NOW).words == "蜂蜜有点稀"
    with demo.sessions() as session:
        assert session.scalars(select(Rating.words)).one() == "蜂蜜有点稀"
        pushed = session.scalars(select(Notification.text).where(Notification.kind == "rating_words")).all()
    assert len(pushed) == 1 and f"采购方对订单 {order_no}" in pushed[0] and "★★☆☆☆（2星）“蜂蜜有点稀”" in pushed[0]
