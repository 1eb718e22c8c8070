"""Rasa's conversation store and conversation lock, as the settings choose them."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from fupin.db import make_engine
from fupin.settings import Settings

logger = logging.getLogger(__name__)


def tracker_store_for(settings: Settings) -> Any:
    """Rasa's conversation store: SQL in the project's database unless configured otherwise."""
    from rasa.core.tracker_store import InMemoryTrackerStore

    from bot.dialogue.tracker_store import CoreSQLTrackerStore

    url_text = settings.tracker_store_url or settings.database_url
    if url_text == "memory":
        return InMemoryTrackerStore(domain=None)
    url = make_url(url_text)
    dialect = url.get_backend_name()
    if dialect == "sqlite":
        store = CoreSQLTrackerStore(dialect="sqlite", db=url.database or "")
        # SQLAlchemy 1.4 gives a SQLite file no connection pool, so Rasa's store would open a new connection
        # (and re-read the schema) for every read and every write of a conversation: a third of its time.
        # The project's engine keeps connections, with WAL and a busy timeout.
        store.engine.dispose()
        store.engine = make_engine(url_text)
        store.sessionmaker = sessionmaker(bind=store.engine)
        return store
    return CoreSQLTrackerStore(
        dialect=url.drivername,
        host=url.host,
        port=url.port,
        db=url.database or "",
        username=url.username,
        password=url.password,
        query=dict(url.query) or None,
    )


def lock_store_for(settings: Settings) -> Any:
    """Rasa's conversation lock: Redis when several workers share conversations, else in memory."""
    from rasa.core.lock_store import InMemoryLockStore, RedisLockStore

    if not settings.lock_store_url:
        return InMemoryLockStore()
    url = make_url(settings.lock_store_url)
    return RedisLockStore(
        host=url.host or "localhost",
        port=url.port or 6379,
        db=int(url.database or 0),
        password=url.password,
        key_prefix="fupin",
    )
