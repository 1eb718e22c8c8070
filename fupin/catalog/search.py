"""Finding listings by product and place, tolerant of aliases, partial names, typos and homophones."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from pypinyin import Style, lazy_pinyin
from sqlalchemy import case, false, func, or_, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import ColumnElement

from fupin.models import Household, Listing, Product, ProductAlias, SupplyContact
from fupin.offers.wording import offer_tag
from fupin.orders.ratings import VillageRating, village_ratings
from fupin.outreach.users import Identity
from fupin.pairing.searching import Searcher, listing_marks, paired_note, searcher_of
from fupin.parsing import NUMBER, NUMBER_START, UNIT, UNIT_NAME_WORD, normalize_text
from fupin.periods import today
from fupin.places import Gazetteer, Place
from fupin.values import Price, Quantity, supply_method_labels

logger = logging.getLogger(__name__)


@lru_cache(maxsize=20_000)
def pinyin_of(text: str) -> tuple[str, ...]:
    """Toneless pinyin syllables of a word (洋芋 → yang, yu); other characters pass through."""
    return tuple(lazy_pinyin(text, style=Style.NORMAL))


def _fuzzy_syllable(syllable: str) -> str:
    # Southwest Mandarin merges these: zh/z, ch/c, sh/s, n/l, hu/fu, and -ng/-n finals.
    for retroflex, flat in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if syllable.startswith(retroflex):
            syllable = flat + syllable[2:]
    if syllable.startswith("l"):
        syllable = "n" + syllable[1:]
    if syllable.startswith("hu"):
        syllable = "f" + syllable[1:]
    for nasal, plain in (("ang", "an"), ("eng", "en"), ("ing", "in")):
        if syllable.endswith(nasal):
            syllable = syllable[: -len(nasal)] + plain
    return syllable


def _edit_distance_at_most_one(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = j = 0
    edits = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            i += 1
            j += 1
            continue
        edits += 1
        if edits > 1:
            return False
        if len(a) == len(b):
            i += 1
        j += 1
    return edits + (len(b) - j) + (len(a) - i) <= 1


def _near_syllables(a: str, b: str) -> bool:
    return _fuzzy_syllable(a) == _fuzzy_syllable(b) or _edit_distance_at_most_one(a, b)


def sounds_like(term: str, word: str) -> str | None:
    """How a written term matches a word by sound or spelling: "homophone", "typo" or None."""
    if len(term) != len(word) or len(term) < 2:
        return None
    a, b = pinyin_of(term), pinyin_of(word)
    if len(a) != len(b):
        return None
    if a == b:
        return "homophone"
    differing = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    if len(differing) == 1 and _near_syllables(*differing[0]):
        return "homophone"
    if len(term) >= 3 and sum(x != y for x, y in zip(term, word, strict=True)) == 1:
        return "typo"
    return None


@dataclass(frozen=True)
class VocabularyEntry:
    """A written form of a product: its own name or an alias."""

    written: str
    product_id: int
    product: str


@dataclass(frozen=True)
class ProductMatch:
    """How a written product term was understood: exact, alias, partial, homophone or typo."""

    written: str
    product_id: int
    product: str
    how: str


# What is made of a product, written after it (红薯粉条, 苕粉, 土豆片, 核桃酒): Chinese puts the head noun
# last, so 红薯粉条 is noodles, not sweet potatoes, and must not be offered 红薯 as if it were.
# 干 is left alone before 啥/嘛/什么/货/净 (土豆干啥用的, 木耳干货).
MADE_FROM = re.compile(r"粉条|粉丝|粉|罐头|干(?![啥嘛什货净])|片|酱|酒|醋|汁|饼|糕|脯|丝|条")


def made_from(term: str, name: str) -> bool:
    """Whether a term names something made of a product (红薯粉条 of 红薯), not the product."""
    at = term.find(name)
    return at >= 0 and MADE_FROM.match(term, at + len(name)) is not None


class ProductVocabulary:
    """Every product name and alias, for matching what people write."""

    def __init__(self, entries: list[VocabularyEntry]) -> None:
        # Longest first, so that 土鸡蛋 is preferred over 土鸡 in partial matches.
        self.entries = sorted(entries, key=lambda e: (-len(e.written), e.written))
        self.by_written = {e.written: e for e in self.entries}

    @classmethod
    def load(cls, session: Session) -> ProductVocabulary:
        """Read every product and alias from the database."""
        entries = [VocabularyEntry(name, pid, name) for pid, name in session.execute(select(Product.id, Product.name))]
        entries += [
            VocabularyEntry(alias, pid, name)
            for alias, pid, name in session.execute(select(ProductAlias.alias, Product.id, Product.name).join(Product))
        ]
        return cls(entries)

    def match(self, term: str) -> list[ProductMatch]:
        """Products a term may mean, best kind of match first; empty when nothing is close."""
        term = normalize_text(term).replace(" ", "")
        if not term:
            return []
        entry = self.by_written.get(term)
        if entry is not None:
            return [ProductMatch(term, entry.product_id, entry.product, "exact" if term == entry.product else "alias")]
        for finder in (self._partial, self._by_sound):
            found = finder(term)
            if found:
                return found
        return []

    def with_varieties(self, matches: list[ProductMatch]) -> list[ProductMatch]:
        """The matches, then every product named as a variety of one of them (红心猕猴桃 for 猕猴桃).

        A variety's name ends with the product's name or alias (Chinese puts the head noun last), so
        猕猴桃 finds 红心猕猴桃 and 高山洋芋, while 土鸡 does not find 土鸡蛋.
        """
        ids = {m.product_id for m in matches}
        forms = [e.written for e in self.entries if e.product_id in ids and len(e.written) >= 2]
        found = [
            ProductMatch(e.written, e.product_id, e.product, "variety")
            for e in self.entries
            if e.product_id not in ids and any(e.written.endswith(f) and e.written != f for f in forms)
        ]
        return _dedupe([*matches, *found])

    def _partial(self, term: str) -> list[ProductMatch]:
        # The term holds a known name (新鲜土豆) or, when two characters or more, is part of one (木耳).
        contained = [
            e for e in self.entries if e.written in term and len(e.written) >= 2 and not made_from(term, e.written)
        ]
        if contained:
            longest = len(contained[0].written)
            contained = [e for e in contained if len(e.written) == longest]
        elif len(term) >= 2:
            contained = [e for e in self.entries if term in e.written]
        return _dedupe(ProductMatch(term, e.product_id, e.product, "partial") for e in contained)

    def _by_sound(self, term: str) -> list[ProductMatch]:
        found = []
        for entry in self.entries:
            how = sounds_like(term, entry.written)
            if how:
                found.append(ProductMatch(term, entry.product_id, entry.product, how))
        return _dedupe(found)

    def closest(self, term: str, limit: int = 3) -> list[str]:
        """Product names nearest to a term no product matches, by shared characters and similar syllables."""
        term = normalize_text(term).replace(" ", "")
        syllables = {_fuzzy_syllable(s) for s in pinyin_of(term)}
        scores: dict[str, int] = {}
        for entry in self.entries:
            # A shared character (火龙果, 奇异果) weighs more than a syllable that only sounds alike.
            score = 2 * len(set(term) & set(entry.written))
            score += len(syllables & {_fuzzy_syllable(s) for s in pinyin_of(entry.written)})
            if score > scores.get(entry.product, 0):
                scores[entry.product] = score
        ranked = sorted((name for name, score in scores.items() if score > 0), key=lambda n: (-scores[n], n))
        return ranked[:limit]

    def spans(self, text: str) -> list[tuple[int, int, VocabularyEntry]]:
        """Product names or aliases written in a sentence: (start, end, entry), longest first, no overlaps.

        One-character aliases (茶) are left out: inside a sentence they are too often another word.
        """
        found: list[tuple[int, int, VocabularyEntry]] = []
        for start, end, entry in self._occurrences(text):
            if _free(found, start, end) and not MADE_FROM.match(text, end):
                found.append((start, end, entry))
        return sorted(found, key=lambda f: f[0])

    def made_of_spans(self, text: str) -> list[tuple[int, int]]:
        """Spans of things made of a known product (红薯粉条, 土豆片) that no name or alias covers."""
        found: list[tuple[int, int, VocabularyEntry]] = []
        for start, end, entry in self._occurrences(text):
            suffix = MADE_FROM.match(text, end)
            if suffix is not None and _free(found, start, suffix.end()):
                found.append((start, suffix.end(), entry))
        return sorted((start, end) for start, end, _entry in found)

    def _occurrences(self, text: str) -> Iterator[tuple[int, int, VocabularyEntry]]:
        # Longest names first; one-character aliases (茶) are too often another word inside a sentence.
        for entry in self.entries:
            if len(entry.written) < 2:
                continue
            start = text.find(entry.written)
            while start >= 0:
                end = start + len(entry.written)
                yield start, end, entry
                start = text.find(entry.written, end)

    def mentions(self, text: str) -> list[VocabularyEntry]:
        """Product names or aliases written anywhere in a sentence, in order of position."""
        return [entry for _start, _end, entry in self.spans(normalize_text(text))]


def _free(found: list[tuple[int, int, VocabularyEntry]], start: int, end: int) -> bool:
    return all(end <= s or start >= e for s, e, _entry in found)


def _dedupe(matches: object) -> list[ProductMatch]:
    seen: set[int] = set()
    out: list[ProductMatch] = []
    for match in matches:  # type: ignore[attr-defined]
        if match.product_id not in seen:
            seen.add(match.product_id)
            out.append(match)
    return out


@dataclass(frozen=True)
class ListingView:
    """What a buyer needs to order a listing: product, stock, price, methods, place and contact.

    `household` is the poor household's name only for a viewer who may see it (Identity.may_see_household),
    else empty: poverty status is sensitive personal information.
    """

    listing_id: int
    product: str
    variety: str
    township: str
    village: str
    household: str
    remaining: Quantity
    price: Price
    supply_methods: tuple[str, ...]
    shop_url: str
    contact_name: str
    contact_phone: str
    deep_poverty: bool
    updated_at: datetime
    rating: VillageRating | None = None  # the village's, once it has enough ratings
    paired: bool = False  # a village the searching unit is paired with (fupin.pairing)
    marks: tuple[str, ...] = ()  # place marks for this searcher: （深度贫困地区）, （结对帮扶村）, …
    offer: str = "现货"  # an OfferKind value: 预售 listings sell an expected harvest, 认养 ones adoptions
    expected_month: date | None = None

    @property
    def offer_tag(self) -> str:
        """预售·12月上市 / 认养; empty for goods in hand."""
        return offer_tag(self.offer, self.expected_month)

    @property
    def place(self) -> str:
        """Township and village as written (龙角镇张家村)."""
        return self.township + self.village

    @property
    def in_stock(self) -> bool:
        """True while some quantity is left."""
        return self.remaining.value > 0


@dataclass
class SearchResult:
    """Listings found, how the query was understood, and alternatives when nothing matched."""

    listings: list[ListingView]
    total: int
    products: list[ProductMatch] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    unknown_product: bool = False
    unknown_place: bool = False
    alternatives: list[ListingView] = field(default_factory=list)
    note: str = ""  # said above the results: the searching unit's paired villages put first


class CatalogNames:
    """Product vocabulary and gazetteer read from the database, re-read every `refresh_seconds`.

    Shared by search and the NLU's catalogue matcher, so names added to the database are
    recognised without retraining or a code change. `version` counts the changes of the names: a re-read
    that finds the same names keeps the objects and the version (what the dialogue's parse cache keys on).
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        refresh_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session_factory = session_factory
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._loaded_at: float | None = None
        self._vocabulary: ProductVocabulary | None = None
        self._gazetteer: Gazetteer | None = None
        self.version = 0

    def get(self, session: Session) -> tuple[ProductVocabulary, Gazetteer]:
        """The vocabulary and gazetteer, re-read through `session` when older than the refresh period."""
        now = self._clock()
        if self._loaded_at is None or now - self._loaded_at >= self._refresh_seconds:
            vocabulary, gazetteer = ProductVocabulary.load(session), Gazetteer.load(session)
            if not self._holds(vocabulary, gazetteer):
                self._vocabulary, self._gazetteer = vocabulary, gazetteer
                self.version += 1
            self._loaded_at = now
        assert self._vocabulary is not None and self._gazetteer is not None
        return self._vocabulary, self._gazetteer

    def _holds(self, vocabulary: ProductVocabulary, gazetteer: Gazetteer) -> bool:
        """Whether the names in memory are these."""
        return (
            self._vocabulary is not None
            and self._gazetteer is not None
            and self._vocabulary.entries == vocabulary.entries
            and self._gazetteer.townships == gazetteer.townships
            and self._gazetteer.villages == gazetteer.villages
        )

    def current_version(self) -> int:
        """The names' version now (re-reading them first when they are due)."""
        with self.session_factory() as session:
            self.get(session)
        return self.version

    def is_fresh(self) -> bool:
        """Whether the names were read within the refresh period (a failed re-read leaves them stale)."""
        return self._loaded_at is not None and self._clock() - self._loaded_at < self._refresh_seconds

    def refresh(self) -> None:
        """Forget the cached names (after this process changed them)."""
        self._loaded_at = None


class CatalogSearch:
    """Search over the catalogue.

    Listings themselves are always read live, so new stock and prices show at once; a brand-new
    product name is found exactly at once and fuzzily after the names' next refresh.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        refresh_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session_factory = session_factory
        self.names = CatalogNames(session_factory, refresh_seconds, clock)

    def search(
        self,
        product: str | None = None,
        place: str | None = None,
        limit: int = 5,
        offset: int = 0,
        viewer: Identity | None = None,
    ) -> SearchResult:
        """Listings for a product, a place, or both, best first (in stock, deep-poverty places).

        `viewer`: who asks; household names are shown only to those who may see them (none when anonymous).
        """
        with self._session_factory() as session:
            vocabulary, gazetteer = self.names.get(session)
            matches: list[ProductMatch] = []
            if product and product.strip():
                matches = vocabulary.match(product)
                if not matches:
                    # A product added since the last refresh is still found by its exact name.
                    matches = _exact_product(session, product)
                # A product with no listings of its own never hides the listings of its varieties.
                matches = vocabulary.with_varieties(matches)
            places = gazetteer.find(place) if place and place.strip() else []
            result = SearchResult(listings=[], total=0, products=matches, places=places)
            result.unknown_product = bool(product and product.strip()) and not matches
            result.unknown_place = bool(place and place.strip()) and not places
            if result.unknown_product or result.unknown_place or not (matches or places):
                return result
            filters = _filters(matches, places)
            searcher = searcher_of(session, viewer, today())
            first = searcher.paired if searcher else None
            result.total = session.scalar(select(func.count(Listing.id)).where(*filters)) or 0
            ratings = village_ratings(session) if result.total or (matches and places) else {}
            if result.total:
                ids = _ranked_ids(session, gazetteer, filters, limit, offset, _asked(matches), ratings, first)
                result.listings = _views(session, gazetteer, ids, viewer, ratings, searcher)
            elif matches and places:
                # Nothing there: offer the same product elsewhere.
                ids = _ranked_ids(session, gazetteer, _filters(matches, []), limit, 0, _asked(matches), ratings, first)
                result.alternatives = _views(session, gazetteer, ids, viewer, ratings, searcher)
            shown = result.listings or result.alternatives
            paired = list(dict.fromkeys(v.village for v in shown if v.paired))
            result.note = paired_note(searcher, paired, any(v.deep_poverty for v in shown))
            return result

    def search_text(self, text: str, limit: int = 5, viewer: Identity | None = None) -> SearchResult:
        """Search with whatever product and place a free sentence names (龙角镇有什么特产)."""
        with self._session_factory() as session:
            vocabulary, gazetteer = self.names.get(session)
            products = vocabulary.mentions(text)
            places = gazetteer.mentions(text)
        return self.search(
            product=products[0].written if products else None,
            place=places[0].label if places else None,
            limit=limit,
            viewer=viewer,
        )

    def unknown_product(self, written: str | None, text: str = "") -> UnknownProduct | None:
        """The product named (or, failing that, asked for in `text`) when the catalogue lacks it, with close names."""
        with self._session_factory() as session:
            vocabulary, gazetteer = self.names.get(session)
            if not written:
                if vocabulary.mentions(text):
                    return None
                for place in gazetteer.mentions(text):
                    text = text.replace(place.label, " ").replace(place.township.name, " ")
                written = product_term(text)
            if not written or vocabulary.match(written) or _exact_product(session, written):
                return None
            if gazetteer.find(written):
                return None  # a place, not a product
            # Only products someone sells are worth offering: a name without stock leads nowhere.
            stocked = _stocked_products(session)
            closest = [name for name in vocabulary.closest(written, limit=len(stocked) or 1) if name in stocked]
            return UnknownProduct(written, closest[:3], sorted(stocked))


# Words around a product's name in a question or an order (哪里有, 我要买, 多少钱一斤), never part of it.
_FRAME = re.compile(
    rf"{NUMBER_START}{NUMBER}\s?{UNIT}|请问|请|帮我们|帮我|给我们|给我|我们|我想|我要|想要|想|要|给|哪里|哪儿|哪个|那里|有没有|有冇|有没|有|"
    r"卖|买|订购|订|采购|一点|一些|点|些|多少钱|多少|价格|价钱|什么价|一斤|每斤|吗|呢|啊|吧|嘛|的|了|[?？!！,，。、\s]"
)
_CJK_TERM = re.compile(r"^[\u4e00-\u9fff]{2,6}$")
# What a question asks for when it names no product (龙角镇有什么特产).
_GENERIC = re.compile(r"什么|啥|特产|产品|东西|货|不|没")


@dataclass(frozen=True)
class UnknownProduct:
    """A product a message names that the catalogue lacks, and the names closest to it."""

    written: str
    closest: list[str]  # close names that have stock, nearest first
    available: list[str]  # every product in stock, for when nothing is close


def product_term(text: str) -> str | None:
    """The word a question or an order asks for once its frame is removed (哪里有火龙果 → 火龙果), else None."""
    chunks = [c for c in _FRAME.split(normalize_text(text)) if c]
    # The product comes last in 给县人民医院食堂订30斤火龙果; a unit or a place before it is another chunk.
    # A last chunk naming a unit (帮我们医院食堂拿二十斤, a bare 县中医院食堂) asks for no product at all.
    if not chunks or not _CJK_TERM.match(chunks[-1]) or _GENERIC.search(chunks[-1]):
        return None
    if UNIT_NAME_WORD.search(chunks[-1]):
        return None
    return chunks[-1]


def _stocked_products(session: Session) -> set[str]:
    return set(
        session.scalars(
            select(Product.name).join(Listing).where(Listing.active.is_(True), Listing.remaining_quantity > 0)
        )
    )


def _exact_product(session: Session, written: str) -> list[ProductMatch]:
    name = normalize_text(written).replace(" ", "")
    row = session.execute(select(Product.id, Product.name).where(Product.name == name)).first()
    how = "exact"
    if row is None:
        row = session.execute(
            select(Product.id, Product.name).join(ProductAlias).where(ProductAlias.alias == name)
        ).first()
        how = "alias"
    return [ProductMatch(name, row[0], row[1], how)] if row else []


def _asked(matches: list[ProductMatch]) -> set[int]:
    # The products asked for by name, whose listings come before those of their varieties.
    return {m.product_id for m in matches if m.how != "variety"}


def _filters(matches: list[ProductMatch], places: list[Place]) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = [Listing.active.is_(True)]
    if matches:
        filters.append(Listing.product_id.in_(sorted({m.product_id for m in matches})))
    if places:
        filters.append(_in_places({p.township.id for p in places if p.village is None},
                                  {p.village.id for p in places if p.village is not None}))  # fmt: skip
    return filters


def _in_places(township_ids: set[int], village_ids: set[int]) -> ColumnElement[bool]:
    # Only the parts that are needed, so that SQLite can use one index rather than an OR of two.
    parts = []
    if township_ids:
        parts.append(Listing.township_id.in_(sorted(township_ids)))
    if village_ids:
        parts.append(Listing.village_id.in_(sorted(village_ids)))
    return or_(*parts) if len(parts) > 1 else parts[0] if parts else false()


def _ranked_ids(
    session: Session,
    gazetteer: Gazetteer,
    filters: list[ColumnElement[bool]],
    limit: int,
    offset: int,
    asked: set[int] | None = None,
    ratings: dict[int, VillageRating] | None = None,
    first: frozenset[int] | None = None,
) -> list[int]:
    # Rank on the listings table alone (deep-poverty places come from the gazetteer as id sets, ratings
    # as a village → stars map), so the sort never touches a join: the products asked for by name before
    # their varieties, then in stock first, deep-poverty places next, better-rated villages next (a listing
    # is never hidden for its rating), freshest first. The searching unit's paired villages (`first`) come
    # right after stock: its purchases there count toward its pairing.
    deep = _in_places(
        {t.id for t in gazetteer.townships if t.deep_poverty}, {v.id for v in gazetteer.villages if v.deep_poverty}
    )
    order: list[ColumnElement[Any]] = []
    if asked:
        order.append(case((Listing.product_id.in_(sorted(asked)), 1), else_=0).desc())
    order += [
        case((Listing.remaining_quantity > 0, 1), else_=0).desc(),
    ]
    if first:
        order.append(case((Listing.village_id.in_(sorted(first)), 1), else_=0).desc())
    order += [
        case((deep, 1), else_=0).desc(),
    ]
    if ratings:
        order.append(case({v: r.average for v, r in ratings.items()}, value=Listing.village_id, else_=0).desc())
    order += [
        Listing.updated_at.desc(),
        Listing.id,
    ]
    query = select(Listing.id).where(*filters).order_by(*order).limit(limit).offset(offset)
    return list(session.scalars(query))


def _views(
    session: Session,
    gazetteer: Gazetteer,
    ids: list[int],
    viewer: Identity | None,
    ratings: dict[int, VillageRating] | None = None,
    searcher: Searcher | None = None,
) -> list[ListingView]:
    if not ids:
        return []
    rows = session.execute(
        select(
            Listing.id,
            Product.name,
            Listing.variety,
            Listing.township_id,
            Listing.village_id,
            Household.name,
            Listing.remaining_quantity,
            Listing.unit,
            Listing.price_fen,
            Listing.supply_methods,
            Listing.shop_url,
            SupplyContact.name,
            SupplyContact.phone,
            Listing.updated_at,
            Listing.offer,
            Listing.expected_month,
        )
        .join(Product, Listing.product_id == Product.id)
        .outerjoin(Household, Listing.household_id == Household.id)
        .outerjoin(SupplyContact, Listing.contact_id == SupplyContact.id)
        .where(Listing.id.in_(ids))
    ).all()
    views = {}
    for row in rows:
        township = gazetteer.township_by_id[row[3]]
        village = gazetteer.village_by_id.get(row[4]) if row[4] else None
        views[row[0]] = ListingView(
            listing_id=row[0],
            product=row[1],
            variety=row[2],
            township=township.name,
            village=village.short_name if village else "",
            household=(row[5] or "") if viewer is not None and viewer.may_see_household(row[3], row[4]) else "",
            remaining=Quantity(row[6], row[7]),
            price=Price(row[8], row[7]),
            supply_methods=tuple(supply_method_labels(row[9])),
            shop_url=row[10],
            contact_name=row[11] or "",
            contact_phone=row[12] or "",
            deep_poverty=township.deep_poverty or bool(village and village.deep_poverty),
            updated_at=row[13],
            rating=(ratings or {}).get(row[4]) if row[4] else None,
            paired=searcher is not None and row[4] in searcher.paired,
            marks=listing_marks(searcher, row[4], bool(village and village.deep_poverty), township.deep_poverty),
            offer=row[14],
            expected_month=row[15],
        )
    return [views[i] for i in ids if i in views]
