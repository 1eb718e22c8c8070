"""The whole assistant for end-to-end tests: trained model in process, real action server, SQLite file."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from bot.dialogue.assistant import ActionServer, Assistant, Reply, model_path
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
    """A running assistant and the database behind it."""

    def __init__(
        self,
        assistant: Assistant,
        sessions: sessionmaker[Session],
        loop: asyncio.AbstractEventLoop,
        action_server: ActionServer,
    ) -> None:
        self.assistant = assistant
        self.sessions = sessions
        self._loop = loop
        self.action_server = action_server

    def say(self, sender: str, text: str) -> Said:
        """Send one message (or button payload) and return the answer."""
        return Said(self._loop.run_until_complete(self.assistant.reply(sender, text)))

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the assistant's event loop."""
        return self._loop.run_until_complete(coroutine)

    def parse(self, text: str) -> dict[str, Any]:
        """NLU only."""
        return self._loop.run_until_complete(self.assistant.parse(text))


def running_bot(workdir: Path) -> Iterator[Bot]:
    """Start everything on a fresh demo database with a contact for 龙角镇 and 泥溪镇 and an admin."""
    model = model_path(Settings.from_env())
    if not model.is_file():
        raise RuntimeError(f"no trained model at {model}: run `make train` (make test does)")
    url = f"sqlite:///{workdir / 'e2e.db'}"
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    init_database(engine, sessions)
    assert seed_demo(sessions).ok
    with sessions() as session, session.begin():
        bind_user(session, CONTACT_LJ, Role.CONTACT, township="龙角镇", display_name="李xx")
        bind_user(session, CONTACT_NX, Role.CONTACT, township="泥溪镇")
        bind_user(session, ADMIN, Role.ADMIN)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url  # the agent's catalogue matcher reads the same database
    server = ActionServer(url, log_file=workdir / "action-server.log")
    server.start()
    loop = asyncio.new_event_loop()
    assistant = Assistant.load(model, server.url)
    try:
        yield Bot(assistant, sessions, loop, server)
    finally:
        loop.run_until_complete(assistant.close())
        server.stop()
        loop.close()
        engine.dispose()
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
