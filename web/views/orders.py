"""订单: orders filtered by status, township, buyer and date, late ones marked; a lead unit sees its system's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from aiohttp import web as aioweb
from sqlalchemy.orm import Session

from fupin.console.orders import OrderDeadlines, OrderFilter, OrderLine, find_orders
from fupin.outreach.web_links import ConsoleUser
from fupin.places import Gazetteer, TownshipEntry
from fupin.values import OrderStatus
from web.context import console_of, in_session, user_of
from web.render import render


@dataclass(frozen=True)
class OrdersPage:
    """The orders found and the townships to choose from."""

    lines: list[OrderLine]
    townships: list[TownshipEntry]
    unknown_township: bool


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError as exc:
        raise aioweb.HTTPBadRequest(text=f"日期“{text}”应写成 2019-09-30") from exc


def _status(text: str) -> OrderStatus | None:
    try:
        return OrderStatus(text) if text else None
    except ValueError as exc:
        raise aioweb.HTTPBadRequest(text=f"未知的订单状态“{text}”") from exc


def orders_page(session: Session, user: ConsoleUser, query: Mapping[str, str], deadlines: OrderDeadlines) -> OrdersPage:
    """The orders a query asks for, within what the user may see."""
    gazetteer = Gazetteer.load(session)
    township_name = query.get("township", "").strip()
    township = gazetteer.township_named(township_name) if township_name else None
    if township_name and township is None:
        return OrdersPage([], gazetteer.townships, True)
    wanted = OrderFilter(
        status=_status(query.get("status", "").strip()),
        township_id=township.id if township else None,
        buyer=query.get("buyer", ""),
        since=_day(query.get("since", "").strip()),
        until=_day(query.get("until", "").strip()),
        # A lead unit sees the orders of its own system's buyers only.
        lead_unit=None if user.is_admin else (user.lead_unit or ""),
    )
    return OrdersPage(find_orders(session, wanted, deadlines), gazetteer.townships, False)


async def show_orders(request: aioweb.Request) -> aioweb.Response:
    """GET /orders: the filtered order list."""
    user = user_of(request)
    deadlines = OrderDeadlines(pay=timedelta(days=console_of(request).settings.payment_overdue_days))
    query = request.query
    page = await in_session(request, lambda s: orders_page(s, user, query, deadlines))
    return render(request, "orders.html", page=page, query=query, statuses=list(OrderStatus))


def add_routes(app: aioweb.Application) -> None:
    """The orders' route."""
    app.router.add_get("/orders", show_orders)
