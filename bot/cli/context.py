"""What every command group shares: the Context a handler receives, printing, and preparing the database."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from functools import cached_property
from typing import TypeAlias

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from fupin.db import make_engine, make_session_factory
from fupin.settings import Settings
from fupin.setup import catalogue_is_empty, init_database, seed_demo

logger = logging.getLogger(__name__)

# The sub-commands a group's `register` adds its parsers to (generic for type checkers only).
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
# What `set_defaults(handler=...)` names: runs one command, returns its exit code.
Handler = Callable[["Context", argparse.Namespace], int]


class Context:
    """What every command needs: the settings, and the engine and session factory (made on first use)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def engine(self) -> Engine:
        """The database engine, created the first time a command asks for it."""
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """The session factory bound to the engine."""
        return make_session_factory(self.engine)

    def close(self) -> None:
        """Release the database connections (when any were opened)."""
        if "engine" in self.__dict__:
            self.engine.dispose()


def print_line(line: str = "") -> None:
    """Print one line of a command's output at once (the output may be a pipe)."""
    print(line, flush=True)


def prepare(ctx: Context) -> None:
    """Schema, reference data, and the demo catalogue when the catalogue is empty."""
    init_database(ctx.engine, ctx.sessions)
    if catalogue_is_empty(ctx.sessions):
        report = seed_demo(ctx.sessions)
        print_line(f"已载入演示目录（{report.created}条）")
