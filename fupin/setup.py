"""Preparing a database: schema, reference places, default aliases, and the demo catalogue."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from fupin.catalog.files import FileReport, import_catalog_file
from fupin.catalog.listings import load_default_aliases
from fupin.db import upgrade
from fupin.models import Listing
from fupin.places import DATA_DIR, load_reference_places

logger = logging.getLogger(__name__)

DEMO_CATALOGUE = DATA_DIR / "demo_catalogue.xlsx"


@dataclass(frozen=True)
class InitResult:
    """What `init_database` added."""

    townships: int
    villages: int
    aliases: int


def init_database(engine: Engine, session_factory: sessionmaker[Session]) -> InitResult:
    """Migrate the schema to the latest version and load reference data; safe to run again."""
    upgrade(engine)
    with session_factory() as session, session.begin():
        townships, villages = load_reference_places(session)
        aliases = load_default_aliases(session)
    return InitResult(townships, villages, aliases)


def seed_demo(session_factory: sessionmaker[Session], path: Path = DEMO_CATALOGUE) -> FileReport:
    """Load the demo 附件1 catalogue through the ordinary importer (re-running updates, never duplicates)."""
    with session_factory() as session, session.begin():
        return import_catalog_file(session, path)


def catalogue_is_empty(session_factory: sessionmaker[Session]) -> bool:
    """True when no listing exists yet."""
    with session_factory() as session:
        return not session.scalar(select(func.count(Listing.id)))
