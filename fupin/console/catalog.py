"""Browsing the catalogue from the console: the bot's search (CatalogSearch), narrowed further by flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fupin.catalog.search import CatalogSearch, ListingView, SearchResult
from fupin.models import utcnow

# Enough for a township's whole catalogue on one page; the flags below filter what the search returns.
MAX_LISTINGS = 500


@dataclass(frozen=True)
class CatalogFilter:
    """What the catalogue page asks for: a product (aliases too) and a place, and flags to narrow it."""

    product: str = ""
    place: str = ""  # a township, a village, or both (龙角镇张家村)
    in_stock: bool = False
    deep_poverty: bool = False
    stale_days: int | None = None  # only listings not updated for this many days

    @property
    def is_empty(self) -> bool:
        """Nothing to search for (the search needs a product or a place)."""
        return not (self.product.strip() or self.place.strip())


@dataclass(frozen=True)
class CatalogPage:
    """The listings found, and how the search understood the query."""

    listings: list[ListingView]
    result: SearchResult | None


def keep(listing: ListingView, wanted: CatalogFilter, now: datetime) -> bool:
    """Whether a listing passes the filter's flags."""
    if wanted.in_stock and not listing.in_stock:
        return False
    if wanted.deep_poverty and not listing.deep_poverty:
        return False
    return wanted.stale_days is None or listing.updated_at <= now - timedelta(days=wanted.stale_days)


def browse(search: CatalogSearch, wanted: CatalogFilter, now: datetime | None = None) -> CatalogPage:
    """The catalogue's listings for a product and/or place, narrowed by the flags; empty without a query."""
    if wanted.is_empty:
        return CatalogPage([], None)
    result = search.search(product=wanted.product or None, place=wanted.place or None, limit=MAX_LISTINGS)
    now = now or utcnow()
    return CatalogPage([v for v in result.listings if keep(v, wanted, now)], result)
