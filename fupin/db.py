"""Engine and session factories, and schema upgrades through Alembic.

Nothing is created at import time: entry points call `make_engine` once and pass the
session factory down; callers own their sessions and transactions.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine, create_engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """Create the engine for a database URL; SQLite files get WAL, a busy timeout and foreign keys."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # Pooled connections move between threads (one at a time), so the same-thread check goes.
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        # Keep connections open between sessions (1.4 would reconnect and re-run the pragmas each time).
        kwargs.setdefault("poolclass", QueuePool)
        engine = create_engine(url, future=True, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, future=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work while one writer commits; the busy timeout waits instead of failing.
    # synchronous=NORMAL (SQLite's advice for WAL): a commit survives the process being killed, and only a
    # power cut can lose the last commits, while each commit stops waiting for a disk flush (10 ms here,
    # with the bot's event loop blocked). PostgreSQL, for several workers, keeps its own durable commits.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to the engine (2.0-style sessions, objects usable after commit)."""
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    """Alembic configuration that runs the package's migrations on the given engine."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to the given revision (creating it on an empty database)."""
    logger.info("upgrading schema of %s to %s", engine.url.render_as_string(hide_password=True), revision)
    command.upgrade(alembic_config(engine), revision)
