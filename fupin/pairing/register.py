"""The pairing register: which buyer (an 爱心企业, or a union) helps which village, from when until when.

One row per buyer and village (the schema's unique constraint): ending a pairing sets its end date, pairing
the same two again reopens that row with the new start. A pairing counts on a day from its start (included)
to its end (excluded).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from fupin.models import Buyer, Pairing, Township, Village
from fupin.orders.buyers import clean_unit_name, find_buyer, guess_category
from fupin.parsing import ParseError
from fupin.places import Gazetteer, Place
from fupin.values import BuyerCategory, PairingSource

logger = logging.getLogger(__name__)

# The buyers the register pairs: 百企帮百村's firms, and unions helping villages (进家庭).
PAIRABLE = (BuyerCategory.CHARITY_FIRM, BuyerCategory.FAMILY)


class PairingError(ValueError):
    """A pairing that cannot be made or ended; the message is a Chinese reason."""


@dataclass(frozen=True)
class PairingChange:
    """What pairing a buyer with a village did: the row, and whether the buyer or the pairing is new."""

    pairing: Pairing
    buyer_created: bool
    opened: bool  # False: the two were already paired on that day


@dataclass(frozen=True)
class PairingView:
    """A pairing as lists and reports show it."""

    pairing_id: int
    buyer_id: int
    buyer: str
    category: str
    township: str
    village: str
    village_id: int
    deep_poverty: bool
    started_on: date
    ended_on: date | None
    source: str

    @property
    def place(self) -> str:
        """Township and village (龙角镇张家村)."""
        return self.township + self.village

    def line(self) -> str:
        """One line of `pairing list`."""
        until = f"至{self.ended_on:%Y-%m-%d}（已结束）" if self.ended_on else "至今"
        deep = "（深度贫困村）" if self.deep_poverty else ""
        return f"{self.buyer}（{self.category}） — {self.place}{deep}，{self.started_on:%Y-%m-%d}起{until}"


def is_open_on(on: date | ColumnElement[date]) -> list[ColumnElement[bool]]:
    """Conditions of a pairing in force on a day (or on each row's date, e.g. SaleRecord.sold_on)."""
    return [Pairing.started_on <= on, or_(Pairing.ended_on.is_(None), Pairing.ended_on > on)]


def open_pairings(session: Session, buyer_id: int, on: date) -> list[Pairing]:
    """The buyer's pairings in force on a day, by village."""
    return list(
        session.scalars(
            select(Pairing).where(Pairing.buyer_id == buyer_id, *is_open_on(on)).order_by(Pairing.village_id)
        )
    )


def paired_village_ids(session: Session, buyer_id: int, on: date) -> set[int]:
    """The villages the buyer is paired with on a day."""
    return set(session.scalars(select(Pairing.village_id).where(Pairing.buyer_id == buyer_id, *is_open_on(on))))


def resolve_village(gazetteer: Gazetteer, written: str) -> Place:
    """A village of the county from what is written (龙角镇张家村, 张家村); raises PairingError."""
    try:
        place = gazetteer.resolve_region(written)
    except ParseError as exc:
        raise PairingError(str(exc)) from exc
    if place.village is None:
        raise PairingError(f"“{written}”是乡镇（街道），请写明结对的村（社区），如 {place.township.name}张家村")
    return place


def firm_problem(session: Session, written: str) -> str | None:
    """Why the buyer a name means cannot be paired (another category), or None; an unknown name is fine."""
    buyer = find_buyer(session, written)
    if buyer is not None and BuyerCategory(buyer.category) not in PAIRABLE:
        return f"“{buyer.name}”登记的类别是{buyer.category}，只有爱心企业和工会可以登记结对帮扶村"
    return None


def pairable_buyer(session: Session, written: str, create: bool = True, phone: str = "") -> tuple[Buyer, bool]:
    """The buyer a name means, created as 爱心企业 (or 家庭/工会 for a union) when unknown; (buyer, created).

    Raises PairingError for a buyer of another category, or an unknown one when `create` is False.
    """
    buyer = find_buyer(session, written)
    created = False
    if buyer is None:
        name = clean_unit_name(written)
        if not name:
            raise PairingError("缺少企业名称")
        if not create:
            raise PairingError(f"没有登记叫“{name}”的采购单位")
        category = BuyerCategory.FAMILY if guess_category(name) is BuyerCategory.FAMILY else BuyerCategory.CHARITY_FIRM
        buyer = Buyer(name=name, category=category.value, lead_unit=category.lead_unit or "", phone=phone)
        session.add(buyer)
        session.flush()
        created = True
        logger.info("registered buyer %s as %s for a pairing", name, category.value)
    elif problem := firm_problem(session, buyer.name):
        raise PairingError(problem)
    if phone and not buyer.phone:
        buyer.phone = phone
    return buyer, created


def pair(
    session: Session,
    buyer: Buyer,
    village_id: int,
    started_on: date,
    source: PairingSource,
    user_id: int | None = None,
    file_name: str = "",
) -> tuple[Pairing, bool]:
    """Pair a buyer with a village from a day; (pairing, opened), opened False when already in force then."""
    pairing = session.scalar(select(Pairing).where(Pairing.buyer_id == buyer.id, Pairing.village_id == village_id))
    if pairing is not None and pairing.started_on <= started_on and pairing.ended_on is None:
        return pairing, False
    if pairing is None:
        pairing = Pairing(buyer_id=buyer.id, village_id=village_id)
        session.add(pairing)
    # A new row, an ended pairing reopened, or an earlier start than recorded: this pairing now holds.
    pairing.started_on, pairing.ended_on = started_on, None
    pairing.source, pairing.file_name, pairing.user_id = source.value, file_name[:300], user_id
    session.flush()
    logger.info("paired buyer %s with village %s from %s (%s)", buyer.id, village_id, started_on, source.value)
    return pairing, True


def add_pairing(
    session: Session,
    buyer_name: str,
    village: str,
    started_on: date,
    source: PairingSource,
    user_id: int | None = None,
    create_buyer: bool = True,
) -> PairingChange:
    """Pair the buyer named with the village written (command line, chat); raises PairingError."""
    place = resolve_village(Gazetteer.load(session), village)
    assert place.village is not None
    buyer, created = pairable_buyer(session, buyer_name, create=create_buyer)
    pairing, opened = pair(session, buyer, place.village.id, started_on, source, user_id)
    return PairingChange(pairing, created, opened)


def end_pairing(session: Session, buyer_name: str, village: str, ended_on: date) -> Pairing:
    """End the buyer's pairing with the village on a day (it no longer counts from then); raises PairingError."""
    place = resolve_village(Gazetteer.load(session), village)
    assert place.village is not None
    buyer = find_buyer(session, buyer_name)
    if buyer is None:
        raise PairingError(f"没有登记叫“{clean_unit_name(buyer_name)}”的采购单位")
    pairing = session.scalar(
        select(Pairing).where(Pairing.buyer_id == buyer.id, Pairing.village_id == place.village.id)
    )
    if pairing is None or pairing.ended_on is not None:
        raise PairingError(f"{buyer.name}没有与{place.label}结对（或已结束）")
    if ended_on <= pairing.started_on:
        raise PairingError(f"结束日期要晚于结对日期{pairing.started_on:%Y-%m-%d}")
    pairing.ended_on = ended_on
    session.flush()
    logger.info("ended pairing %s on %s", pairing.id, ended_on)
    return pairing


def pairing_views(
    session: Session, on: date | None = None, categories: tuple[BuyerCategory, ...] = PAIRABLE
) -> list[PairingView]:
    """Every pairing (only those in force on `on` when given) of buyers of the categories, by buyer and village."""
    query = (
        select(Pairing, Buyer.name, Buyer.category, Township.name, Village.short_name, Village.deep_poverty,
               Township.deep_poverty)
        .join(Buyer, Pairing.buyer_id == Buyer.id)
        .join(Village, Pairing.village_id == Village.id)
        .join(Township, Village.township_id == Township.id)
        .where(Buyer.category.in_([c.value for c in categories]))
        .order_by(Buyer.name, Village.code)
    )  # fmt: skip
    if on is not None:
        query = query.where(*is_open_on(on))
    return [
        PairingView(
            pairing_id=p.id,
            buyer_id=p.buyer_id,
            buyer=buyer,
            category=category,
            township=township,
            village=village,
            village_id=p.village_id,
            deep_poverty=bool(village_deep or township_deep),
            started_on=p.started_on,
            ended_on=p.ended_on,
            source=p.source,
        )
        for p, buyer, category, township, village, village_deep, township_deep in session.execute(query)
    ]
