"""Schema through migrations, reference data, and the exact storage of quantities, money and time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, inspect, select, text

from fupin.catalog.listings import add_alias, canonical_product_name
from fupin.db import upgrade
from fupin.models import Buyer, Listing, Product, ProductAlias, Township, Village
from fupin.places import Gazetteer
from fupin.setup import init_database, seed_demo
from fupin.values import BuyerCategory, Channel
from tests.conftest import Database


def test_migrations_create_every_table_and_are_idempotent(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert {
        "townships",
        "villages",
        "listings",
        "orders",
        "sale_records",
        "users",
        "buyers",
        "alembic_version",
    } <= tables
    again = init_database(db.engine, db.sessions)
    assert (again.townships, again.villages, again.aliases) == (0, 0, 0)
    upgrade(db.engine)
    with db.engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() == "0014"


def test_models_and_migrations_agree(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from fupin.models import Base

    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert differences == []


def test_autogenerate_leaves_tables_it_does_not_own(db: Database) -> None:
    """Rasa's events and APScheduler's scheduler_jobs share the database: autogenerate proposes nothing at all."""
    from alembic import command

    from fupin.db import alembic_config

    with db.engine.begin() as conn:
        # As Rasa's SQLTrackerStore and APScheduler's SQLAlchemyJobStore create them.
        conn.execute(
            text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255)"
                " NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"
            )
        )
        conn.execute(text("CREATE INDEX ix_events_sender_id ON events (sender_id)"))
        conn.execute(
            text(
                "CREATE TABLE scheduler_jobs (id VARCHAR(191) PRIMARY KEY, next_run_time FLOAT, job_state BYTEA)"
                if db.backend == "postgresql"
                else "CREATE TABLE scheduler_jobs (id VARCHAR(191) PRIMARY KEY, next_run_time FLOAT, job_state BLOB)"
            )
        )
        conn.execute(text("CREATE INDEX ix_scheduler_jobs_next_run_time ON scheduler_jobs (next_run_time)"))
    # `alembic check` runs the package's env.py (its filters included) and fails on any pending operation.
    command.check(alembic_config(db.engine))
    assert {"events", "scheduler_jobs"} <= set(inspect(db.engine).get_table_names())


def test_reference_places_are_the_countys_real_ones(db: Database) -> None:
    with db.sessions() as session:
        assert session.scalar(select(func.count(Township.id))) == 42
        assert session.scalar(select(func.count(Village.id))) == 480
        nixi = session.scalars(select(Township).where(Township.name == "泥溪镇")).one()
        assert nixi.deep_poverty and nixi.code == "500235139"
        village = session.scalars(select(Village).where(Village.code == "500235001003")).one()
        assert (village.name, village.short_name) == ("黄金包社区居民委员会", "黄金包社区")


def test_staff_flags_survive_reloading_reference_data(db: Database) -> None:
    with db.sessions() as session, session.begin():
        village = session.scalars(select(Village).where(Village.short_name == "张家村")).first()
        assert village is not None
        village.deep_poverty = True
        code = village.code
    init_database(db.engine, db.sessions)
    with db.sessions() as session:
        assert session.scalars(select(Village).where(Village.code == code)).one().deep_poverty


def test_quantities_are_exact_and_times_aware(db: Database) -> None:
    assert seed_demo(db.sessions).ok
    when = datetime(2026, 11, 29, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    with db.sessions() as session, session.begin():
        listing = session.scalars(select(Listing)).first()
        assert listing is not None
        listing.remaining_quantity = Decimal("1234.567")
        listing.updated_at = when
        listing_id = listing.id
    with db.sessions() as session:
        stored = session.get(Listing, listing_id)
        assert stored is not None
        assert stored.remaining_quantity == Decimal("1234.567")
        assert stored.updated_at == when and stored.updated_at.tzinfo is not None
    with db.sessions() as session, session.begin():
        stored = session.get(Listing, listing_id)
        assert stored is not None
        stored.remaining_quantity = Decimal("0.0001")
        with pytest.raises(Exception, match="more than 3 decimals"):
            session.flush()


def test_aliases_are_data(db: Database) -> None:
    with db.sessions() as session, session.begin():
        assert canonical_product_name(session, "洋芋") == "土豆"
        assert canonical_product_name(session, "红苕") == "红薯"
        assert add_alias(session, "土豆", "土豆儿")
        assert not add_alias(session, "红薯", "洋芋")  # already another product's alias
    with db.sessions() as session:
        assert canonical_product_name(session, "土豆儿") == "土豆"
        assert session.scalar(select(func.count(ProductAlias.id))) > 40
        assert session.scalar(select(func.count(Product.id))) > 20


def test_buyer_categories_map_to_plan_channels_and_lead_units(db: Database) -> None:
    assert BuyerCategory.SCHOOL.channel is Channel.WUJIN and BuyerCategory.SCHOOL.lead_unit == "县教委"
    assert BuyerCategory.PAIRING_SHANDONG.channel is Channel.PAIRING
    assert BuyerCategory.PERSONAL.channel is None
    assert sum(c.annual_target_fen for c in Channel) == 6000 * 10_000 * 100
    with db.sessions() as session, session.begin():
        session.add(Buyer(name="县人民医院食堂", category=BuyerCategory.HOSPITAL.value, lead_unit="县卫生健康委"))
    with db.sessions() as session:
        assert session.scalars(select(Buyer)).one().category == "医院"


def test_gazetteer_resolves_written_places(db: Database) -> None:
    from fupin.parsing import ParseError

    with db.sessions() as session:
        gazetteer = Gazetteer.load(session)
    assert gazetteer.resolve_region("云阳县龙角镇张家村").label == "龙角镇张家村"
    assert gazetteer.resolve_region("龙角镇").village is None
    assert gazetteer.resolve_region("张家村", gazetteer.township_named("龙角镇")).label == "龙角镇张家村"
    assert gazetteer.resolve_region("清水土家族乡磁溪村").township.name == "清水土家族乡"
    with pytest.raises(ParseError, match="多个乡镇"):
        gazetteer.resolve_region("双龙村")
    assert [p.label for p in gazetteer.find("龙角")] == ["龙角镇"]
    assert "泥溪镇" in {p.township.name for p in gazetteer.find("泥溪")}
