"""What a complaint's life pushes to people: a new complaint at once to the listing's contacts, market staff and
admins; each change of its status to everyone involved who did not make it.

Written into the outbox (`fupin.outreach.notifications`) in the transaction that changes the complaint. Buttons
carry neutral actions ("complaint:take:TS…") that a front-end turns into a request; dedupe keys name the
complaint and, for a change, its event. The buyer's phone is never in a complaint's push.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.models import Complaint, ComplaintEvent, User
from fupin.outreach.notifications import PUSH_CHANNELS, Button, enqueue, photo_attachment
from fupin.outreach.users import Identity, users_for_listing
from fupin.values import ComplaintStatus, Quantity, Role

logger = logging.getLogger(__name__)

COMPLAINT_ACTION_PREFIX = "complaint:"


class ComplaintOp(str, enum.Enum):
    """The operations a complaint's button may ask for (`complaint:<op>:TS…`)."""

    TAKE = "take"  # 受理
    SETTLE = "settle"  # the buyer: 确认解决
    ESCALATE = "escalate"  # the buyer: 不满意，升级
    ANSWER = "answer"  # a handler's result (typed: TS…已处理：补发10斤)
    CLOSE = "close"  # market staff or an admin close with a finding (typed: TS…结案：…)


class ComplaintPushKind(str, enum.Enum):
    """The outbox kinds of a complaint's pushes."""

    NEW = "complaint_new"
    STATUS = "complaint_status"


def complaint_action(op: ComplaintOp | str, complaint_no: str) -> str:
    """A button's neutral action on a complaint (`complaint:take:TS…`)."""
    return f"{COMPLAINT_ACTION_PREFIX}{ComplaintOp(op).value}:{complaint_no}"


def parse_complaint_action(data: str) -> tuple[ComplaintOp, str] | None:
    """(op, complaint_no) of a complaint action, None for anything else."""
    if not data.startswith(COMPLAINT_ACTION_PREFIX):
        return None
    op, _, complaint_no = data[len(COMPLAINT_ACTION_PREFIX) :].partition(":")
    try:
        return (ComplaintOp(op), complaint_no) if complaint_no else None
    except ValueError:
        return None


COMPLAIN_ACTION_PREFIX = "complain:"


def complain_action(order_no: str) -> str:
    """The 质量投诉 button under a delivered order's push (`complain:XF…`): it starts a complaint about it."""
    return f"{COMPLAIN_ACTION_PREFIX}{order_no}"


def parse_complain_action(data: str) -> str | None:
    """The order number of a 质量投诉 button, None for anything else."""
    if not data.startswith(COMPLAIN_ACTION_PREFIX):
        return None
    return data[len(COMPLAIN_ACTION_PREFIX) :] or None


def describe(complaint: Complaint) -> str:
    """The complaint in one line: number, order, buyer, product, place, category, the buyer's words."""
    order = complaint.order
    listing = order.listing
    product = listing.product.name + (f"（{listing.variety}）" if listing.variety else "")
    photo = "（附照片）" if complaint.photo_file_id else ""
    return (
        f"投诉 {complaint.complaint_no}（订单 {order.order_no}，{order.buyer.name} {product}"
        f"{Quantity(order.quantity, order.unit)}，{listing.place_label}）：【{complaint.category}】{complaint.text}{photo}"
    )


def _users(session: Session, role: Role) -> list[User]:
    return list(session.scalars(select(User).where(User.role == role.value).order_by(User.id)))


def _reachable(users: Iterable[User], actor: Identity | None) -> list[User]:
    # Nobody needs a push about what they just did themselves; console users read their lists by asking.
    found: dict[int, User] = {}
    for user in users:
        if user.channel in PUSH_CHANNELS and (actor is None or user.id != actor.user_id):
            found.setdefault(user.id, user)
    return list(found.values())


def push_new_complaint(session: Session, complaint: Complaint, actor: Identity) -> int:
    """Tell the listing's supply contacts, every market-supervision user and every admin, with a 受理 button."""
    buttons = [("受理", complaint_action(ComplaintOp.TAKE, complaint.complaint_no))]
    everyone = [
        *users_for_listing(session, complaint.order.listing),
        *_users(session, Role.MARKET),
        *_users(session, Role.ADMIN),
    ]
    text = f"新的质量投诉 {describe(complaint)}。请尽快联系采购方核实处理，受理后回复处理结果。"
    kind = ComplaintPushKind.NEW.value
    sent = 0
    photos = [photo_attachment(complaint.photo_file_id)] if complaint.photo_file_id else []
    for user in _reachable(everyone, actor):
        key = f"{kind}:{complaint.complaint_no}:{user.id}"
        enqueue(session, user, kind, text, buttons, attachments=photos, dedupe_key=key)
        sent += 1
    if not sent:
        logger.info("complaint %s: nobody reachable by push", complaint.complaint_no)
    return sent


def _who(actor: Identity) -> str:
    if actor.is_admin:
        return "县里的管理员"
    if actor.is_market:
        return "县市场监管人员"
    if actor.is_contact:
        return "供货联系人" + (actor.display_name or "")
    return "采购方"


def push_status_change(session: Session, complaint: Complaint, event: ComplaintEvent, actor: Identity) -> int:
    """Tell the buyer, the handler, the listing's contacts and market staff about a change, except the actor."""
    status = ComplaintStatus(event.to_status)
    number, who, note = complaint.complaint_no, _who(actor), event.note
    buyer_ids = {complaint.order.user_id, complaint.user_id}
    buyer_buttons: list[Button] = []
    staff_buttons: list[Button] = []
    if status is ComplaintStatus.IN_HAND:
        text_for_buyer = f"您的投诉 {number} 已由{who}受理，正在处理。"
        text_for_staff = f"投诉 {number} 已由{who}受理。"
    elif status is ComplaintStatus.RESOLVED:
        text_for_buyer = (
            f"您的投诉 {number} 有了处理结果：{note}。问题解决了请点“确认解决”；"
            "不满意可以点“不满意，升级”，县市场监管人员会介入。"
        )
        buyer_buttons = [
            ("确认解决", complaint_action(ComplaintOp.SETTLE, number)),
            ("不满意，升级", complaint_action(ComplaintOp.ESCALATE, number)),
        ]
        text_for_staff = f"投诉 {number} 已由{who}答复：{note}。等采购方确认。"
    elif status is ComplaintStatus.ESCALATED:
        reason = f"：{note}" if note else ""
        text_for_buyer = f"您的投诉 {number} 已升级到县市场监管，会有人与您联系。"
        text_for_staff = f"采购方对投诉 {number} 的处理不满意，已升级到县市场监管{reason}。"
        staff_buttons = [("受理", complaint_action(ComplaintOp.TAKE, number))]
    elif event.note:  # closed by market staff or an admin, with a finding
        text_for_buyer = f"您的投诉 {number} 已由{who}结案。结论：{note}"
        text_for_staff = f"投诉 {number} 已由{who}结案。结论：{note}"
    else:  # closed by the buyer's confirmation
        text_for_buyer = f"您已确认投诉 {number} 的问题解决，已结案。谢谢您对消费扶贫的支持！"
        text_for_staff = f"采购方已确认投诉 {number} 的问题解决，已结案。"
    recipients: list[User] = [u for u in (session.get(User, i) for i in buyer_ids if i is not None) if u]
    if complaint.handler is not None:
        recipients.append(complaint.handler)
    recipients += users_for_listing(session, complaint.order.listing)
    recipients += _users(session, Role.MARKET)
    line = describe(complaint)

    def text_for(user: User) -> str:
        return text_for_buyer if user.id in buyer_ids else f"{text_for_staff}\n{line}"

    def buttons_for(user: User) -> list[Button]:
        if user.id in buyer_ids:
            return buyer_buttons
        return staff_buttons if Role(user.role) in (Role.MARKET, Role.ADMIN) else []

    kind = ComplaintPushKind.STATUS.value
    sent = 0
    for user in _reachable(recipients, actor):
        key = f"{kind}:{number}:e{event.id}:{user.id}"
        enqueue(session, user, kind, text_for(user), buttons_for(user), dedupe_key=key)
        sent += 1
    return sent
