"""What every action shares: the domain services, who is talking, the message's entities, replies."""

from __future__ import annotations

import abc
import asyncio
import functools
import json
import logging
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from fupin.catalog.search import CatalogSearch
from fupin.orders.rules import OrderRules
from fupin.outreach.users import Identity, identify
from fupin.reporting.locks import DEFAULT_GRACE_DAYS
from fupin.values import UNION_BUDGET_PER_MEMBER_FEN

logger = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Services:
    """The domain services the actions talk to (one set per process, built by its entry point)."""

    sessions: sessionmaker[Session]
    search: CatalogSearch
    orders: OrderRules = field(default_factory=OrderRules)
    # Days after a quarter's deadline that contacts may still report its sales (REPORT_GRACE_DAYS).
    report_grace_days: int = DEFAULT_GRACE_DAYS
    # A union's yearly budget per member in fen (UNION_BUDGET_PER_MEMBER_YUAN).
    union_per_member_fen: int = UNION_BUDGET_PER_MEMBER_FEN


def make_services(
    sessions: sessionmaker[Session],
    orders: OrderRules | None = None,
    report_grace_days: int = DEFAULT_GRACE_DAYS,
    union_per_member_fen: int = UNION_BUDGET_PER_MEMBER_FEN,
) -> Services:
    """The actions' services on a database's session factory (rules from the settings, else defaults)."""
    return Services(
        sessions=sessions,
        search=CatalogSearch(sessions),
        orders=orders or OrderRules(),
        report_grace_days=report_grace_days,
        union_per_member_fen=union_per_member_fen,
    )


@contextmanager
def transaction(services: Services) -> Iterator[Session]:
    """A short session with one transaction, committed on success."""
    with services.sessions() as session, session.begin():
        yield session


def in_worker_thread(method: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Run a blocking (database) method in a worker thread, so the bot's event loop keeps serving others."""

    @functools.wraps(method)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(method, *args, **kwargs)

    return run


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


def intent_of(tracker: Tracker) -> str:
    """The latest user message's intent."""
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


def text_of(tracker: Tracker) -> str:
    """The latest user message's text."""
    return str(tracker.latest_message.get("text") or "")


def button(title: str, intent: str, **entities: object) -> dict[str, str]:
    """A reply button whose press sends an intent with entities (Rasa's /intent{...} payload)."""
    payload = f"/{intent}" + (
        json.dumps({k: str(v) for k, v in entities.items()}, ensure_ascii=False) if entities else ""
    )
    return {"title": title, "payload": payload}


class UsesServices:
    """An action given the process's services when it is made (bot/dialogue/actions.py: build_executor)."""

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services


class FupinAction(UsesServices, Action, abc.ABC):
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
