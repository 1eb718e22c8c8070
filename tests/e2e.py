"""The whole assistant for end-to-end tests: trained model in process, actions in process, SQLite file.

Only what never changes is shared by the session: the loaded model and a seeded template database.
`Bot.reset()` (the function-scoped `fresh_bot` fixture calls it) restores the test database from the
template, empties the conversation store and refreshes the catalogue caches, so tests do not depend on
which ran before them.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Coroutine, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from rasa.core.tracker_store import InMemoryTrackerStore
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from actions.common import Services, make_services
from bot.dialogue import rasa_patches
from bot.dialogue.actions import build_executor
from bot.dialogue.assistant import Assistant, Reply, model_path
from bot.dialogue.endpoint import InProcessEndpoint, pooled_endpoint
from fupin.db import make_engine, make_session_factory
from fupin.outreach.users import bind_user
from fupin.settings import Settings
from fupin.setup import init_database, seed_demo
from fupin.values import Role

T = TypeVar("T")
CONTACT_LJ = "console:contact-longjiao"
CONTACT_NX = "console:contact-nixi"
ADMIN = "console:admin"


@dataclass
class Said:
    """The bot's answer to one message."""

    replies: list[Reply]

    @property
    def text(self) -> str:
        """All reply texts joined."""
        return "\n".join(r.text for r in self.replies)

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """All buttons (title, payload)."""
        return [b for r in self.replies for b in r.buttons]

    def payload(self, title_part: str) -> str:
        """The payload of the first button whose title contains a text."""
        return next(p for t, p in self.buttons if title_part in t)


class Bot:
    """A running assistant, the database behind it, and the template that database is restored from."""

    def __init__(
        self,
        assistant: Assistant,
        services: Services,
        engine: Engine,
        trackers: InMemoryTrackerStore,
        loop: asyncio.AbstractEventLoop,
        template: Path,
    ) -> None:
        self.assistant = assistant
        self.services = services
        self.sessions: sessionmaker[Session] = services.sessions
        self.engine = engine
        self.trackers = trackers
        self._loop = loop
        self._template = template

    def say(self, sender: str, text: str) -> Said:
        """Send one message (or button payload) and return the answer."""
        return Said(self._loop.run_until_complete(self.assistant.reply(sender, text)))

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the assistant's event loop."""
        return self._loop.run_until_complete(coroutine)

    def parse(self, text: str) -> dict[str, Any]:
        """NLU only."""
        return self._loop.run_until_complete(self.assistant.parse(text))

    def reset(self) -> None:
        """The seeded database again, no conversations, and catalogue caches re-read on next use."""
        self.engine.dispose()  # no pooled connection holds a read of the old content
        database = self.engine.url.database
        assert database
        with closing(sqlite3.connect(self._template)) as source, closing(sqlite3.connect(database)) as target:
            source.backup(target)
        self.trackers.store.clear()
        # One names cache serves the actions' search and the NLU's catalogue matcher (Assistant.load).
        self.services.search.names.refresh()

    @contextmanager
    def remote_actions(self, url: str, token: str, loop: asyncio.AbstractEventLoop) -> Iterator[None]:
        """The agent calls a separately started action server instead of its in-process actions meanwhile.

        `loop` is the one the turns run on (the pooled endpoint's connections are closed there afterwards).
        """
        agent = self.assistant._agent
        in_process = agent.action_endpoint
        remote = pooled_endpoint(url, token)
        rasa_patches.set_action_endpoint(agent, remote)
        try:
            yield
        finally:
            rasa_patches.set_action_endpoint(agent, in_process)
            asyncio.run_coroutine_threadsafe(remote.close(), loop).result(timeout=10)


def seed_template(path: Path) -> None:
    """A demo database with a contact for 龙角镇 and 泥溪镇 and an admin."""
    engine = make_engine(f"sqlite:///{path}")
    sessions = make_session_factory(engine)
    init_database(engine, sessions)
    assert seed_demo(sessions).ok
    with sessions() as session, session.begin():
        bind_user(session, CONTACT_LJ, Role.CONTACT, township="龙角镇", display_name="李xx")
        bind_user(session, CONTACT_NX, Role.CONTACT, township="泥溪镇")
        bind_user(session, ADMIN, Role.ADMIN)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file
    engine.dispose()


def running_bot(workdir: Path) -> Iterator[Bot]:
    """Load the model once, on a database restored from a seeded template (see `Bot.reset`)."""
    model = model_path(Settings.from_env())
    if not model.is_file():
        raise RuntimeError(f"no trained model at {model}: run `make train` (make test does)")
    template = workdir / "template.db"
    seed_template(template)
    engine = make_engine(f"sqlite:///{workdir / 'e2e.db'}")
    services = make_services(make_session_factory(engine))
    trackers = InMemoryTrackerStore(domain=None)
    loop = asyncio.new_event_loop()
    endpoint = InProcessEndpoint(build_executor(services))
    assistant = Assistant.load(model, endpoint, trackers, catalog_names=services.search.names)
    bot = Bot(assistant, services, engine, trackers, loop, template)
    bot.reset()
    try:
        yield bot
    finally:
        loop.run_until_complete(assistant.close())
        loop.close()
        engine.dispose()
