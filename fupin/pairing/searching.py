"""What the pairing register changes in a search: a paired buyer's villages first and said so, and for a union
the marks of its paired villages and of deep-poverty villages (where the plan sends its 工会活动)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from fupin.orders.buyers import buyer_of_user
from fupin.outreach.users import Identity
from fupin.pairing.register import paired_village_ids
from fupin.values import BuyerCategory

PAIRED_MARK = "（结对帮扶村）"
DEEP_VILLAGE_MARK = "（深度贫困村）"
DEEP_TOWNSHIP_MARK = "（深度贫困镇）"
DEEP_MARK = "（深度贫困地区）"  # what every other searcher sees


@dataclass(frozen=True)
class Searcher:
    """The buying unit behind a search: whether it is a union, and the villages it is paired with today."""

    buyer_id: int
    buyer: str
    union: bool
    paired: frozenset[int]


def searcher_of(session: Session, viewer: Identity | None, on: date) -> Searcher | None:
    """The viewer's buying unit when its search is shaped by the register (paired, or a union); else None."""
    if viewer is None or viewer.user_id is None:
        return None
    buyer = buyer_of_user(session, viewer.user_id)
    if buyer is None:
        return None
    union = buyer.category == BuyerCategory.FAMILY.value
    paired = frozenset(paired_village_ids(session, buyer.id, on))
    return Searcher(buyer.id, buyer.name, union, paired) if paired or union else None


def listing_marks(
    searcher: Searcher | None, village_id: int | None, deep_village: bool, deep_township: bool
) -> tuple[str, ...]:
    """The place marks of one listing for this searcher."""
    paired = searcher is not None and village_id is not None and village_id in searcher.paired
    marks = [PAIRED_MARK] if paired else []
    if searcher is not None and searcher.union:
        if deep_village:
            marks.append(DEEP_VILLAGE_MARK)
        elif deep_township:
            marks.append(DEEP_TOWNSHIP_MARK)
    elif deep_village or deep_township:
        marks.append(DEEP_MARK)
    return tuple(marks)


def paired_note(searcher: Searcher | None, villages: list[str], any_deep: bool) -> str:
    """The line said above the results: which paired villages were put first (and, for a union, the marks)."""
    if searcher is None:
        return ""
    lines = []
    if villages:
        lines.append(f"已优先列出贵单位结对帮扶的{'、'.join(villages)}的产品。")
    if searcher.union and (villages or any_deep):
        lines.append(
            f"标“{PAIRED_MARK.strip('（）')}”“{DEEP_VILLAGE_MARK.strip('（）')}”的，是贵单位帮扶的村和深度贫困镇村，"
            "工会活动可优先采购。"
        )
    return "".join(lines)
