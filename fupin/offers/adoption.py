"""Adoptions (认养): a listing sells adoption units (一头年猪, 一棵果树, 一亩地) with terms saying what the adopter
receives; its contact sends progress updates to every adopter at once, and delivery writes the sale record
like any order's (fupin.orders.shipping.deliver)."""

from __future__ import annotations

import logging
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.models import MAX_FILE_ID, AdoptionUpdate, Listing, Order, User
from fupin.offers import wording
from fupin.offers.moves import OfferError
from fupin.outreach.notifications import PUSH_CHANNELS, enqueue, photo_attachment
from fupin.outreach.users import Identity
from fupin.parsing import normalize_text
from fupin.values import OfferKind, OrderStatus

logger = logging.getLogger(__name__)

# An adoption is over for its adopter once its order is one of these: they hear no more of it.
ENDED = (OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED, OrderStatus.UNFILLED)
MAX_UPDATE_TEXT = 500
ADOPTION_PUSH_KIND = "adoption_update"


def adoption_listings(session: Session, identity: Identity) -> list[Listing]:
    """The active 认养 listings this person manages."""
    query = (
        select(Listing).where(Listing.offer == OfferKind.ADOPTION.value, Listing.active.is_(True)).order_by(Listing.id)
    )
    return [li for li in session.scalars(query) if identity.may_manage(li)]


def label(listing: Listing) -> str:
    """An adoption listing as a choice: place, product and terms."""
    terms = f"（{listing.terms}）" if listing.terms else ""
    return f"{listing.place_label} {listing.product.name}{terms}"


def pick_adoption(session: Session, identity: Identity, wanted: int | str | None, text: str = "") -> Listing:
    """The adoption listing an update is for: by id, by product name, or the only one; raises OfferError.

    With several and none named, one whose product shares a character with the update's text (猪 → 年猪) wins
    when it is the only such one.
    """
    if not (identity.is_contact or identity.is_admin):
        raise OfferError("只有认养产品的供货联系人才能给认养户发消息。")
    mine = adoption_listings(session, identity)
    if isinstance(wanted, int):
        mine = [li for li in mine if li.id == wanted]
    elif wanted:
        name = normalize_text(wanted).replace(" ", "")
        mine = [li for li in mine if name in li.product.name or li.product.name in name]
    if not mine:
        raise OfferError("您负责的范围里没有认养产品（附件1备注写“认养：一头年猪，约200斤，腊月交付”的产品）。")
    if len(mine) > 1 and not isinstance(wanted, int):
        near = [li for li in mine if set(li.product.name) & set(text)]
        if len(near) == 1:
            return near[0]
        names = "、".join(label(li) for li in mine)
        raise OfferError(f"您负责的认养产品有{len(mine)}个（{names}），请说是哪一个，比如“给年猪认养户发：…”。")
    return mine[0]


def adopters(session: Session, listing_id: int) -> list[User]:
    """Every user with an adoption of the listing still running (not cancelled, rejected, expired or unfilled)."""
    ended = [s.value for s in ENDED]
    query = (
        select(User)
        .join(Order, Order.user_id == User.id)
        .where(Order.listing_id == listing_id, Order.status.not_in(ended))
        .distinct()
        .order_by(User.id)
    )
    return list(session.scalars(query))


def send_update(
    session: Session,
    identity: Identity,
    listing: int | str | None,
    text: str,
    photo_file_id: str | None = None,
) -> AdoptionUpdate:
    """Record a progress update and push it (with its photo) to every adopter the outbox reaches; raises OfferError.

    `listing`: its id, a product name, or None for the contact's only adoption listing.
    """
    words = normalize_text(text)[:MAX_UPDATE_TEXT]
    photo = (photo_file_id or "").strip() or None
    if not words and photo is None:
        raise OfferError("请说要告诉认养户什么，比如“给认养户发：猪已经长到150斤了”。")
    if photo is not None and len(photo) > MAX_FILE_ID:
        raise OfferError("照片编号太长，请重新发送照片。")
    chosen = pick_adoption(session, identity, listing, words)
    text_out = wording.adoption_push(chosen.product.name, chosen.place_label, words or "发来一张照片", bool(photo))
    update = AdoptionUpdate(
        listing_id=chosen.id, user_id=identity.user_id, text=words, photo_file_id=photo, recipients=0
    )
    session.add(update)
    session.flush()
    attachments = [photo_attachment(photo)] if photo else []
    sent = 0
    for user in adopters(session, chosen.id):
        if user.channel not in PUSH_CHANNELS or user.id == identity.user_id:
            continue
        enqueue(
            session,
            user,
            ADOPTION_PUSH_KIND,
            text_out,
            attachments=attachments,
            dedupe_key=f"{ADOPTION_PUSH_KIND}:{update.id}:{user.id}",
        )
        sent += 1
    update.recipients = sent
    session.flush()
    logger.info("adoption update %s on listing %s: %d recipients", update.id, chosen.id, sent)
    return update


_ADDRESSED = re.compile(
    r"^(?:请|麻烦)?(?:帮我)?(?:给|跟|向|告诉|通知)(?:所有|全部|各位)?(?:的)?(?P<product>[^，,:：\s]{0,8}?)"
    r"认养(?:户|人|的人|家庭|单位|的|者)?们?(?:发|说|讲|推送|通知)?(?:一下|一条|条消息|消息)?[:：，,]?"
)


def update_words(text: str) -> tuple[str | None, str]:
    """ "给认养户发：猪已经长到150斤了" as (product named or None, the words adopters get)."""
    cleaned = normalize_text(text)
    addressed = _ADDRESSED.match(cleaned)
    if addressed is None:
        return None, cleaned
    return addressed["product"] or None, cleaned[addressed.end() :].strip()
