"""The stock ledger: every movement is a row, figures never silently change, nothing is resurrected or lost."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, text

from fupin.catalog import ledger
from fupin.catalog.files import import_catalog_file, import_catalog_files
from fupin.catalog.stock import StockChange, StockKind, apply, describe
from fupin.catalog.stock_history import history_reply, listings_of, stock_history
from fupin.db import make_engine, make_session_factory, upgrade
from fupin.models import Listing, MoveKind, Order, StockMove
from fupin.orders.expiry import expire_unconfirmed
from fupin.orders.lifecycle import OrderError, change_order, place_order
from fupin.orders.rules import OrderRules
from fupin.outreach.users import bind_user, identify
from fupin.values import OrderStatus, Quantity, Role, SupplyMethod
from tests.conftest import Database
from tests.helpers import row, write_csv, write_xlsx

JIN = "斤"
CONTACT = "console:contact-lj"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def people(db: Database) -> Database:
    """A contact for 龙角镇 and an admin."""
    with db.sessions() as session, session.begin():
        bind_user(session, CONTACT, Role.CONTACT, township="龙角镇", display_name="李xx")
        bind_user(session, "console:admin", Role.ADMIN, display_name="县商务委")
    return db


def _import(db: Database, path: Path) -> int:
    assert import_catalog_files(db.sessions, [path]).ok
    with db.sessions() as session:
        (listing_id,) = listings_of(session, "龙角镇", "土豆")
        return listing_id


def _potatoes(db: Database, tmp_path: Path, quantity: str = "3000斤") -> tuple[Path, int]:
    path = write_xlsx(tmp_path / "龙角镇.xlsx", [row(quantity=quantity, price="1.5元/斤")])
    return path, _import(db, path)


def _order(
    db: Database, listing_id: int, qty: str, sender: str = "console:buyer1", buyer: str = "县人民医院食堂"
) -> str:
    with db.sessions() as session, session.begin():
        order, _offer = place_order(
            session,
            sender_id=sender,
            listing_id=listing_id,
            quantity=Quantity(Decimal(qty), JIN),
            buyer_name=buyer,
            phone="17723635558",
            supply_method=SupplyMethod.DELIVERY,
        )
        return order.order_no


def _act(db: Database, order_no: str, action: str, sender: str = CONTACT) -> None:
    with db.sessions() as session, session.begin():
        change_order(session, order_no, action, identify(session, sender))


def _stock(db: Database, listing_id: int, kind: StockKind, qty: str | None = None) -> str:
    """Read a contact's change back, apply it, and return the read-back."""
    change = StockChange(listing_id, kind, Quantity(Decimal(qty), JIN) if qty else None)
    with db.sessions() as session, session.begin():
        said = describe(session, change)
        apply(session, identify(session, CONTACT), change)
        return said


def _available(db: Database, listing_id: int) -> Decimal:
    with db.sessions() as session:
        return session.scalars(select(Listing.remaining_quantity).where(Listing.id == listing_id)).one()


def _consistent(db: Database) -> None:
    """Every cached figure equals the sum of its moves."""
    with db.sessions() as session:
        assert ledger.mismatches(session) == []


# --- each failure of issue #20 ------------------------------------------------------------------


def test_reimporting_the_same_file_never_resurrects_delivered_stock(people: Database, tmp_path: Path) -> None:
    # 3000斤 of 土豆; a buyer orders 50斤, the contact confirms and delivers; the township sends the file again.
    path, listing_id = _potatoes(people, tmp_path)
    order_no = _order(people, listing_id, "50")
    _act(people, order_no, "confirm")
    _act(people, order_no, "deliver")
    assert _available(people, listing_id) == Decimal(2950)
    _import(people, path)
    assert _available(people, listing_id) == Decimal(2950)  # was back at 3000斤 for sale
    _consistent(people)
    with people.sessions() as session:
        kinds = [line.kind for line in stock_history(session, listing_id).lines]  # type: ignore[union-attr]
    assert kinds == [MoveKind.PLAN, MoveKind.RESERVE, MoveKind.DELIVER]  # the unchanged plan moved nothing


def test_a_new_plan_moves_available_by_the_difference(people: Database, tmp_path: Path) -> None:
    path, listing_id = _potatoes(people, tmp_path)
    _act(people, _order(people, listing_id, "50"), "deliver")
    _order(people, listing_id, "100", sender="console:buyer2", buyer="县第一中学食堂")  # still open
    write_xlsx(path, [row(quantity="4000斤", price="1.5元/斤")])
    _import(people, path)
    assert _available(people, listing_id) == Decimal(3850)
    write_xlsx(path, [row(quantity="100斤", price="1.5元/斤")])  # less than what is sold and promised
    _import(people, path)
    assert _available(people, listing_id) == Decimal(0)
    with people.sessions() as session:
        listing = session.get(Listing, listing_id)
        assert listing is not None and listing.planned_quantity == Decimal(150)  # delivered 50 + promised 100
        plans = session.scalars(select(StockMove).where(StockMove.kind == MoveKind.PLAN.value)).all()
        assert all(m.import_id is not None for m in plans) and len(plans) == 3
    _consistent(people)


def test_stocktake_counts_what_open_orders_hold_and_says_so(people: Database, tmp_path: Path) -> None:
    _path, listing_id = _potatoes(people, tmp_path)
    order_no = _order(people, listing_id, "50")
    said = _stock(people, listing_id, StockKind.SET, "200")
    assert "剩余数量改为200斤" in said and "其中50斤已被未完成订单预订，可售150斤" in said
    assert _available(people, listing_id) == Decimal(150)  # was 200: the 50 promised were sold twice
    _act(people, order_no, "cancel", sender="console:buyer1")
    assert _available(people, listing_id) == Decimal(200)  # the 50 were counted in the 200
    _consistent(people)


def test_stocktake_below_what_is_promised(people: Database, tmp_path: Path) -> None:
    _path, listing_id = _potatoes(people, tmp_path)
    first = _order(people, listing_id, "50")
    second = _order(people, listing_id, "80", sender="console:buyer2", buyer="县第一中学食堂")
    _stock(people, listing_id, StockKind.SET, "60")  # the oldest order has the first claim
    assert _available(people, listing_id) == Decimal(0)
    _act(people, second, "reject")
    assert _available(people, listing_id) == Decimal(10)  # it held only what was left of the 60
    _act(people, first, "reject")
    assert _available(people, listing_id) == Decimal(60)
    _consistent(people)


@pytest.mark.parametrize(("action", "sender"), [("cancel", "console:buyer1"), ("reject", CONTACT)])
def test_sold_out_stays_sold_out_after_a_cancel_or_reject(
    people: Database, tmp_path: Path, action: str, sender: str
) -> None:
    _path, listing_id = _potatoes(people, tmp_path)
    order_no = _order(people, listing_id, "30")
    said = _stock(people, listing_id, StockKind.SOLD_OUT)
    assert "已卖完" in said and "30斤仍然有效" in said
    assert _available(people, listing_id) == Decimal(0)
    _act(people, order_no, action, sender=sender)
    assert _available(people, listing_id) == Decimal(0)  # showed 30斤 again
    _stock(people, listing_id, StockKind.SET, "20")  # a later count is the truth again
    assert _available(people, listing_id) == Decimal(20)
    _consistent(people)


def test_an_order_after_sold_out_and_a_new_batch_is_not_robbed(people: Database, tmp_path: Path) -> None:
    _path, listing_id = _potatoes(people, tmp_path)
    old = _order(people, listing_id, "30")
    _stock(people, listing_id, StockKind.SOLD_OUT)
    _stock(people, listing_id, StockKind.ADD, "100")
    new = _order(people, listing_id, "100", sender="console:buyer2", buyer="县第一中学食堂")
    _act(people, old, "cancel", sender="console:buyer1")
    assert _available(people, listing_id) == Decimal(0)
    _act(people, new, "cancel", sender="console:buyer2")
    assert _available(people, listing_id) == Decimal(100)
    _consistent(people)


def test_new_batches_racing_orders_lose_nothing(people: Database, tmp_path: Path) -> None:
    # 新到 was a read-modify-write: a batch landing between an order's UPDATE and its own write wiped it.
    _path, listing_id = _potatoes(people, tmp_path, "1000斤")

    def order(index: int) -> Decimal:
        try:
            _order(people, listing_id, "10", sender=f"console:b{index}", buyer=f"县第{index}中学食堂")
            return Decimal(10)
        except OrderError:
            return Decimal(0)

    def batch(_index: int) -> Decimal:
        _stock(people, listing_id, StockKind.ADD, "5")
        return Decimal(-5)

    jobs = [(order, i) for i in range(40)] + [(batch, i) for i in range(20)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        taken = sum(pool.map(lambda job: job[0](job[1]), jobs[::2] + jobs[1::2]), Decimal(0))
    assert _available(people, listing_id) == Decimal(1000) - taken
    with people.sessions() as session:
        assert session.scalar(select(func.count(StockMove.id)).where(StockMove.listing_id == listing_id)) == 61
    _consistent(people)


def test_stocktakes_racing_orders_and_releases_keep_the_ledger(people: Database, tmp_path: Path) -> None:
    _path, listing_id = _potatoes(people, tmp_path, "1000斤")
    placed = [_order(people, listing_id, "10", sender=f"console:p{i}", buyer=f"县第{i}小学食堂") for i in range(10)]

    def job(index: int) -> None:
        if index % 3 == 0:
            _stock(people, listing_id, StockKind.SET, str(500 + index))
        elif index % 3 == 1 and index // 3 < len(placed):
            _act(people, placed[index // 3], "cancel", sender=f"console:p{index // 3}")
        else:
            with contextlib.suppress(OrderError):  # sold out by the others: fine
                _order(people, listing_id, "7", sender=f"console:q{index}", buyer=f"县第{index}幼儿园")

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(job, range(30)))
    _consistent(people)
    with people.sessions() as session:
        held = session.scalar(select(func.sum(Order.reserved_quantity)).where(Order.status.in_(ledger.OPEN_STATUSES)))
        moves = session.scalar(select(func.sum(StockMove.reserved_change)).where(StockMove.listing_id == listing_id))
        assert held == moves
        assert _available(people, listing_id) >= 0


_WORKER = textwrap.dedent(
    """
    import sys
    from decimal import Decimal
    from fupin.db import make_engine, make_session_factory
    from fupin.orders.lifecycle import OrderError, place_order
    from fupin.values import Quantity, SupplyMethod

    url, schema, listing_id, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    kwargs = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
    sessions = make_session_factory(make_engine(url, **kwargs))
    placed = 0
    for index in range(count):
        try:
            with sessions() as session, session.begin():
                place_order(session, sender_id=f"console:{tag}{index}", listing_id=listing_id,
                            quantity=Quantity(Decimal(7), "斤"), buyer_name=f"县第{tag}{index}号食堂",
                            phone="17723635558", supply_method=SupplyMethod.DELIVERY)
            placed += 1
        except OrderError:
            pass
    print(placed)
    """
)


def test_two_processes_ordering_one_listing_never_oversell(people: Database, tmp_path: Path) -> None:
    _path, listing_id = _potatoes(people, tmp_path, "200斤")
    schema = ""
    if people.backend == "postgresql":
        with people.engine.connect() as conn:
            schema = str(conn.execute(text("select current_schema()")).scalar())
    url = people.url if people.backend == "postgresql" else str(people.engine.url)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, url, schema, str(listing_id), tag, "20"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for tag in ("甲", "乙")
    ]
    placed = [int(w.communicate(timeout=120)[0].strip()) for w in workers]
    assert all(w.returncode == 0 for w in workers)
    assert sum(placed) == 28  # 200 // 7: every 7斤 that exists is sold once, and only once
    assert _available(people, listing_id) == Decimal(200 - 7 * 28)
    _consistent(people)


# --- history, read-backs and the command line ----------------------------------------------------


def test_history_with_running_balances_and_the_chat_answer(people: Database, tmp_path: Path) -> None:
    _path, listing_id = _potatoes(people, tmp_path)
    order_no = _order(people, listing_id, "50")
    _stock(people, listing_id, StockKind.ADD, "100")
    _act(people, order_no, "deliver")
    with people.sessions() as session:
        history = stock_history(session, listing_id)
        assert history is not None
        assert [line.available for line in history.lines] == [
            Decimal(3000),
            Decimal(2950),
            Decimal(3050),
            Decimal(3050),
        ]
        assert [line.held for line in history.lines] == [Decimal(0), Decimal(50), Decimal(50), Decimal(0)]
        assert history.lines[1].order_no == order_no and history.lines[0].import_file == "龙角镇.xlsx"
        assert history.lines[2].who == "李xx"
        answer = history_reply(session, identify(session, CONTACT), "洋芋")
    assert "库存记录" in answer and "预订" in answer and "新到" in answer and "送达" in answer
    assert "可售3050" in answer.splitlines()[-1]


def test_cli_stock_history(sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from bot.cli.main import main

    _path, listing_id = _potatoes(sqlite_db, tmp_path)
    monkeypatch.setenv("DATABASE_URL", sqlite_db.url)
    assert main(["stock", "history", "--listing", str(listing_id)]) == 0
    by_listing = capsys.readouterr().out
    assert "土豆 库存记录" in by_listing and "附件1导入" in by_listing and "可售3000" in by_listing
    assert main(["stock", "history", "--township", "龙角镇", "--product", "马铃薯"]) == 0
    assert capsys.readouterr().out == by_listing
    assert main(["stock", "correct", "--listing", str(listing_id), "--available", "2900", "--reason", "盘亏"]) == 0
    assert _available(sqlite_db, listing_id) == Decimal(2900)
    assert main(["stock", "check"]) == 0
    assert "库存台账一致" in capsys.readouterr().out


def test_migration_opens_each_ledger_from_current_figures(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0002")
    with engine.begin() as conn:
        for statement in (
            "INSERT INTO townships (id, code, name, kind, deep_poverty) VALUES (1, '500235105', '龙角镇', '镇', 0)",
            "INSERT INTO products (id, name, created_at) VALUES (1, '土豆', '2026-01-01')",
            "INSERT INTO buyers (id, name, category, lead_unit, phone, created_at)"
            " VALUES (1, '县人民医院食堂', 'hospital', '', '', '2026-01-01')",
            "INSERT INTO listings (id, listing_key, township_id, product_id, variety, unit, planned_quantity,"
            " remaining_quantity, price_fen, supply_methods, shop_url, remarks, active, created_at, updated_at)"
            " VALUES (1, 'k', 1, 1, '', '斤', 3000000, 2920000, 150, 1, '', '', 1, '2026-01-01', '2026-01-01')",
        ):
            conn.execute(text(statement))
        for number, (qty, status) in enumerate([(30000, "待确认"), (50000, "已送达"), (20000, "已取消")]):
            conn.execute(
                text(
                    "INSERT INTO orders (order_no, listing_id, buyer_id, quantity, unit, unit_price_fen, amount_fen,"
                    " supply_method, phone, status, remarks, created_at, updated_at) VALUES"
                    f" ('XF{number}', 1, 1, {qty}, '斤', 150, 1, 1, '1', '{status}', '', '2026-01-01', '2026-01-01')"
                )
            )
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        (opening,) = session.scalars(select(StockMove)).all()
        assert (opening.kind, opening.quantity, opening.reserved_change, opening.planned_change) == (
            "opening",
            Decimal(2920),
            Decimal(30),
            Decimal(3000),
        )
        assert ledger.mismatches(session) == []
    engine.dispose()


# --- random sequences: the invariants hold after every step --------------------------------------


def test_random_sequences_keep_the_invariants(people: Database, tmp_path: Path) -> None:
    db = people

    class Listing1(RuleBasedStateMachine):
        """One fresh listing per example (its own household), driven like the bot drives it."""

        def __init__(self) -> None:
            super().__init__()
            self.household = f"户{uuid.uuid4().hex[:8]}"
            self.path = tmp_path / f"{self.household}.csv"
            self.listing_id = self._import(100)
            self.open: list[tuple[str, str]] = []  # (order no, its buyer's sender id)
            self.delivered = Decimal(0)
            self.count = 0

        def _import(self, plan: int) -> int:
            write_csv(self.path, [row(household=self.household, quantity=f"{plan}斤", price="1.5元/斤")])
            with db.sessions() as session, session.begin():
                assert import_catalog_file(session, self.path).ok
            with db.sessions() as session:
                return session.scalars(
                    select(Listing.id).where(Listing.listing_key.contains(f"/{self.household}/"))
                ).one()

        @initialize(qty=st.integers(1, 80))
        def first_order(self, qty: int) -> None:
            # Most rules act on open orders: every sequence starts with one.
            self.order(qty)

        @rule(plan=st.integers(1, 400))
        def reimport(self, plan: int) -> None:
            assert self._import(plan) == self.listing_id

        @rule(qty=st.integers(1, 80))
        def order(self, qty: int) -> None:
            before = _available(db, self.listing_id)
            self.count += 1
            sender = f"console:h{self.household}{self.count}"
            try:
                order_no = _order(db, self.listing_id, str(qty), sender=sender, buyer=f"县第{self.count}号食堂")
            except OrderError:
                assert qty > before
                return
            assert qty <= before
            self.open.append((order_no, sender))

        @precondition(lambda self: self.open)
        @rule(pick=st.integers(0, 100), action=st.sampled_from(["confirm", "reject", "cancel", "deliver"]))
        def settle(self, pick: int, action: str) -> None:
            order_no, sender = self.open[pick % len(self.open)]
            with db.sessions() as session:
                order = session.scalars(select(Order).where(Order.order_no == order_no)).one()
            if action == "confirm" and order.status != OrderStatus.PENDING.value:
                return
            _act(db, order_no, action, sender=sender if action == "cancel" else CONTACT)
            if action != "confirm":
                self.open.remove((order_no, sender))
            if action == "deliver":
                self.delivered += order.quantity

        @precondition(lambda self: self.open)
        @rule(pick=st.integers(0, 100), late=st.booleans())
        def expire(self, pick: int, late: bool) -> None:
            # The hourly job with its clock just before or just after the picked order's deadline.
            rules = OrderRules()
            order_no, _sender = self.open[pick % len(self.open)]
            with db.sessions() as session:
                pending = session.execute(
                    select(Order.order_no, Order.created_at, Order.reserved_quantity)
                    .where(Order.order_no.in_([no for no, _ in self.open]))
                    .where(Order.status == OrderStatus.PENDING.value)
                ).all()
                placed = {no: created for no, created, _held in pending}
                held = {no: qty for no, _created, qty in pending}
                picked_at = session.scalars(select(Order.created_at).where(Order.order_no == order_no)).one()
            now = picked_at + rules.confirm_within + timedelta(seconds=1 if late else -1)
            before = _available(db, self.listing_id)
            with db.sessions() as session, session.begin():
                expired = set(expire_unconfirmed(session, now, rules))
            mine = expired & {no for no, _ in self.open}
            # Exactly this listing's unconfirmed orders placed before the cutoff expire; confirmed ones never.
            assert mine == {no for no, created in placed.items() if created <= now - rules.confirm_within}
            assert (order_no in mine) == (late and order_no in placed)
            with db.sessions() as session:
                statuses = set(session.scalars(select(Order.status).where(Order.order_no.in_(mine))))
            assert statuses <= {OrderStatus.EXPIRED.value}
            # What they held is for sale again (released, not consumed).
            assert _available(db, self.listing_id) == before + sum((held[no] for no in mine), Decimal(0))
            self.open = [(no, sender) for no, sender in self.open if no not in mine]

        @rule(counted=st.integers(0, 300))
        def stocktake(self, counted: int) -> None:
            _stock(db, self.listing_id, StockKind.SET, str(counted))

        @rule(qty=st.integers(1, 100))
        def new_batch(self, qty: int) -> None:
            _stock(db, self.listing_id, StockKind.ADD, str(qty))

        @rule()
        def sold_out(self) -> None:
            _stock(db, self.listing_id, StockKind.SOLD_OUT)
            assert _available(db, self.listing_id) == 0

        @invariant()
        def ledger_balances(self) -> None:
            with db.sessions() as session:
                listing = session.get(Listing, self.listing_id)
                assert listing is not None
                available = listing.remaining_quantity
                moved = session.scalar(select(func.sum(StockMove.quantity)).where(StockMove.listing_id == listing.id))
                assert available == moved
                assert available >= 0
                assert available <= max(listing.planned_quantity - self.delivered, Decimal(0))
                assert ledger.mismatches(session, [listing.id]) == []

    run_state_machine_as_test(
        Listing1,
        settings=settings(
            max_examples=15,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
