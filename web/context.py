"""What every view shares: the application's keys, the signed-in user, running domain work in a thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web as aioweb
from jinja2 import Environment
from sqlalchemy.orm import Session, sessionmaker

from fupin.catalog.search import CatalogSearch
from fupin.outreach.web_links import ConsoleUser
from fupin.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class Console:
    """The console's shared clients: settings, the session factory, the bot's search, the templates."""

    settings: Settings
    sessions: sessionmaker[Session]
    search: CatalogSearch
    templates: Environment

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure when the public address is HTTPS (nginx terminates TLS)."""
        return self.settings.web_public_url.startswith("https://")


CONSOLE = aioweb.AppKey("console", Console)
USER_KEY = "console_user"


def console_of(request: aioweb.Request) -> Console:
    """The console of a request's application."""
    return request.app[CONSOLE]


def user_of(request: aioweb.Request) -> ConsoleUser:
    """The signed-in user (the auth middleware has refused the request otherwise)."""
    user = request.get(USER_KEY)
    if not isinstance(user, ConsoleUser):
        raise aioweb.HTTPFound("/login")
    return user


def require_admin(request: aioweb.Request) -> ConsoleUser:
    """The signed-in user when an admin; 403 for a lead unit (read-only)."""
    user = user_of(request)
    if not user.is_admin:
        raise aioweb.HTTPForbidden(text="只有县级管理员可以查看此页面。")
    return user


async def in_session(request: aioweb.Request, work: Callable[[Session], T], write: bool = False) -> T:
    """Run domain work in a worker thread with a short session of its own (a transaction when it writes)."""
    sessions = console_of(request).sessions

    def run() -> T:
        with sessions() as session:
            if not write:
                return work(session)
            with session.begin():
                return work(session)

    return await asyncio.to_thread(run)
