"""Shared fixtures: a migrated database on a real SQLite file and, when configured, real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from fupin.db import make_engine, make_session_factory
from fupin.setup import init_database
from harness.fake_telegram import FakeTelegram
from tests.e2e import Bot, running_bot

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"]


@dataclass
class Database:
    """A migrated, reference-loaded database for one test."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    backend: str


def _postgres_engine(schema: str) -> Engine:
    # A schema of its own per test keeps runs independent on the shared server.
    admin = make_engine(TEST_DATABASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return make_engine(TEST_DATABASE_URL, connect_args={"options": f"-csearch_path={schema}"})


def _drop_postgres_schema(schema: str) -> None:
    admin = make_engine(TEST_DATABASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh database with schema, townships, villages and aliases, on each backend."""
    backend = request.param
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        engine = make_engine(url)
        schema = None
    else:
        if not TEST_DATABASE_URL:
            pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests not run")
        schema = f"t_{uuid.uuid4().hex[:12]}"
        engine = _postgres_engine(schema)
        url = TEST_DATABASE_URL
    sessions = make_session_factory(engine)
    init_database(engine, sessions)
    try:
        yield Database(url, engine, sessions, backend)
    finally:
        engine.dispose()
        if schema:
            _drop_postgres_schema(schema)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """A fresh SQLite-file database only (for tests about files and the command line)."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    init_database(engine, sessions)
    try:
        yield Database(url, engine, sessions, "sqlite")
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    """The whole assistant, once per test session (loading the model takes tens of seconds)."""
    yield from running_bot(Path(tmp_path_factory.mktemp("assistant")))


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTelegram]:
    """A fake Telegram Bot API server over real HTTP, one per test module."""
    with FakeTelegram() as server:
        yield server
