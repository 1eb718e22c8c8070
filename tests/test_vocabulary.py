"""The vocabulary the county keeps: listing products, aliases added and removed, merging a product into another."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from fupin.catalog.listings import CatalogWriter, ListingDraft
from fupin.catalog.search import CatalogSearch
from fupin.catalog.vocabulary import (
    ChangeKind,
    VocabularyError,
    add_product_alias,
    list_products,
    merge_products,
    remove_product_alias,
)
from fupin.models import Listing, Order, Product, ProductAlias, SaleRecord, Township, VocabularyChange
from fupin.orders.lifecycle import change_order, place_order
from fupin.outreach.users import bind_user, identify
from fupin.periods import quarter_of, today
from fupin.places import Gazetteer
from fupin.reporting.form_writers import write_sales_form
from fupin.reporting.quarter import township_report
from fupin.reporting.sales import SaleDraft, record_sale
from fupin.setup import seed_demo
from fupin.values import JIN, Price, Quantity, Role, SupplyMethod
from tests.conftest import Cli, Database
from tests.helpers import row, write_xlsx


@pytest.fixture
def demo(db: Database) -> Database:
    """The demo catalogue on each backend."""
    assert seed_demo(db.sessions).ok
    return db


def _wrong_product(db: Database, name: str = "红心猕猴桃", region: str = "龙角镇张家村") -> int:
    """A listing under a product made from a variety's name, as imports before issue #19 created them."""
    with db.sessions() as session, session.begin():
        place = Gazetteer.load(session).resolve_region(region, None)
        draft = ListingDraft(
            place=place,
            product_name=name,
            variety="",
            quantity=Quantity(Decimal(600), JIN),
            price=Price(800, JIN),
            supply_methods=SupplyMethod.DELIVERY,
            contact_name="李xx",
            contact_phone="17723635558",
        )
        CatalogWriter(session).write_all([draft])
        return session.scalars(select(Listing.id).join(Product).where(Product.name == name)).one()


def test_alias_add_and_remove(demo: Database) -> None:
    with demo.sessions() as session, session.begin():
        add_product_alias(session, "藤梨", "奇异果", "cli")  # an alias names its product too
    search = CatalogSearch(demo.sessions, refresh_seconds=0)
    assert search.search(product="藤梨").products[0].product == "猕猴桃"
    with demo.sessions() as session, session.begin():
        with pytest.raises(VocabularyError, match="已经是"):
            add_product_alias(session, "奇异果", "猕猴桃", "cli")
        with pytest.raises(VocabularyError, match=r"洋芋.*土豆"):
            add_product_alias(session, "洋芋", "猕猴桃", "cli")
        with pytest.raises(VocabularyError, match="没有产品"):
            add_product_alias(session, "藤藤", "天山雪莲", "cli")
        assert remove_product_alias(session, "藤梨", "cli") == "猕猴桃"
        with pytest.raises(VocabularyError, match="没有叫"):
            remove_product_alias(session, "藤梨", "cli")
    with demo.sessions() as session:
        kinds = session.execute(select(VocabularyChange.kind, VocabularyChange.name).order_by(VocabularyChange.id))
        assert kinds.all() == [(ChangeKind.ALIAS_ADDED.value, "藤梨"), (ChangeKind.ALIAS_REMOVED.value, "藤梨")]


def test_list_products_with_aliases_and_counts(demo: Database) -> None:
    with demo.sessions() as session:
        products = {p.name: p for p in list_products(session)}
    assert {"洋芋", "马铃薯"} <= set(products["土豆"].aliases)
    assert products["土豆"].listings == 4
    assert products["猕猴桃"].listings == 0


def test_merge_moves_listings_orders_and_sale_records_and_keeps_the_forms(demo: Database, tmp_path: Path) -> None:
    listing_id = _wrong_product(demo)
    quarter = quarter_of(today())
    with demo.sessions() as session, session.begin():
        bind_user(session, "console:contact-lj", Role.CONTACT, township="龙角镇", display_name="李xx")
        contact = identify(session, "console:contact-lj")
        delivered, _ = place_order(
            session, sender_id="console:buyer", listing_id=listing_id, quantity=Quantity(Decimal(30), JIN),
            buyer_name="县人民医院食堂", phone="17723635558", supply_method=SupplyMethod.DELIVERY,
        )  # fmt: skip
        change_order(session, delivered.order_no, "deliver", contact)
        open_order, _ = place_order(
            session, sender_id="console:buyer", listing_id=listing_id, quantity=Quantity(Decimal(20), JIN),
            buyer_name="县第一中学", phone="17723635559", supply_method=SupplyMethod.DELIVERY,
        )  # fmt: skip
        record_sale(session, contact, SaleDraft("县第一中学", "红心猕猴桃", Quantity(Decimal(10), JIN), 8000, today()))
    township = _township_id(demo)
    with demo.sessions() as session:
        before = township_report(session, quarter, township)
        write_sales_form(session, quarter, township, tmp_path / "before.xlsx")

    with demo.sessions() as session, session.begin():
        result = merge_products(session, "红心猕猴桃", "猕猴桃", "cli")
    assert (result.variety, result.listings, result.orders, result.sale_records) == ("红心", 1, 2, 2)

    with demo.sessions() as session:
        assert session.scalar(select(Product).where(Product.name == "红心猕猴桃")) is None
        alias = session.scalars(select(ProductAlias).where(ProductAlias.alias == "红心猕猴桃")).one()
        assert alias.product.name == "猕猴桃"
        listing = session.get(Listing, listing_id)
        assert listing is not None and (listing.product.name, listing.variety) == ("猕猴桃", "红心")
        assert listing.listing_key.endswith("/猕猴桃/红心")
        assert listing.remaining_quantity == Decimal(550)  # the open order still holds its 20斤
        statuses = session.execute(select(Order.order_no, Order.status, Order.listing_id)).all()
        assert {(no, lid) for no, _status, lid in statuses} == {
            (delivered.order_no, listing_id),
            (open_order.order_no, listing_id),
        }
        names = sorted(session.scalars(select(SaleRecord.product_name)))
        assert names == ["猕猴桃（红心）", "猕猴桃（红心）"]
        change = session.scalars(select(VocabularyChange)).one()
        assert (change.kind, change.product, change.name, change.variety) == ("merged", "猕猴桃", "红心猕猴桃", "红心")
        after = township_report(session, quarter, township)
        write_sales_form(session, quarter, township, tmp_path / "after.xlsx")
    assert after.total_fen == before.total_fen
    assert sorted((r.amount_fen, r.quantity) for r in after.rows) == sorted(
        (r.amount_fen, r.quantity) for r in before.rows
    )
    assert _figures(tmp_path / "after.xlsx") == _figures(tmp_path / "before.xlsx")
    # Searching the product finds the listing, and the merged name still works.
    search = CatalogSearch(demo.sessions, refresh_seconds=0)
    for written in ("猕猴桃", "红心猕猴桃"):
        (view,) = search.search(product=written).listings
        assert (view.product, view.variety) == ("猕猴桃", "红心")


def test_merge_refuses_a_colliding_listing_and_changes_nothing(demo: Database) -> None:
    _wrong_product(demo, "红心猕猴桃")
    _wrong_product(demo, "红心奇异果")
    with demo.sessions() as session, session.begin():
        merge_products(session, "红心猕猴桃", "猕猴桃", "cli")
    with demo.sessions() as session, session.begin():
        with pytest.raises(VocabularyError, match="已有"):
            merge_products(session, "红心奇异果", "猕猴桃", "cli")
        with pytest.raises(VocabularyError, match="同一个产品"):
            merge_products(session, "猕猴桃", "奇异果", "cli")
    with demo.sessions() as session:
        assert session.scalar(select(Product.id).where(Product.name == "红心奇异果")) is not None


def test_cli_products_alias_and_merge(cli: Cli, tmp_path: Path) -> None:
    assert cli("db", "init").returncode == 0
    assert cli("catalog", "alias", "add", "藤梨", "猕猴桃").returncode == 0
    listed = cli("catalog", "products")
    assert listed.returncode == 0 and "猕猴桃（别名：" in listed.stdout and "藤梨" in listed.stdout
    bad = cli("catalog", "alias", "add", "洋芋", "猕猴桃")
    assert bad.returncode == 1 and "土豆" in bad.stdout
    removed = cli("catalog", "alias", "remove", "藤梨")
    assert removed.returncode == 0 and "已删除" in removed.stdout
    # The importer reads a known product inside a written name, wherever it stands.
    path = write_xlsx(tmp_path / "龙角镇.xlsx", [row(product="猕猴桃红心", quantity="600斤", price="8元/斤")])
    imported = cli("catalog", "import", str(path))
    assert imported.returncode == 0 and "新产品" not in imported.stdout, imported.stdout
    path = write_xlsx(tmp_path / "泥溪镇.xlsx", [row(region="泥溪镇鱼鳞村", product="金果", quantity="6斤")])
    imported = cli("catalog", "import", str(path))
    assert "新产品：金果（1条）" in imported.stdout, imported.stdout
    merged = cli("catalog", "products", "merge", "金果", "--into", "猕猴桃", "--variety", "金果")
    assert merged.returncode == 0 and "目录1条" in merged.stdout, merged.stdout
    found = cli("catalog", "search", "--product", "猕猴桃", "--limit", "10")
    assert "猕猴桃（金果）" in found.stdout and "猕猴桃（红心）" in found.stdout, found.stdout


def _township_id(db: Database, name: str = "龙角镇") -> int:
    with db.sessions() as session:
        return session.scalars(select(Township.id).where(Township.name == name)).one()


def _figures(path: Path) -> list[tuple[object, ...]]:
    # The quantities and amounts of every row, and the total: the figures a merge must keep.
    sheet = load_workbook(path).active
    assert sheet is not None
    rows = [tuple(c.value for c in r) for r in sheet.iter_rows(min_row=5)]
    return sorted((str(r[6]), str(r[7])) for r in rows if len(r) > 7 and r[7] is not None)
