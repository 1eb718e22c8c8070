"""Backups: consistent under write load, restorable, refused when the file is not one of ours."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text

from fupin.db import make_engine, make_session_factory
from fupin.maintenance.backup import BackupError, backup, restore
from fupin.models import Listing, Order, Product
from fupin.orders.lifecycle import place_order
from fupin.setup import init_database, seed_demo
from fupin.values import Quantity, SupplyMethod
from tests.conftest import TEST_DATABASE_URL, Cli, Database


def _potato_id(db: Database) -> int:
    with db.sessions() as session:
        listing_id = session.scalar(
            select(Listing.id).join(Product).where(Product.name == "土豆", Listing.listing_key.contains("500235105"))
        )
    assert listing_id is not None
    return listing_id


def _place(db: Database, listing_id: int, n: int) -> str:
    with db.sessions() as session, session.begin():
        order, _ = place_order(
            session,
            sender_id=f"console:buyer{n}",
            listing_id=listing_id,
            quantity=Quantity(Decimal(1), "斤"),
            buyer_name="县人民医院食堂",
            phone="17723635558",
            supply_method=SupplyMethod.DELIVERY,
        )
        return order.order_no


class OrderLoad:
    """Orders placed one after another from a thread until stopped; remembers which were committed when."""

    def __init__(self, db: Database, listing_id: int) -> None:
        self.db, self.listing_id = db, listing_id
        self.committed: list[str] = []
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self.stop.is_set():
            try:
                self.committed.append(_place(self.db, self.listing_id, n))
            except BaseException as exc:  # reported by the test, not swallowed
                self.errors.append(exc)
                return
            n += 1

    def __enter__(self) -> OrderLoad:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=60)


def _orders_in(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.scalars(select(Order.order_no)))
    finally:
        engine.dispose()


def test_sqlite_backup_under_write_load_restores_every_committed_order(sqlite_db: Database, tmp_path: Path) -> None:
    """Orders keep coming while the backup runs: everything committed before it is in the restored copy."""
    assert seed_demo(sqlite_db.sessions).ok
    listing_id = _potato_id(sqlite_db)
    with OrderLoad(sqlite_db, listing_id) as load:
        while len(load.committed) < 20 and not load.errors:
            threading.Event().wait(0.01)
        before = list(load.committed)
        out = backup(sqlite_db.url, tmp_path / "backups" / "fupin.db")
        while len(load.committed) < len(before) + 10 and not load.errors:
            threading.Event().wait(0.01)
    assert not load.errors
    assert len(load.committed) > len(before)  # the writer really wrote during and after the backup

    target = tmp_path / "restored" / "fupin.db"
    restore(f"sqlite:///{target}", out)
    restored = _orders_in(f"sqlite:///{target}")
    assert set(before) <= restored
    assert restored <= set(load.committed)  # a consistent instant: nothing half-committed or invented
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # Stock and orders from the same instant: each 1 斤 order took 1 斤 of the 2000.
    engine = make_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            remaining = conn.scalar(select(Listing.remaining_quantity).where(Listing.id == listing_id))
    finally:
        engine.dispose()
    assert remaining == Decimal(2000) - len(restored)


def test_restore_replaces_a_live_database(sqlite_db: Database, tmp_path: Path) -> None:
    """Restoring over the database brings back the orders as they were at the backup."""
    assert seed_demo(sqlite_db.sessions).ok
    listing_id = _potato_id(sqlite_db)
    kept = _place(sqlite_db, listing_id, 1)
    out = backup(sqlite_db.url, tmp_path / "fupin.bak")
    later = _place(sqlite_db, listing_id, 2)
    sqlite_db.engine.dispose()
    restore(sqlite_db.url, out)
    orders = _orders_in(sqlite_db.url)
    assert kept in orders and later not in orders


def test_restore_refuses_what_is_not_our_backup(sqlite_db: Database, tmp_path: Path) -> None:
    """Not SQLite, SQLite without our schema, or a schema revision this code does not know: nothing overwritten."""
    assert seed_demo(sqlite_db.sessions).ok
    order = _place(sqlite_db, _potato_id(sqlite_db), 1)
    text_file = tmp_path / "notes.txt"
    text_file.write_text("这不是数据库", encoding="utf-8")
    with pytest.raises(BackupError, match="不是 SQLite 数据库备份"):
        restore(sqlite_db.url, text_file)
    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(BackupError, match="没有数据库版本记录"):
        restore(sqlite_db.url, foreign)
    newer = tmp_path / "newer.db"
    shutil.copy(backup(sqlite_db.url, tmp_path / "good.db"), newer)
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    with pytest.raises(BackupError, match=r"9999_from_the_future.*不认识"):
        restore(sqlite_db.url, newer)
    with pytest.raises(BackupError, match="找不到备份文件"):
        restore(sqlite_db.url, tmp_path / "missing.db")
    assert order in _orders_in(sqlite_db.url)


def test_backup_never_creates_a_missing_database(tmp_path: Path) -> None:
    """A wrong path is an error, not an empty backup of a new empty file."""
    with pytest.raises(BackupError, match="找不到数据库文件"):
        backup(f"sqlite:///{tmp_path / 'nowhere.db'}", tmp_path / "out.db")
    assert not (tmp_path / "nowhere.db").exists() and not (tmp_path / "out.db").exists()


def test_cli_restore_asks_for_yes(cli: Cli, tmp_path: Path) -> None:
    """`db restore` without --yes overwrites nothing; with it, the backup is back."""
    assert cli("db", "init").returncode == 0  # the cli fixture's database: tmp_path/cli.db
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    out = tmp_path / "backup.db"
    assert cli("db", "backup", str(out)).returncode == 0
    assert out.is_file()
    assert cli("db", "seed-demo").returncode == 0
    refused = cli("db", "restore", str(out))
    assert refused.returncode == 1 and "--yes" in refused.stdout
    assert _listings(url) > 0
    assert cli("db", "restore", str(out), "--yes").returncode == 0
    assert _listings(url) == 0
    assert cli("db", "restore", str(tmp_path / "missing.db"), "--yes").returncode == 1


def _listings(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(text("SELECT count(*) FROM listings")) or 0)
    finally:
        engine.dispose()


@pytest.fixture
def scratch_postgres() -> Iterator[tuple[str, str]]:
    """Two databases of our own on the shared server (source and restore target), dropped afterwards."""
    if not TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests not run")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore not installed")
    admin = make_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    names = [f"backup_{uuid.uuid4().hex[:10]}_{suffix}" for suffix in ("src", "dst")]
    base = make_engine(TEST_DATABASE_URL).url
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield tuple(base.set(database=name).render_as_string(hide_password=False) for name in names)  # type: ignore[misc]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_postgres_backup_under_write_load_restores(scratch_postgres: tuple[str, str], tmp_path: Path) -> None:
    """pg_dump while orders are placed; pg_restore into another database finds every order committed before."""
    source_url, target_url = scratch_postgres
    engine = make_engine(source_url)
    db = Database(source_url, engine, make_session_factory(engine), "postgresql")
    try:
        init_database(engine, db.sessions)
        assert seed_demo(db.sessions).ok
        with OrderLoad(db, _potato_id(db)) as load:
            while len(load.committed) < 10 and not load.errors:
                threading.Event().wait(0.01)
            before = list(load.committed)
            out = backup(source_url, tmp_path / "fupin.dump")
        assert not load.errors
    finally:
        engine.dispose()
    restore(target_url, out)
    restored = _orders_in(target_url)
    assert set(before) <= restored <= set(load.committed)
    with pytest.raises(BackupError, match="不是 pg_dump 备份"):
        restore(target_url, Path(__file__))


def _make(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-f", str(folder / "Makefile"), *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ.get("PATH", "")},
    )


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_make_clean_keeps_the_database_and_clean_data_needs_confirm(tmp_path: Path) -> None:
    """`make clean` leaves var/ alone; `make clean-data` deletes the database only with CONFIRM=yes."""
    shutil.copy(Path(__file__).resolve().parent.parent / "Makefile", tmp_path / "Makefile")
    for folder in ("var", "models", "results", ".venv"):
        (tmp_path / folder).mkdir()
    database = tmp_path / "var" / "fupin.db"
    database.write_bytes(b"SQLite format 3\x00")
    (tmp_path / "var" / "fupin.db-wal").write_bytes(b"")
    overview = tmp_path / "var" / "overviews" / "2026Q4.xlsx"
    overview.parent.mkdir()
    overview.write_bytes(b"")

    assert _make(tmp_path, "clean").returncode == 0
    assert database.is_file() and overview.is_file()
    assert not (tmp_path / "models").exists() and not (tmp_path / ".venv").exists()

    refused = _make(tmp_path, "clean-data")
    assert refused.returncode != 0 and "CONFIRM=yes" in refused.stdout
    assert database.is_file()

    assert _make(tmp_path, "clean-data", "CONFIRM=yes").returncode == 0
    assert not database.exists() and not (tmp_path / "var" / "fupin.db-wal").exists()
    assert overview.is_file()  # the database only, not var/ wholesale
