"""Ratings (评价): the buyer's 1–5 stars for a delivered order, and each village's average for the search.

One rating per order, by the buyer who placed it, changeable for RATING_CHANGE_DAYS after it was first
given. A village's rating is shown, and ranks its listings among equals, once it has MIN_SHOWN ratings.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fupin.mentions import ORDER_NO_SPANS, fold_width
from fupin.models import Listing, Order, Rating
from fupin.outreach.notifications import PUSH_CHANNELS, enqueue
from fupin.outreach.users import Identity, users_for_listing
from fupin.parsing import strip_frame
from fupin.values import OrderStatus

logger = logging.getLogger(__name__)

RATING_CHANGE_DAYS = 7
MIN_SHOWN = 3  # fewer ratings say little about a village: not shown, not ranked
RATE_ACTION_PREFIX = "rate:"
RATEABLE = (OrderStatus.DELIVERED, OrderStatus.PAID)


class RatingError(Exception):
    """A rating that cannot be given or changed; the message is a Chinese reason for the buyer."""


@dataclass(frozen=True)
class Rated:
    """What a rating did: the order, the stars, and whether it changed an earlier rating."""

    order_no: str
    stars: int
    changed: bool
    words: str = ""


@dataclass(frozen=True)
class VillageRating:
    """A village's average stars over its rated orders."""

    average: float
    count: int

    def label(self) -> str:
        """评分 4.6（12单）."""
        return f"评分 {self.average:.1f}（{self.count}单）"


_STARS = re.compile(r"([1-5一二三四五])\s*(?:颗)?星")
_CN_STARS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


def stars_in(text: str) -> int | None:
    """The stars a message gives (打5星, 五星好评, 评个4颗星), else None."""
    found = _STARS.search(fold_width(text))
    if found is None:
        return None
    digit = found.group(1)
    return _CN_STARS.get(digit) or int(digit)


MAX_WORDS = 200
# The frame of a rating message (给订单…打…星吧), never the buyer's words about the goods.
_FRAME_WORDS = (
    "帮我把", "的评价改成", "评价改成", "改成", "改为", "给订单", "给上次的", "给这次的", "上次的", "这次的", "这单",
    "订单", "评价", "评分", "打分", "好评", "差评", "评个", "给", "打", "评", "吧", "哈",
)  # fmt: skip
_FRAME = re.compile("|".join(re.escape(w) for w in _FRAME_WORDS) + r"|[\s,，.。;；:：!！~～、]")


def words_in(text: str) -> str:
    """What a rating message says about the goods beside the stars (“土豆有点不新鲜”), "" when only the stars."""
    folded = fold_width(text)
    stars = _STARS.search(folded)
    if stars is not None:
        folded = folded[: stars.start()] + " " + folded[stars.end() :]
    rest = ORDER_NO_SPANS.sub(" ", folded)
    if len(_FRAME.sub("", rest)) < 2:
        return ""
    # Keep the buyer's own wording: trim only the frame around it.
    return strip_frame(rest.strip(), _FRAME_WORDS).removeprefix("的").strip()[:MAX_WORDS]


def stars_text(stars: int) -> str:
    """★★★★☆ for 4."""
    return "★" * stars + "☆" * (5 - stars)


def rating_action(order_no: str, stars: int) -> str:
    """A star button's neutral action (`rate:XF…:4`)."""
    return f"{RATE_ACTION_PREFIX}{order_no}:{stars}"


def parse_rating_action(data: str) -> tuple[str, int] | None:
    """(order_no, stars) of a star button, None for anything else."""
    if not data.startswith(RATE_ACTION_PREFIX):
        return None
    order_no, _, stars = data[len(RATE_ACTION_PREFIX) :].partition(":")
    return (order_no, int(stars)) if order_no and stars.isdigit() else None


def rating_buttons(order_no: str) -> list[tuple[str, str]]:
    """The five star buttons of a delivered order's push."""
    return [(f"{n}星", rating_action(order_no, n)) for n in range(1, 6)]


def rate_order(session: Session, order_no: str, stars: int, actor: Identity, now: datetime, words: str = "") -> Rated:
    """Record or change the buyer's stars (and words) for a delivered order; raises RatingError.

    Words are pushed to the listing's supply contacts: what a buyer says about the goods is for them to hear.
    """
    if not 1 <= stars <= 5:
        raise RatingError("评分是1到5星，请点下面的星级按钮，或说“给订单XF…打5星”。")
    order = session.scalar(select(Order).where(Order.order_no == order_no.strip().upper()))
    if order is None:
        raise RatingError(f"没有找到订单 {order_no}。")
    if actor.user_id is None or order.user_id != actor.user_id:
        raise RatingError("只有下这个订单的采购方可以评价。")
    if OrderStatus(order.status) not in RATEABLE:
        raise RatingError(f"订单 {order.order_no} 现在是“{order.status}”，送达以后才能评价。")
    earlier = session.scalar(select(Rating).where(Rating.order_id == order.id))
    if earlier is None:
        try:
            with session.begin_nested():
                session.add(
                    Rating(
                        order_id=order.id,
                        user_id=actor.user_id,
                        stars=stars,
                        words=words[:MAX_WORDS],
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            # The same order rated at the same moment elsewhere (a double press): change that one instead.
            earlier = session.scalar(select(Rating).where(Rating.order_id == order.id))
            assert earlier is not None
        else:
            logger.info("order %s rated %d", order.order_no, stars)
            push_rating_words(session, order, stars, words, actor)
            return Rated(order.order_no, stars, changed=False, words=words)
    if now > earlier.created_at + timedelta(days=RATING_CHANGE_DAYS):
        raise RatingError(
            f"订单 {order.order_no} 已评价{stars_text(earlier.stars)}，评价{RATING_CHANGE_DAYS}天后不能再修改。"
        )
    kept = words[:MAX_WORDS] or earlier.words  # new stars alone keep the words said before
    session.execute(update(Rating).where(Rating.id == earlier.id).values(stars=stars, words=kept, updated_at=now))
    logger.info("order %s rating changed %d -> %d", order.order_no, earlier.stars, stars)
    if words and words != earlier.words:
        push_rating_words(session, order, stars, words, actor)
    return Rated(order.order_no, stars, changed=True, words=kept)


RATING_PUSH_KIND = "rating_words"


def push_rating_words(session: Session, order: Order, stars: int, words: str, actor: Identity) -> int:
    """Tell the listing's supply contacts what the buyer wrote about the goods beside the stars."""
    if not words:
        return 0
    listing = order.listing
    text = (
        f"采购方对订单 {order.order_no}（{listing.product.name}，{listing.place_label}）的评价："
        f"{stars_text(stars)}（{stars}星）“{words}”"
    )
    sent = 0
    for user in users_for_listing(session, listing):
        if user.channel in PUSH_CHANNELS and user.id != actor.user_id:
            key = f"{RATING_PUSH_KIND}:{order.order_no}:{hash_words(words)}:{user.id}"
            enqueue(session, user, RATING_PUSH_KIND, text, (), dedupe_key=key)
            sent += 1
    return sent


def hash_words(words: str) -> str:
    """A short stable key of the words, so changed words are pushed once each."""
    return hashlib.sha1(words.encode("utf-8")).hexdigest()[:12]


def village_ratings(session: Session) -> dict[int, VillageRating]:
    """Each village's average stars, for villages with at least MIN_SHOWN rated orders."""
    rows = session.execute(
        select(Listing.village_id, func.avg(Rating.stars), func.count(Rating.id))
        .select_from(Rating)
        .join(Order, Rating.order_id == Order.id)
        .join(Listing, Order.listing_id == Listing.id)
        .where(Listing.village_id.is_not(None))
        .group_by(Listing.village_id)
        .having(func.count(Rating.id) >= MIN_SHOWN)
    ).all()
    return {int(row[0]): VillageRating(round(float(row[1]), 1), int(row[2])) for row in rows}
