"""What every action shares: the domain services, who is talking, the message's entities, replies."""

from __future__ import annotations

import abc
import asyncio
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from fupin.catalog.search import CatalogSearch
from fupin.db import make_engine, make_session_factory
from fupin.outreach.users import Identity, identify
from fupin.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """The domain services the action server talks to (one set per process)."""

    sessions: sessionmaker[Session]
    search: CatalogSearch


@lru_cache(maxsize=1)
def services() -> Services:
    """Build the services on first use (never at import), from the environment's settings."""
    settings = Settings.from_env()
    sessions = make_session_factory(make_engine(settings.database_url))
    return Services(sessions=sessions, search=CatalogSearch(sessions))


@contextmanager
def transaction() -> Iterator[Session]:
    """A short session with one transaction, committed on success."""
    with services().sessions() as session, session.begin():
        yield session


def who(session: Session, tracker: Tracker) -> Identity:
    """The identity behind the conversation."""
    return identify(session, tracker.sender_id)


def entity(tracker: Tracker, name: str) -> dict[str, Any] | None:
    """The first entity of a type in the latest message (with its additional_info), or None."""
    for found in tracker.latest_message.get("entities", []) or []:
        if found.get("entity") == name:
            return found
    return None


def entity_value(tracker: Tracker, name: str) -> str | None:
    """The value of the first entity of a type in the latest message."""
    found = entity(tracker, name)
    return str(found["value"]) if found and found.get("value") is not None else None


def text_of(tracker: Tracker) -> str:
    """The latest user message's text."""
    return str(tracker.latest_message.get("text") or "")


def button(title: str, intent: str, **entities: object) -> dict[str, str]:
    """A reply button whose press sends an intent with entities (Rasa's /intent{...} payload)."""
    payload = f"/{intent}" + (
        json.dumps({k: str(v) for k, v in entities.items()}, ensure_ascii=False) if entities else ""
    )
    return {"title": title, "payload": payload}


class FupinAction(Action, abc.ABC):
    """An action that reaches the database; a database failure gets a short "system busy" reply."""

    @abc.abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    @abc.abstractmethod
    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        """Do the action's work and return its events."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        """Run `act` in a worker thread (database calls block), answering 系统繁忙 if the database fails."""
        try:
            return await asyncio.get_running_loop().run_in_executor(None, self.act, dispatcher, tracker, domain)
        except SQLAlchemyError:
            logger.exception("database error in %s for %s", self.name(), tracker.sender_id)
            dispatcher.utter_message(response="utter_system_busy")
            return []
