"""Buying units (采购单位): matching what people write to known buyers, registering new ones."""

from __future__ import annotations

import logging
import re

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fupin.models import Buyer, Order, User
from fupin.parsing import normalize_text
from fupin.values import BuyerCategory

logger = logging.getLogger(__name__)

# Words in a unit's name that tell its category; the first rule that matches wins.
_CATEGORY_RULES: tuple[tuple[str, BuyerCategory], ...] = (
    (r"威海|山东", BuyerCategory.PAIRING_SHANDONG),
    (r"渝北|主城|市政协", BuyerCategory.PAIRING_MAIN_CITY),
    (r"进出口银行|央企|中国.*(公司|集团)", BuyerCategory.PAIRING_CENTRAL_SOE),
    # Before the units: a unit's union (县人民医院工会) buys for its members, not for the unit's canteen.
    (r"工会", BuyerCategory.FAMILY),
    (r"学校|中学|小学|幼儿园|学院|大学|教委|职教中心", BuyerCategory.SCHOOL),
    (r"医院|卫生院|卫生健康委|卫健委|妇幼|疾控", BuyerCategory.HOSPITAL),
    (r"电商|网店|微店|商城", BuyerCategory.ECOMMERCE),
    (r"景区|旅游|旅行社|酒店|宾馆|民宿|农家乐", BuyerCategory.TOURISM),
    (r"展销|博览会|农博会|西洽会|节$|年货节", BuyerCategory.FAIR),
    (r"银行|信用社|保险|国有|国资|电力|烟草|邮政|移动|联通|电信|水务|燃气|城投|旅发集团", BuyerCategory.ENTERPRISE),
    (r"公司|企业|厂|合作社|超市|餐饮|饭店|商会", BuyerCategory.CHARITY_FIRM),
    (r"委|局|办|政府|街道|中心|机关|法院|检察院|人大|政协|党校|食堂|部$", BuyerCategory.GOVERNMENT),
)
_FILLERS = re.compile(r"^(?:我们是|我们|我是|单位是|单位|是|给|帮)|(?:的)$")


def clean_unit_name(written: str) -> str:
    """A unit's name without the words around it (我们是县教委 → 县教委)."""
    return _FILLERS.sub("", normalize_text(written).replace(" ", ""))


def guess_category(name: str) -> BuyerCategory:
    """The category a unit's name suggests (县人民医院食堂 → 医院); 个人 when nothing fits."""
    for pattern, category in _CATEGORY_RULES:
        if re.search(pattern, name):
            return category
    return BuyerCategory.PERSONAL


def find_buyer(session: Session, written: str) -> Buyer | None:
    """A known buyer by exact name, or the only one whose name contains (or is contained in) it."""
    name = clean_unit_name(written)
    if not name:
        return None
    buyer = session.scalar(select(Buyer).where(Buyer.name == name))
    if buyer is not None:
        return buyer
    candidates = [b for b in session.scalars(select(Buyer)) if name in b.name or (len(b.name) >= 3 and b.name in name)]
    return candidates[0] if len(candidates) == 1 else None


def find_or_register_buyer(
    session: Session, written: str, category: BuyerCategory | None = None, phone: str = ""
) -> tuple[Buyer, bool]:
    """The known buyer a name means, or a new one with its category and lead unit; (buyer, created)."""
    buyer = find_buyer(session, written)
    if buyer is not None:
        if phone and not buyer.phone:
            buyer.phone = phone
        return buyer, False
    name = clean_unit_name(written)
    if not name:
        raise ValueError("empty buyer name")
    category = category or guess_category(name)
    buyer = Buyer(name=name, category=category.value, lead_unit=category.lead_unit or "", phone=phone)
    try:
        with session.begin_nested():
            session.add(buyer)
    except IntegrityError:
        # Another transaction registered the same unit meanwhile (two first orders at once): theirs it is.
        existing = session.scalar(select(Buyer).where(Buyer.name == name))
        if existing is None:
            raise
        return existing, False
    logger.info("registered buyer %s as %s", name, category.value)
    return buyer, True


def buyer_of_user(session: Session, user_id: int | None, category: BuyerCategory | None = None) -> Buyer | None:
    """The buying unit a chat user acts for (of `category`, when given): the one bound to them (User.buyer_id),
    else the unit of their latest order."""
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is not None and user.buyer_id is not None:
        bound = session.get(Buyer, user.buyer_id)
        if bound is not None and (category is None or bound.category == category.value):
            return bound
    query = select(Buyer).join(Order, Order.buyer_id == Buyer.id).where(Order.user_id == user_id)
    if category is not None:
        query = query.where(Buyer.category == category.value)
    return session.scalar(query.order_by(Order.id.desc()).limit(1))


def buyer_users(session: Session, buyer_id: int) -> list[User]:
    """The chat users of a buying unit: those bound to it and those who ordered for it, by id."""
    ordered = select(Order.user_id).where(Order.buyer_id == buyer_id, Order.user_id.is_not(None))
    query = select(User).where(or_(User.buyer_id == buyer_id, User.id.in_(ordered))).order_by(User.id)
    return list(session.scalars(query))


def purchase_remark(category: BuyerCategory) -> str:
    """The 备注 the forms carry for a purchase by this kind of unit (用于机关食堂)."""
    return {
        BuyerCategory.GOVERNMENT: "用于机关食堂",
        BuyerCategory.SCHOOL: "用于学校食堂",
        BuyerCategory.HOSPITAL: "用于医院食堂",
        BuyerCategory.ENTERPRISE: "用于企业食堂",
        BuyerCategory.FAMILY: "工会活动采购",
    }.get(category, "")
