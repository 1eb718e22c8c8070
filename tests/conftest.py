"""Shared fixtures and the test tiers.

Tiers (markers, registered in pyproject.toml; pick one with `-m`):

* ``unit`` — no database, no model, no OS process. The fake Bot API server (aiohttp in a thread of this
  process) counts as unit: it is fast and in process; it only becomes part of a heavier tier through
  what else a test uses (the dialogue, a bot process).
* ``db`` — a real database (SQLite file, and PostgreSQL when TEST_DATABASE_URL is set), no model/process.
* ``dialogue`` — the trained model loaded in process (the session-wide ``bot`` fixture).
* ``process`` — real OS processes or servers: bot processes, the scale-out set-up, reminder workers.

Markers are applied in ``pytest_collection_modifyitems`` from the fixtures a test uses; tests that start
processes themselves carry an explicit ``process`` mark, which wins over the automatic ones. ``slow`` is not
a tier: it marks a guard too costly for the edit loop (the regex linearity census). ``make test-fast`` runs
``-m "(unit or db) and not slow"``; ``make test`` runs everything.

Databases: only what is immutable is shared. Once per session a migrated, reference-loaded template is
built (a SQLite file; a PostgreSQL database ``fupin_tpl_<uuid>``); each test gets a copy of it (the SQLite
backup API; ``CREATE DATABASE … TEMPLATE``) and owns it, so tests pass in any order.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from bot.cli.main import main
from fupin.db import make_engine, make_session_factory
from fupin.setup import init_database
from harness.fake_telegram import FakeTelegram
from tests.e2e import Bot, running_bot

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"]
TIERS = ("unit", "db", "dialogue", "process")
DB_FIXTURES = frozenset({"db", "sqlite_db", "sqlite_template", "postgres_template", "cli"})


@dataclass
class Database:
    """A migrated, reference-loaded database for one test."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    backend: str


# --- tiers ---------------------------------------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every test exactly one tier: explicit marks first, then by the fixtures it uses."""
    for item in items:
        if any(item.get_closest_marker(tier) for tier in TIERS):
            continue
        fixtures = set(getattr(item, "fixturenames", ()))
        if "bot" in fixtures:
            item.add_marker(pytest.mark.dialogue)
        elif fixtures & DB_FIXTURES:
            item.add_marker(pytest.mark.db)
        else:
            item.add_marker(pytest.mark.unit)
    # The slowest tier first, in the random order pytest-randomly gave it: with two xdist workers
    # (`make test`) the long process tests then run side by side at the start instead of one of them
    # trailing alone at the end.
    items.sort(key=lambda item: item.get_closest_marker("process") is None)


# --- SQLite ----------------------------------------------------------------------------------------------


def copy_sqlite(source: Path, target: Path) -> str:
    """Copy a SQLite database with the backup API (consistent even in WAL mode); returns the copy's URL."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return f"sqlite:///{target}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, reference-loaded SQLite file, built once per session; never written to afterwards."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    init_database(engine, make_session_factory(engine))
    engine.dispose()
    return path


@contextmanager
def sqlite_copy(template: Path, target: Path) -> Iterator[Database]:
    """A copy of the SQLite template at `target`, its engine disposed afterwards."""
    url = copy_sqlite(template, target)
    engine = make_engine(url)
    try:
        yield Database(url, engine, make_session_factory(engine), "sqlite")
    finally:
        engine.dispose()


# --- PostgreSQL ----------------------------------------------------------------------------------------


def database_url(name: str) -> str:
    """TEST_DATABASE_URL with another database name."""
    return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)


def _admin(statement: str) -> None:
    # CREATE/DROP DATABASE cannot run in a transaction; the server is shared, so each connection is short.
    engine = make_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def create_postgres_copy(template: str) -> str:
    """A new database cloned from a template; returns its name."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


def drop_postgres_database(name: str) -> None:
    """Drop a database made by these fixtures, closing whatever still holds it."""
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """The name of a migrated, reference-loaded template database, built once per session and dropped at its end."""
    if not TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests not run")
    name = f"fupin_tpl_{uuid.uuid4().hex[:16]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        engine = make_engine(database_url(name))
        init_database(engine, make_session_factory(engine))
        engine.dispose()  # CREATE DATABASE … TEMPLATE needs the template without connections
        yield name
    finally:
        drop_postgres_database(name)


@contextmanager
def postgres_copy(template: str) -> Iterator[Database]:
    """A database cloned from the PostgreSQL template, dropped afterwards."""
    name = create_postgres_copy(template)
    url = database_url(name)
    engine = make_engine(url)
    try:
        yield Database(url, engine, make_session_factory(engine), "postgresql")
    finally:
        engine.dispose()
        drop_postgres_database(name)


def fresh_database(request: pytest.FixtureRequest, backend: str, sqlite_path: Path) -> AbstractContextManager[Database]:
    """A fresh copy of the template of a backend, for the `db` fixture and wider-scoped fixtures like it."""
    if backend == "sqlite":
        return sqlite_copy(request.getfixturevalue("sqlite_template"), sqlite_path)
    return postgres_copy(request.getfixturevalue("postgres_template"))


# --- the fixtures tests use ------------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh database with schema, townships, villages and aliases, on each backend."""
    with fresh_database(request, request.param, tmp_path / "test.db") as database:
        yield database


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A fresh SQLite-file database only (for tests about files and the command line)."""
    with sqlite_copy(sqlite_template, tmp_path / "app.db") as database:
        yield database


@dataclass(frozen=True)
class CliResult:
    """What one in-process run of the command line printed and returned."""

    returncode: int
    stdout: str
    stderr: str


Cli = Callable[..., CliResult]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Cli]:
    """`python -m bot ARGS` in this process (bot.cli.main.main), on tmp_path/cli.db, run from tmp_path."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.setenv("LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    # main() configures logging for the whole process as an entry point should; later tests get ours back.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quietened = {name: logging.getLogger(name).level for name in ("httpx", "apscheduler")}

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse errors exit 2, as the real process would
            code = exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 1
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    try:
        yield run
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.captureWarnings(False)
        for name, old in quietened.items():
            logging.getLogger(name).setLevel(old)


@pytest.fixture(scope="session")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    """The whole assistant, once per test session (loading the model takes tens of seconds)."""
    yield from running_bot(Path(tmp_path_factory.mktemp("assistant")))


@pytest.fixture
def fresh_bot(bot: Bot) -> Iterator[Bot]:
    """The whole assistant on the seeded database with no conversations, left that way for the next test."""
    bot.reset()
    yield bot
    bot.reset()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTelegram]:
    """A fake Telegram Bot API server over real HTTP, one per test module."""
    with FakeTelegram() as server:
        yield server
