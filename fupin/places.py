"""The county's townships and villages: loading the reference data and resolving written place names."""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.models import Township, Village
from fupin.parsing import ParseError, normalize_text

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
TOWNSHIPS_CSV = DATA_DIR / "yunyang_townships.csv"
VILLAGES_CSV = DATA_DIR / "yunyang_villages.csv"

_TOWNSHIP_SUFFIXES = ("土家族乡", "街道办事处", "街道", "镇", "乡")
_VILLAGE_SUFFIXES = ("村民委员会", "居民委员会", "村委会", "居委会", "社区", "村")


def village_short_name(official: str) -> str:
    """How people write a village: 石云村村民委员会 → 石云村, 杏家湾社区居民委员会 → 杏家湾社区."""
    return re.sub(r"(村民委员会|居民委员会)$", "", official)


def _stem(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def township_stem(name: str) -> str:
    """A township name without its 镇/乡/街道 suffix (龙角镇 → 龙角)."""
    return _stem(name, _TOWNSHIP_SUFFIXES)


def village_stem(name: str) -> str:
    """A village name without its 村/社区 suffix (石云村 → 石云)."""
    return _stem(village_short_name(name), _VILLAGE_SUFFIXES)


def load_reference_places(session: Session) -> tuple[int, int]:
    """Insert or rename the county's 42 townships and 480 villages; staff-set flags are kept.

    Returns the numbers of townships and villages added.
    """
    townships = {t.code: t for t in session.scalars(select(Township))}
    added_townships = 0
    with TOWNSHIPS_CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            existing = townships.get(row["code"])
            if existing is None:
                existing = Township(
                    code=row["code"],
                    name=row["name"],
                    kind=row["kind"],
                    deep_poverty=row["deep_poverty"] == "1",
                )
                session.add(existing)
                townships[row["code"]] = existing
                added_townships += 1
            else:
                existing.name, existing.kind = row["name"], row["kind"]
    session.flush()
    villages = {v.code: v for v in session.scalars(select(Village))}
    added_villages = 0
    with VILLAGES_CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            township = townships[row["township_code"]]
            existing = villages.get(row["code"])
            if existing is None:
                session.add(
                    Village(
                        code=row["code"],
                        name=row["name"],
                        short_name=village_short_name(row["name"]),
                        township_id=township.id,
                    )
                )
                added_villages += 1
            else:
                existing.name = row["name"]
                existing.short_name = village_short_name(row["name"])
                existing.township_id = township.id
    session.flush()
    return added_townships, added_villages


@dataclass(frozen=True)
class TownshipEntry:
    """A township as the gazetteer knows it."""

    id: int
    code: str
    name: str
    stem: str
    deep_poverty: bool


@dataclass(frozen=True)
class VillageEntry:
    """A village as the gazetteer knows it."""

    id: int
    code: str
    short_name: str
    stem: str
    township_id: int
    deep_poverty: bool


@dataclass(frozen=True)
class Place:
    """A resolved place: a township, and a village of it when the place is that precise."""

    township: TownshipEntry
    village: VillageEntry | None = None

    @property
    def label(self) -> str:
        """The place as a person writes it (龙角镇石云村)."""
        return self.township.name + (self.village.short_name if self.village else "")

    @property
    def deep_poverty(self) -> bool:
        """True when the township or village is a deep-poverty one."""
        return self.township.deep_poverty or bool(self.village and self.village.deep_poverty)


class Gazetteer:
    """The county's place names in memory, for resolving what people and spreadsheets write."""

    def __init__(self, townships: list[TownshipEntry], villages: list[VillageEntry]) -> None:
        self.townships = townships
        self.villages = villages
        self.township_by_id = {t.id: t for t in townships}
        self.village_by_id = {v.id: v for v in villages}
        # Longest names first, so that 清水土家族乡 is tried before any shorter name it starts with.
        self._townships_longest_first = sorted(townships, key=lambda t: -len(t.name))
        self._villages_by_written: dict[str, list[VillageEntry]] = {}
        for village in villages:
            for written in {village.short_name, village.stem}:
                self._villages_by_written.setdefault(written, []).append(village)

    @classmethod
    def load(cls, session: Session) -> Gazetteer:
        """Read every township and village from the database."""
        # Plain rows, not ORM objects: the names are re-read every few seconds (CatalogNames).
        townships = [
            TownshipEntry(tid, code, name, township_stem(name), deep)
            for tid, code, name, deep in session.execute(
                select(Township.id, Township.code, Township.name, Township.deep_poverty).order_by(Township.code)
            )
        ]
        villages = [
            VillageEntry(vid, code, short, village_stem(short), township_id, deep)
            for vid, code, short, township_id, deep in session.execute(
                select(
                    Village.id, Village.code, Village.short_name, Village.township_id, Village.deep_poverty
                ).order_by(Village.code)
            )
        ]
        return cls(townships, villages)

    def township_named(self, text: str) -> TownshipEntry | None:
        """The township a name denotes exactly (龙角镇, 龙角), or None."""
        text = _strip_county(normalize_text(text).replace(" ", ""))
        for township in self.townships:
            if text in (township.name, township.stem):
                return township
        return None

    def resolve_region(self, text: str, township_hint: TownshipEntry | None = None) -> Place:
        """Resolve a 地区 cell such as 云阳县龙角镇石云村; raises ParseError with a Chinese reason."""
        rest = _strip_county(normalize_text(text).replace(" ", ""))
        if not rest:
            if township_hint is None:
                raise ParseError("缺少地区（乡镇、村）")
            return Place(township_hint)
        township = None
        for candidate in self._townships_longest_first:
            if rest.startswith(candidate.name):
                township, rest = candidate, rest[len(candidate.name) :]
                break
            if rest == candidate.stem:
                township, rest = candidate, ""
                break
        if township is None:
            township = township_hint
        if not rest:
            if township is None:
                raise ParseError(f"未知的乡镇（街道）：{text}")
            return Place(township)
        candidates = self._villages_by_written.get(rest.removesuffix("村委会"), [])
        matches = [v for v in candidates if township is None or v.township_id == township.id]
        if len(matches) == 1:
            village = matches[0]
            return Place(self.township_by_id[village.township_id], village)
        if len(matches) > 1:
            names = "、".join(self.township_by_id[v.township_id].name for v in matches)
            raise ParseError(f"村（社区）名“{rest}”在多个乡镇都有（{names}），请写明乡镇")
        if township is None:
            raise ParseError(f"未知的地区：{text}（请写明乡镇和村，如 云阳县龙角镇石云村）")
        raise ParseError(f"{township.name}没有“{rest}”这个村（社区）")

    def find(self, term: str) -> list[Place]:
        """Places a search term may mean: exact names first, then partial ones (龙角 → 龙角镇)."""
        term = _strip_county(normalize_text(term).replace(" ", ""))
        if not term:
            return []
        try:
            return [self.resolve_region(term)]
        except ParseError:
            pass
        if len(term) < 2:
            return []
        found = [Place(t) for t in self.townships if t.name.startswith(term) or term in t.name]
        found += [
            Place(self.township_by_id[v.township_id], v)
            for v in self.villages
            if v.short_name.startswith(term) or term in v.short_name
        ]
        return found

    def spans(self, text: str) -> list[tuple[int, int, Place]]:
        """Places written in a sentence as (start, end, place), a township and its village as one span.

        Full names, township names without 镇/乡 (龙角) and village names (张家村) are found, longest
        first; 云阳县 before a place belongs to its span.
        """
        names: list[tuple[str, TownshipEntry, VillageEntry | None]] = []
        stems = set()
        for township in self.townships:
            names.append((township.name, township, None))
            if len(township.stem) >= 2:
                names.append((township.stem, township, None))
                stems.add(township.stem)
        for entry in self.villages:
            names.append((entry.short_name, self.township_by_id[entry.township_id], entry))
        names.sort(key=lambda n: -len(n[0]))
        hits: list[tuple[int, int, TownshipEntry, VillageEntry | None]] = []
        for written, township, village in names:
            start = text.find(written)
            while start >= 0:
                end = start + len(written)
                county = written in stems and text.startswith("县", end)  # 云阳县 is the county, not 云阳镇
                if not county and all(end <= s or start >= e for s, e, _, _ in hits):
                    hits.append((start, end, township, village))
                start = text.find(written, end)
        hits.sort(key=lambda h: h[0])
        spans: list[tuple[int, int, Place]] = []
        for start, end, township, village in hits:
            previous = spans[-1] if spans else None
            if (
                previous
                and previous[1] == start
                and previous[2].village is None
                and village is not None
                and village.township_id == previous[2].township.id
            ):
                spans[-1] = (previous[0], end, Place(previous[2].township, village))  # 龙角镇张家村
                continue
            if text.endswith("云阳县", 0, start):
                start -= 3
            spans.append((start, end, Place(township, village)))
        return spans

    def is_ambiguous(self, village_name: str) -> bool:
        """True when several townships have a village of this name (双龙村)."""
        return len(self._villages_by_written.get(village_name, [])) > 1

    def mentions(self, text: str) -> list[Place]:
        """Places named anywhere in a sentence (龙角镇有什么特产 → 龙角镇), in order of position."""
        return [place for _start, _end, place in self.spans(normalize_text(text).replace(" ", ""))]


def _strip_county(text: str) -> str:
    for prefix in ("重庆市", "云阳县"):
        text = text.removeprefix(prefix)
    # A bare 云阳 names the county, except in 云阳镇, one of its townships.
    if text.startswith("云阳") and not text.startswith("云阳镇"):
        text = text[2:]
    return text
