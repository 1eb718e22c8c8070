"""供应目录: search and filter the catalogue with the bot's search; a listing's page with its stock history."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiohttp import web as aioweb

from fupin.catalog.listings import catalog_summary
from fupin.console.catalog import CatalogFilter, browse
from fupin.console.history import listing_history
from web.context import console_of, in_session
from web.render import render

STALE_DAYS = 30


def filter_of(query: Mapping[str, str]) -> CatalogFilter:
    """The catalogue filter a query string asks for."""
    return CatalogFilter(
        product=query.get("q", "").strip(),
        place=query.get("township", "").strip() + query.get("village", "").strip(),
        in_stock=query.get("in_stock") == "1",
        deep_poverty=query.get("deep") == "1",
        stale_days=STALE_DAYS if query.get("stale") == "1" else None,
    )


async def show_catalog(request: aioweb.Request) -> aioweb.Response:
    """GET /catalog: the search form and the listings found (the county's figures without a query)."""
    wanted = filter_of(request.query)
    console = console_of(request)
    page = await asyncio.to_thread(browse, console.search, wanted)
    summary = await in_session(request, catalog_summary) if wanted.is_empty else None
    return render(
        request, "catalog.html", wanted=wanted, page=page, summary=summary, query=request.query, stale_days=STALE_DAYS
    )


async def show_listing(request: aioweb.Request) -> aioweb.Response:
    """GET /catalog/{id}: one listing with its stock history and orders."""
    try:
        listing_id = int(request.match_info["id"])
    except ValueError as exc:
        raise aioweb.HTTPNotFound(text="没有这条供应信息。") from exc
    history = await in_session(request, lambda s: listing_history(s, listing_id))
    if history is None:
        raise aioweb.HTTPNotFound(text="没有这条供应信息。")
    return render(request, "listing.html", history=history)


def add_routes(app: aioweb.Application) -> None:
    """The catalogue's routes."""
    app.router.add_get("/catalog", show_catalog)
    app.router.add_get("/catalog/{id}", show_listing)
