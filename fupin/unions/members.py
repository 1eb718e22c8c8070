"""Unions' member counts: every change a new row, the latest counts; who speaks for a union in chat."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.models import Buyer, UnionMembers, utcnow
from fupin.orders.buyers import buyer_of_user, buyer_users, clean_unit_name, find_buyer, find_or_register_buyer
from fupin.outreach.users import Identity, sender_of, user_for
from fupin.parsing import NUMBER, NUMBER_START, parse_number
from fupin.values import BuyerCategory

logger = logging.getLogger(__name__)

# No union of the county has more members; a larger figure is a typing mistake (an extra zero).
MAX_MEMBERS = 100_000
# What a member count is said with: 120名会员, 85人, 300位职工.
_COUNT_WORDS = "(?:名|个|位)?(?:工会会员|干部职工|会员|职工|员工|人)"
_COUNT_AFTER = re.compile(rf"{NUMBER_START}(?<![-−负~])({NUMBER}){_COUNT_WORDS}")
# 会员人数改成八十五, 人数：300 (no word after the number).
_COUNT_BEFORE = re.compile(
    rf"(?:人数|会员数|会员)(?:是|为|改成|改为|变成|调整为|调整成|共有|有|共|:)?{NUMBER_START}({NUMBER})(?![0-9.])"
)
_MAX_TEXT = 200  # a member count is said in a short sentence


class UnionError(Exception):
    """A member count or union that cannot be used; the message is a Chinese reason for the user."""


def member_count_in(text: str) -> Decimal | None:
    """The member count a sentence states (我们工会有120名会员 → 120, 会员人数改成八十五 → 85), unchecked."""
    folded = re.sub(r"[\s,，]", "", text[:_MAX_TEXT]).replace("：", ":")
    for pattern in (_COUNT_AFTER, _COUNT_BEFORE):
        match = pattern.search(folded)
        if match:
            return parse_number(match.group(1))
    return None


def check_members(value: object) -> int:
    """A member count as a positive whole number of at most MAX_MEMBERS; raises UnionError otherwise."""
    number = value if isinstance(value, Decimal) else parse_number(str(value)) if value is not None else None
    if number is None and str(value).strip().startswith(("-", "−", "负")):
        raise UnionError("会员人数要大于0。")
    if number is None:
        raise UnionError("没看懂会员人数，请说一个整数，比如“我们工会有120名会员”。")
    if number != number.to_integral_value():
        raise UnionError("会员人数要是整数，比如“120人”。")
    if number <= 0:
        raise UnionError("会员人数要大于0。")
    if number > MAX_MEMBERS:
        raise UnionError(f"会员人数不能超过{MAX_MEMBERS}人，请核对一下。")
    return int(number)


def is_union(buyer: Buyer) -> bool:
    """A buyer of category 家庭/工会, the only kind with a union budget."""
    return buyer.category == BuyerCategory.FAMILY.value


def not_a_union(buyer: Buyer) -> UnionError:
    """The refusal for a buyer of another category."""
    return UnionError(f"{buyer.name}的类别是“{buyer.category}”，不是工会：只有工会（家庭/工会）才有人均消费扶贫额度。")


def find_union(session: Session, written: str, *, register: bool = False) -> Buyer:
    """The union a name means; with `register`, a new buyer of category 家庭/工会 when the name says 工会."""
    buyer = find_buyer(session, written)
    if buyer is None:
        name = clean_unit_name(written)
        if not register or "工会" not in name or not 2 <= len(name) <= 60:
            raise UnionError(f"没有找到叫“{name or written}”的工会，请说工会的全称，比如“县人民医院工会”。")
        buyer, _created = find_or_register_buyer(session, name, BuyerCategory.FAMILY)
    if not is_union(buyer):
        raise not_a_union(buyer)
    return buyer


def latest_members(session: Session, buyer_id: int, until: datetime | None = None) -> UnionMembers | None:
    """The union's latest member count (recorded before `until`, when given), or None."""
    query = select(UnionMembers).where(UnionMembers.buyer_id == buyer_id)
    if until is not None:
        query = query.where(UnionMembers.recorded_at < until)
    return session.scalar(query.order_by(UnionMembers.id.desc()).limit(1))


def member_history(session: Session, buyer_id: int) -> list[UnionMembers]:
    """Every member count the union registered, oldest first."""
    return list(
        session.scalars(select(UnionMembers).where(UnionMembers.buyer_id == buyer_id).order_by(UnionMembers.id))
    )


def set_members(
    session: Session, union: Buyer, members: object, user_id: int | None = None, now: datetime | None = None
) -> UnionMembers:
    """Record the union's member count (a new row; earlier ones stay as its history); raises UnionError."""
    if not is_union(union):
        raise not_a_union(union)
    count = check_members(members)
    row = UnionMembers(buyer_id=union.id, members=count, user_id=user_id, recorded_at=now or utcnow())
    session.add(row)
    session.flush()
    logger.info("union %s: %d members (user %s)", union.name, count, user_id)
    return row


def speaks_for(session: Session, identity: Identity, union: Buyer) -> bool:
    """Admins speak for every union; anyone else for the union linked to them or that they ordered for."""
    if identity.is_admin:
        return True
    return identity.user_id is not None and any(u.id == identity.user_id for u in buyer_users(session, union.id))


def resolve_union(session: Session, identity: Identity, written: str | None, *, register: bool = False) -> Buyer:
    """The union a chat message is about: the one it names, else the sender's own; raises UnionError."""
    if written and written.strip():
        return find_union(session, written, register=register)
    own = None if identity.is_admin else buyer_of_user(session, identity.user_id, BuyerCategory.FAMILY)
    if own is not None:
        return own
    if identity.is_admin:
        raise UnionError("请说是哪个工会，比如“县人民医院工会还剩多少额度”。")
    raise UnionError(
        "只有工会才有消费扶贫额度（按会员人数计算，用于购买结对帮扶村和深度贫困镇村的贫困户产品）。"
        "还不知道您是哪个工会的联系人：如果是，请说“县人民医院工会有120名会员”登记会员人数。"
    )


@dataclass(frozen=True)
class Registered:
    """A member count registered in chat: the union, its new record, and the count it replaced (None: the first)."""

    union: Buyer
    row: UnionMembers
    previous: int | None


def register_by_chat(
    session: Session, identity: Identity, written: str | None, members: object, now: datetime | None = None
) -> Registered:
    """A union's member count said in chat: by its contact, or by the first to name a union nobody speaks for.

    The sender is linked to the union (User.buyer_id), so later questions need not name it. Raises UnionError.
    """
    count = check_members(members)  # before anything is registered or linked
    union = resolve_union(session, identity, written, register=True)
    if not speaks_for(session, identity, union) and buyer_users(session, union.id):
        raise UnionError(f"{union.name}已有登记的联系人，会员人数请由该联系人或县里的管理员修改。")
    user = None if identity.is_admin else user_for(session, sender_of(identity.channel, identity.external_id))
    if user is not None:
        user.buyer_id = union.id
    previous = latest_members(session, union.id)
    row = set_members(session, union, count, user.id if user else identity.user_id, now)
    return Registered(union, row, previous.members if previous is not None else None)
