"""Stock ledger benchmark: time per order placement and per stock update, on SQLite and PostgreSQL.

Uses only the services the bot calls (place_order, stock.apply), so the same script measures the code
before the ledger (run it from a checkout of that commit) and after. Target: an order costs at most 20%
more with the ledger. Prints the figures; asserts nothing.
Usage: python -m bench.ledger_bench [--orders N] [--updates N] [--postgres URL]  (or TEST_DATABASE_URL)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from fupin.catalog.stock import StockChange, StockKind, apply
from fupin.db import make_engine, make_session_factory
from fupin.models import Listing, Product
from fupin.orders.lifecycle import place_order
from fupin.outreach.users import bind_user, identify
from fupin.setup import init_database, seed_demo
from fupin.values import Quantity, Role, SupplyMethod

CONTACT = "console:bench-contact"


def _prepare(sessions: sessionmaker[Session], engine: Engine) -> int:
    init_database(engine, sessions)
    assert seed_demo(sessions).ok
    with sessions() as session, session.begin():
        bind_user(session, CONTACT, Role.CONTACT, township="龙角镇")
        listing_id = session.scalars(
            select(Listing.id).join(Product).where(Product.name == "土豆", Listing.listing_key.contains("500235105"))
        ).first()
    assert listing_id is not None
    _update(sessions, listing_id, StockKind.ADD, "1000000")  # enough that no order is refused
    return int(listing_id)


def _update(sessions: sessionmaker[Session], listing_id: int, kind: StockKind, qty: str) -> None:
    with sessions() as session, session.begin():
        apply(session, identify(session, CONTACT), StockChange(listing_id, kind, Quantity(Decimal(qty), "斤")))


def _order(sessions: sessionmaker[Session], listing_id: int, index: int) -> None:
    with sessions() as session, session.begin():
        place_order(
            session,
            sender_id=f"console:bench{index % 20}",
            listing_id=listing_id,
            quantity=Quantity(Decimal(3), "斤"),
            buyer_name=f"县第{index % 20}中学食堂",
            phone="17723635558",
            supply_method=SupplyMethod.DELIVERY,
        )


def _timed(count: int, step: Callable[[int], None]) -> list[float]:
    times = []
    for index in range(count):
        start = time.perf_counter()
        step(index)
        times.append((time.perf_counter() - start) * 1000)
    return times


def _report(label: str, times: list[float]) -> None:
    times = sorted(times)
    p95 = times[int(len(times) * 0.95) - 1]
    print(
        f"  {label}: mean {statistics.fmean(times):.2f} ms, median {statistics.median(times):.2f} ms, p95 {p95:.2f} ms"
    )


def run(name: str, engine: Engine, orders: int, updates: int) -> None:
    """Prepare a demo catalogue on the engine and time orders and stock updates on one listing."""
    sessions = make_session_factory(engine)
    listing_id = _prepare(sessions, engine)
    _timed(20, lambda i: _order(sessions, listing_id, i))  # warm up connections and caches
    order_times = _timed(orders, lambda i: _order(sessions, listing_id, i))
    # Alternate 新到 (increment) and 还剩 (count) as contacts do.
    update_times = _timed(
        updates,
        lambda i: _update(sessions, listing_id, *((StockKind.ADD, "10") if i % 2 else (StockKind.SET, "900000"))),
    )
    print(f"{name}:")
    _report(f"order placement ({orders})", order_times)
    _report(f"stock update ({updates}, 新到/还剩)", update_times)


def main() -> int:
    """Run the benchmark on a temporary SQLite file and, when given, on PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL", ""))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            run("SQLite", engine, args.orders, args.updates)
        finally:
            engine.dispose()
    if args.postgres:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = make_engine(args.postgres)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = make_engine(args.postgres, connect_args={"options": f"-csearch_path={schema}"})
        try:
            run("PostgreSQL", engine, args.orders, args.updates)
        finally:
            engine.dispose()
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
