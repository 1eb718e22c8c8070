"""Stock ledger benchmark: time per order placement and per stock update, and the ledger's share of them.

Uses only the services the bot calls (place_order, stock.apply) on a demo catalogue, on a temporary SQLite
file and, when given, on PostgreSQL in a database of its own (created fresh, dropped afterwards; the
server's other databases are not touched). Prints the figures; asserts nothing.

The code before the ledger cannot run any more (the ledger is the only way stock moves), so the ledger's
cost per order is measured two ways in the same run:

- its own share: SQLAlchemy cursor events time every statement, and the ledger's part of an order (the
  RESERVE row: building it and its INSERT into stock_moves) is timed inside each placement;
- with and without: orders alternate between the real placement and one whose RESERVE row is skipped
  (what an order did before the ledger: the same conditional UPDATE of the listing, the order row), so
  contention on the shared machine hits both alike; this process's CPU time per order is printed too, as
  it is less disturbed by the other processes than the wall time.

Target (issue #20): the ledger costs at most 20% more per order.
Usage: python -m bench.ledger_bench [--orders N] [--updates N] [--postgres URL]  (or TEST_DATABASE_URL)
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from fupin.catalog import ledger
from fupin.catalog.stock import StockChange, StockKind, apply
from fupin.db import make_engine, make_session_factory
from fupin.models import Listing, Order, Product
from fupin.orders.lifecycle import place_order
from fupin.outreach.users import bind_user, identify
from fupin.setup import init_database, seed_demo
from fupin.values import Quantity, Role, SupplyMethod

CONTACT = "console:bench-contact"
LEDGER_ROW = "ledger row (INSERT stock_moves)"
ORDER_READS = "reads of orders"
LISTING_WRITES = "listing UPDATEs"
OTHER_SQL = "other SQL"


def kind_of(statement: str) -> str:
    """The bucket a statement's time goes to."""
    head = " ".join(statement.split()[:3]).upper()
    if head.startswith("INSERT INTO STOCK_MOVES"):
        return LEDGER_ROW
    if head.startswith("UPDATE LISTINGS"):
        return LISTING_WRITES
    if head.startswith("SELECT") and re.search(r"\sFROM orders\b", statement):
        return ORDER_READS
    return OTHER_SQL


class StatementClock:
    """Times every statement on an engine (cursor events), adding each to the bucket of its kind."""

    def __init__(self, engine: Engine) -> None:
        self.spent: defaultdict[str, float] = defaultdict(float)
        self._started: dict[int, float] = {}
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, _conn: Any, cursor: Any, _statement: str, *_args: Any) -> None:
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, _conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        began = self._started.pop(id(cursor), None)
        if began is not None:
            self.spent[kind_of(statement)] += time.perf_counter() - began

    def take(self) -> dict[str, float]:
        """The seconds spent per kind since the last take, and start again."""
        spent, self.spent = dict(self.spent), defaultdict(float)
        return spent


@dataclass
class Samples:
    """Per-operation wall times (ms) and the seconds spent in each kind of statement over them."""

    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # this process's CPU time (ms)
    sql: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    ledger_code: float = 0.0  # seconds inside the ledger's RESERVE row (Python and SQL)

    def add(self, elapsed: float, cpu: float, sql: dict[str, float]) -> None:
        """One operation's wall and CPU times (s) and statement times."""
        self.times.append(elapsed * 1000)
        self.cpu.append(cpu * 1000)
        for kind, seconds in sql.items():
            self.sql[kind] += seconds

    def per_op(self, seconds: float) -> float:
        """Seconds over the operations, as ms per operation."""
        return seconds * 1000 / max(len(self.times), 1)


class ReserveRow:
    """`ledger.record_reservation` as `place_order` calls it: timed, or skipped (an order before the ledger)."""

    def __init__(self) -> None:
        self.real = ledger.record_reservation
        self.skip = False
        self.spent = 0.0

    def __call__(self, session: Session, order: Order, user_id: int | None) -> None:
        if self.skip:
            return
        began = time.perf_counter()
        try:
            self.real(session, order, user_id)
        finally:
            self.spent += time.perf_counter() - began

    @contextlib.contextmanager
    def installed(self) -> Iterator[ReserveRow]:
        """Put this wrapper where place_order looks the function up, for the duration."""
        ledger.record_reservation = self  # type: ignore[assignment]
        try:
            yield self
        finally:
            ledger.record_reservation = self.real  # type: ignore[assignment]


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


def _timed(clock: StatementClock, samples: Samples, step: Callable[[], None]) -> None:
    clock.take()
    began, cpu = time.perf_counter(), time.process_time()
    step()
    samples.add(time.perf_counter() - began, time.process_time() - cpu, clock.take())


def _line(label: str, samples: Samples) -> str:
    times = sorted(samples.times)
    p95 = times[max(int(len(times) * 0.95) - 1, 0)]
    return (
        f"  {label:<34} median {statistics.median(times):6.2f} ms  mean {statistics.fmean(times):6.2f} ms  "
        f"p95 {p95:6.2f} ms  CPU median {statistics.median(samples.cpu):6.2f} ms"
    )


def _sql_line(samples: Samples) -> str:
    mean = statistics.fmean(samples.times)
    parts = [
        f"{kind} {samples.per_op(seconds):.2f} ms ({samples.per_op(seconds) / mean:.0%})"
        for kind, seconds in sorted(samples.sql.items(), key=lambda item: -item[1])
    ]
    rest = mean - samples.per_op(sum(samples.sql.values()))
    return (
        "      per operation: " + ", ".join(parts) + f"; the rest (Python, commits) {rest:.2f} ms ({rest / mean:.0%})"
    )


def run(name: str, engine: Engine, orders: int, updates: int) -> None:
    """Prepare a demo catalogue on the engine, then time orders (with and without the ledger row) and updates."""
    sessions = make_session_factory(engine)
    listing_id = _prepare(sessions, engine)
    clock = StatementClock(engine)
    with ReserveRow().installed() as reserve_row:
        for index in range(20):  # warm up connections, statement caches, both paths
            reserve_row.skip = index % 2 == 1
            _order(sessions, listing_id, index)
        with_row, without_row = Samples(), Samples()
        reserve_row.spent = 0.0
        for index in range(2 * orders):
            reserve_row.skip = index % 2 == 1
            target = without_row if reserve_row.skip else with_row
            _timed(clock, target, functools.partial(_order, sessions, listing_id, index))
        with_row.ledger_code = reserve_row.spent
    # 新到 (an increment) and 还剩 (a count), as contacts send them, alternating.
    added, counted = Samples(), Samples()
    for index in range(updates):
        if index % 2:
            _timed(clock, added, lambda: _update(sessions, listing_id, StockKind.ADD, "10"))
        else:
            _timed(clock, counted, lambda: _update(sessions, listing_id, StockKind.SET, "900000"))

    mean_with = statistics.fmean(with_row.times)
    own = with_row.per_op(with_row.ledger_code)
    own_sql = with_row.per_op(with_row.sql.get(LEDGER_ROW, 0.0))
    extra = statistics.median(with_row.times) / statistics.median(without_row.times) - 1
    extra_cpu = statistics.median(with_row.cpu) / statistics.median(without_row.cpu) - 1
    print(f"{name}:")
    print(_line(f"order placement ({len(with_row.times)})", with_row))
    print(_sql_line(with_row))
    print(_line(f"  without the RESERVE row ({len(without_row.times)})", without_row))
    print(
        f"    ledger cost per order: its own share {own:.2f} ms of {mean_with:.2f} ms = {own / mean_with:.1%} "
        f"(SQL {own_sql:.2f} ms); with/without: wall medians {extra:+.1%}, CPU medians {extra_cpu:+.1%}  "
        "(target ≤ 20%)"
    )
    print(_line(f"stock update 新到X ({len(added.times)})", added))
    print(_sql_line(added))
    print(_line(f"stock update 还剩X ({len(counted.times)})", counted))
    print(_sql_line(counted))


@contextlib.contextmanager
def fresh_postgres(url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of `url` (its own name), dropped afterwards."""
    name = f"bench_ledger_{uuid.uuid4().hex[:8]}"
    # CREATE/DROP DATABASE cannot run in a transaction; the admin connection is not pooled.
    admin = make_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


def main() -> int:
    """Run the benchmark on a temporary SQLite file and, when given, on a fresh PostgreSQL database."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--orders", type=int, default=300, help="orders timed with the ledger row (and as many without)"
    )
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL", ""), help="a server to use")
    args = parser.parse_args()
    print("orders alternate with and without the ledger's RESERVE row; times per operation")
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            run("SQLite", engine, args.orders, args.updates)
        finally:
            engine.dispose()
    if args.postgres:
        with fresh_postgres(args.postgres) as url:
            engine = make_engine(url)
            try:
                run(
                    f"PostgreSQL (database {make_url(url).database}, dropped afterwards)",
                    engine,
                    args.orders,
                    args.updates,
                )
            finally:
                engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
