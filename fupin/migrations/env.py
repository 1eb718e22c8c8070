"""Alembic environment: runs migrations on the engine handed over by `fupin.db.upgrade`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alembic import context

from fupin.db import make_engine
from fupin.models import Base
from fupin.settings import Settings

config = context.config
target_metadata = Base.metadata


def include_name(name: str | None, type_: str, _parent_names: Mapping[Any, str | None]) -> bool:
    """Only the tables of our models: others in the same database belong to other programs.

    Rasa's tracker store creates `events` (the conversation history) and APScheduler's job store
    `scheduler_jobs`; without this, autogenerate would write a drop_table for each of them.
    """
    return type_ != "table" or name in target_metadata.tables


def include_object(_object: object, name: str | None, type_: str, reflected: bool, compare_to: object | None) -> bool:
    """Never drop a reflected table that no model declares (a second guard behind include_name)."""
    return not (type_ == "table" and reflected and compare_to is None)


def run_migrations_online() -> None:
    """Run migrations on the given engine, or on DATABASE_URL when called from the alembic CLI."""
    engine = config.attributes.get("engine") or make_engine(Settings.from_env().database_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=include_name,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
