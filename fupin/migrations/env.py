"""Alembic environment: runs migrations on the engine handed over by `fupin.db.upgrade`."""

from __future__ import annotations

from alembic import context

from fupin.db import make_engine
from fupin.models import Base
from fupin.settings import Settings

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run migrations on the given engine, or on DATABASE_URL when called from the alembic CLI."""
    engine = config.attributes.get("engine") or make_engine(Settings.from_env().database_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
