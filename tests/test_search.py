"""Search by product and place: aliases, typos, homophones, partial places, ranking, live catalogue."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update

from fupin.catalog.files import import_catalog_files
from fupin.catalog.listings import add_alias
from fupin.catalog.search import CatalogSearch, sounds_like
from fupin.models import Listing, Product, Township
from fupin.outreach.users import Identity
from fupin.setup import seed_demo
from fupin.values import Role
from tests.conftest import Database
from tests.helpers import row, write_xlsx


@pytest.fixture
def demo(db: Database) -> Database:
    """The demo catalogue on each backend."""
    assert seed_demo(db.sessions).ok
    return db


def _products(result: object) -> set[str]:
    return {v.product for v in result.listings}  # type: ignore[attr-defined]


@pytest.mark.parametrize("written", ["土豆", "洋芋", "马铃薯", "土逗", "新鲜土豆"])
def test_product_by_name_alias_typo_or_homophone(demo: Database, written: str) -> None:
    result = CatalogSearch(demo.sessions).search(product=written, limit=10)
    assert _products(result) == {"土豆"}
    assert result.total == 4


@pytest.mark.parametrize(
    ("written", "product"), [("蜂密", "蜂蜜"), ("核挑", "核桃"), ("红苕", "红薯"), ("木耳", "黑木耳")]
)
def test_near_names(demo: Database, written: str, product: str) -> None:
    result = CatalogSearch(demo.sessions).search(product=written)
    assert _products(result) == {product}


def test_result_carries_what_a_buyer_needs(demo: Database) -> None:
    result = CatalogSearch(demo.sessions).search(product="土豆", place="龙角")
    (view,) = result.listings
    assert view.place == "龙角镇张家村"
    assert str(view.remaining) == "2000斤" and view.price.fen == 150
    assert view.supply_methods == ("送货上门", "上门自提")
    assert (view.contact_name, view.contact_phone) == ("李xx", "17723635558")
    # Poverty status is sensitive: the household's name is not for an anonymous buyer, but for an admin.
    assert view.household == ""
    admin = Identity("console", "admin", user_id=1, role=Role.ADMIN)
    (shown,) = CatalogSearch(demo.sessions).search(product="土豆", place="龙角", viewer=admin).listings
    assert shown.household == "王某某"


@pytest.mark.parametrize("place", ["龙角镇", "龙角", "云阳县龙角镇"])
def test_place_only_lists_what_it_offers(demo: Database, place: str) -> None:
    result = CatalogSearch(demo.sessions).search(place=place, limit=10)
    assert {v.township for v in result.listings} == {"龙角镇"}
    assert _products(result) == {"土豆", "红薯", "蜂蜜", "腊肉", "白菜"}


def test_village_place_and_free_text(demo: Database) -> None:
    search = CatalogSearch(demo.sessions)
    assert _products(search.search(place="张家村", limit=10)) == {"土豆", "红薯", "白菜"}
    assert {v.township for v in search.search_text("龙角镇有什么特产", limit=10).listings} == {"龙角镇"}
    assert _products(search.search_text("哪里有洋芋卖")) == {"土豆"}
    assert _products(search.search_text("蜂蜜多少钱一斤")) == {"蜂蜜"}


def test_unknown_product_and_place_are_flagged_never_invented(demo: Database) -> None:
    search = CatalogSearch(demo.sessions)
    result = search.search(product="榴莲")
    assert result.unknown_product and result.listings == [] and result.total == 0
    result = search.search(product="土豆", place="火星镇")
    assert result.unknown_place and result.listings == []


def test_nothing_at_that_place_offers_the_product_elsewhere(demo: Database) -> None:
    result = CatalogSearch(demo.sessions).search(product="黑木耳", place="龙角镇")
    assert result.total == 0 and result.listings == []
    assert {v.township for v in result.alternatives} == {"泥溪镇"}


def test_in_stock_first_then_deep_poverty(demo: Database) -> None:
    search = CatalogSearch(demo.sessions)
    first = search.search(product="土豆", limit=10).listings
    assert first[0].township == "泥溪镇" and first[0].deep_poverty  # the deep-poverty township leads
    with demo.sessions() as session, session.begin():
        session.execute(update(Listing).where(Listing.id == first[0].listing_id).values(remaining_quantity=Decimal(0)))
    again = search.search(product="土豆", limit=10).listings
    assert again[-1].listing_id == first[0].listing_id  # sold out sinks to the bottom
    assert all(v.in_stock for v in again[:-1])


def test_flagging_a_village_deep_poverty_changes_ranking(demo: Database) -> None:
    search = CatalogSearch(demo.sessions, refresh_seconds=0)
    with demo.sessions() as session, session.begin():
        session.execute(update(Township).where(Township.name == "泥溪镇").values(deep_poverty=False))
        listing = session.scalars(
            select(Listing)
            .join(Product)
            .where(Product.name == "土豆", Listing.village_id.is_not(None))
            .order_by(Listing.id.desc())
        ).first()
        assert listing is not None and listing.village is not None
        listing.village.deep_poverty = True
        target = listing.id
    assert search.search(product="土豆").listings[0].listing_id == target


def test_catalogue_gains_are_found_without_code_change(demo: Database, tmp_path: Path) -> None:
    search = CatalogSearch(demo.sessions, refresh_seconds=3600)
    search.search(product="土豆")  # warm the cached vocabulary
    path = write_xlsx(tmp_path / "new.xlsx", [row(product="天麻", price="80元/斤")])
    assert import_catalog_files(demo.sessions, [path]).ok
    assert _products(search.search(product="天麻")) == {"天麻"}  # exact name, found at once
    with demo.sessions() as session, session.begin():
        add_alias(session, "天麻", "赤箭")
    assert _products(search.search(product="赤箭")) == {"天麻"}


def test_pagination(demo: Database) -> None:
    search = CatalogSearch(demo.sessions)
    page1 = search.search(product="土豆", limit=2)
    page2 = search.search(product="土豆", limit=2, offset=2)
    assert page1.total == page2.total == 4
    ids = [v.listing_id for v in page1.listings + page2.listings]
    assert len(set(ids)) == 4


def test_sounds_like() -> None:
    assert sounds_like("洋玉", "洋芋") == "homophone"
    assert sounds_like("牛肉", "柳肉") == "homophone"  # n/l merge in the local accent
    assert sounds_like("土豆", "土鸡") is None
    assert sounds_like("猕猴挑", "猕猴桃") == "homophone"
    assert sounds_like("土", "兔") is None


def test_a_product_finds_its_varieties_exact_names_first(demo: Database, tmp_path: Path) -> None:
    # 红心猕猴桃 as a product of its own (made before the importer read varieties), and 猕猴桃（金果）.
    with demo.sessions() as session, session.begin():
        session.add(Product(name="红心猕猴桃"))
    rows = [
        row(product="红心猕猴桃", quantity="600斤", price="8元/斤"),
        row(product="猕猴桃（金果）", household="陈某某", quantity="100斤", price="9元/斤"),
    ]
    assert import_catalog_files(demo.sessions, [write_xlsx(tmp_path / "龙角镇.xlsx", rows)]).ok
    search = CatalogSearch(demo.sessions, refresh_seconds=0)
    for written in ("猕猴桃", "奇异果"):
        result = search.search(product=written, limit=10)
        assert [(v.product, v.variety) for v in result.listings] == [("猕猴桃", "金果"), ("红心猕猴桃", "")]
    # 土鸡 is not a variety of 土鸡蛋: a variety's name ends with its product's.
    assert _products(search.search(product="土鸡", limit=10)) == {"土鸡"}


@pytest.mark.parametrize("written", ["红薯粉条", "土豆片", "核桃酒", "苕粉"])
def test_what_is_made_of_a_product_is_not_the_product(demo: Database, written: str) -> None:
    # Chinese puts the head noun last: 红薯粉条 is noodles; offering 红薯 would be a wrong answer.
    result = CatalogSearch(demo.sessions).search(product=written)
    assert result.listings == [] and result.unknown_product
