"""Data and helpers shared by the web console's tests: users of each role, an order, a running console."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TypeVar

from aiohttp import web as aioweb
from aiohttp.test_utils import TestClient, TestServer

from fupin.catalog.search import CatalogSearch
from fupin.models import User
from fupin.orders.lifecycle import place_order
from fupin.outreach.users import bind_user
from fupin.outreach.web_links import issue_link
from fupin.settings import Settings
from fupin.setup import seed_demo
from fupin.values import Quantity, Role, SupplyMethod
from tests.conftest import Database
from tests.test_reports import SALES, add_sales
from web.app import create_app

T = TypeVar("T")
ADMIN = "telegram:1001"
LEAD = "telegram:1002"
CONTACT = "telegram:1003"
BUYER = "telegram:1004"


def seed_console(db: Database, demo: bool = True) -> dict[str, int]:
    """The demo catalogue, the reports' sales, one user of each role and one order; returns user ids by sender."""
    if demo:
        assert seed_demo(db.sessions).ok
    add_sales(db, SALES)
    with db.sessions() as session, session.begin():
        users: dict[str, User] = {
            ADMIN: bind_user(session, ADMIN, Role.ADMIN, display_name="县商务委张三"),
            LEAD: bind_user(session, LEAD, Role.LEAD, lead_unit="县教委", display_name="县教委李四"),
            CONTACT: bind_user(session, CONTACT, Role.CONTACT, township="龙角镇"),
            BUYER: bind_user(session, BUYER, Role.BUYER),
        }
        session.flush()
        ids = {sender: user.id for sender, user in users.items()}
    potato = CatalogSearch(db.sessions).search(product="土豆", place="龙角镇").listings[0]
    with db.sessions() as session, session.begin():
        place_order(
            session,
            sender_id=BUYER,
            listing_id=potato.listing_id,
            quantity=Quantity(Decimal(50), "斤"),
            buyer_name="县第一中学食堂",
            phone="13800000000",
            supply_method=SupplyMethod.DELIVERY,
        )
    return ids


def link_for(db: Database, user_id: int) -> str:
    """A fresh one-time sign-in token for a user."""
    with db.sessions() as session, session.begin():
        return issue_link(session, user_id)


def console_app(db: Database, settings: Settings | None = None) -> aioweb.Application:
    """The console on a test database."""
    return create_app(settings or Settings(database_url=db.url), db.sessions)


def with_client(db: Database, test: Callable[[TestClient], Awaitable[T]], settings: Settings | None = None) -> T:
    """Run an async test against the console through aiohttp's test client (no pytest plugin needed)."""

    async def run() -> T:
        client = TestClient(TestServer(console_app(db, settings)))
        await client.start_server()
        try:
            return await test(client)
        finally:
            await client.close()

    return asyncio.run(run())


async def sign_in(client: TestClient, token: str) -> str:
    """Use a sign-in token; returns the CSRF token of the new session."""
    response = await client.post("/login", data={"token": token}, allow_redirects=False)
    assert response.status == 303, await response.text()
    page = await client.get("/downloads")
    assert page.status == 200
    return csrf_of(await page.text())


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]
