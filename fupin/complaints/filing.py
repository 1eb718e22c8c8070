"""Filing a complaint: only the order's buyer (or an admin), only about goods promised or sent, one open per order."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fupin.complaints.pushes import push_new_complaint
from fupin.complaints.states import ComplaintError, bounded_note, find_complaint, normalise_no
from fupin.models import MAX_FILE_ID, Complaint, ComplaintEvent, Order, utcnow
from fupin.outreach.users import Identity
from fupin.settings import TIMEZONE
from fupin.values import ComplaintCategory, ComplaintStatus, OrderStatus

logger = logging.getLogger(__name__)

# No 0/O/1/I/L: numbers are read out over the phone.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# Orders whose goods were promised or sent: what a complaint can be about.
COMPLAINABLE = (OrderStatus.CONFIRMED, OrderStatus.DELIVERED, OrderStatus.PAID)
_NOT_COMPLAINABLE = {
    OrderStatus.PENDING: "还在等供货方确认，还没有发货；不想要了可以取消订单",
    OrderStatus.CANCELLED: "已经取消了，没有发货",
    OrderStatus.REJECTED: "已被供货方拒绝，没有发货",
    OrderStatus.EXPIRED: "供货方没有按时确认，已经过期，没有发货",
}


def new_complaint_no(now: datetime | None = None) -> str:
    """TS + yymmdd (Asia/Shanghai) + 4 letters or digits, e.g. TS261204K7QM."""
    day = (now or utcnow()).astimezone(TIMEZONE)
    return f"TS{day:%y%m%d}" + "".join(secrets.choice(_ALPHABET) for _ in range(4))


def _category(value: ComplaintCategory | str) -> ComplaintCategory:
    try:
        return ComplaintCategory(value)
    except ValueError:
        names = "、".join(c.value for c in ComplaintCategory)
        raise ComplaintError(f"投诉类别应为：{names}。") from None


def _refuse_if_open(session: Session, order: Order) -> None:
    number = session.scalar(select(Complaint.complaint_no).where(Complaint.open_order_id == order.id))
    if number is not None:
        raise ComplaintError(
            f"订单 {order.order_no} 已有投诉 {number} 还没有结案，请在那件投诉里补充或确认，不用重复投诉。"
        )


def complainable_order(session: Session, order_no: str, actor: Identity) -> Order:
    """The order a complaint would be about, if the actor may complain about it now; raises ComplaintError."""
    order = session.scalar(select(Order).where(Order.order_no == normalise_no(order_no)))
    if order is None:
        raise ComplaintError(f"没有找到订单 {order_no}。")
    if actor.user_id is None or not (actor.is_admin or order.user_id == actor.user_id):
        raise ComplaintError("只有下这个订单的采购方（或县里的管理员）可以投诉这个订单。")
    status = OrderStatus(order.status)
    if status not in COMPLAINABLE:
        raise ComplaintError(f"订单 {order.order_no} {_NOT_COMPLAINABLE[status]}，不能投诉质量问题。")
    _refuse_if_open(session, order)
    return order


def complainable_orders(session: Session, actor: Identity, limit: int = 5) -> list[Order]:
    """The actor's own orders a complaint could be about now (no open complaint), the latest first."""
    if actor.user_id is None:
        return []
    query = (
        select(Order)
        .outerjoin(Complaint, Complaint.open_order_id == Order.id)
        .where(
            Order.user_id == actor.user_id,
            Order.status.in_([s.value for s in COMPLAINABLE]),
            Complaint.id.is_(None),
        )
        .order_by(Order.updated_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def _photo(file_id: str | None) -> str | None:
    photo = (file_id or "").strip() or None
    if photo is not None and len(photo) > MAX_FILE_ID:
        raise ComplaintError("照片无法识别，请重新发送。")
    return photo


def attach_photo(session: Session, complaint_no: str, actor: Identity, file_id: str) -> Complaint:
    """Add (or replace) the photo of the actor's own complaint not yet closed; raises ComplaintError."""
    complaint = find_complaint(session, complaint_no)
    if actor.user_id is None or complaint.user_id != actor.user_id:
        raise ComplaintError("只有提出这件投诉的采购方可以补充照片。")
    if ComplaintStatus(complaint.status) is ComplaintStatus.CLOSED:
        raise ComplaintError(f"投诉 {complaint.complaint_no} 已结案，不能再补充照片。")
    complaint.photo_file_id = _photo(file_id)
    complaint.updated_at = utcnow()
    session.flush()
    logger.info("complaint %s: photo attached", complaint.complaint_no)
    return complaint


def latest_open_complaint(session: Session, actor: Identity) -> Complaint | None:
    """The actor's most recent complaint not yet closed, if any (a photo sent after filing goes to it)."""
    if actor.user_id is None:
        return None
    query = (
        select(Complaint)
        .where(Complaint.user_id == actor.user_id, Complaint.status != ComplaintStatus.CLOSED.value)
        .order_by(Complaint.created_at.desc(), Complaint.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def file_complaint(
    session: Session,
    order_no: str,
    actor: Identity,
    category: ComplaintCategory | str,
    text: str,
    photo_file_id: str | None = None,
) -> Complaint:
    """Record a complaint about an order (待处理) and tell its contacts, market staff and admins; raises ComplaintError."""
    order = complainable_order(session, order_no, actor)
    kind = _category(category)
    words = bounded_note(text, "投诉内容（比如“土豆有一半是烂的”）", required=True)
    photo = _photo(photo_file_id)
    now = utcnow()
    for _attempt in range(5):
        complaint = Complaint(
            complaint_no=new_complaint_no(now),
            order_id=order.id,
            open_order_id=order.id,
            user_id=actor.user_id,
            category=kind.value,
            text=words,
            photo_file_id=photo,
            status=ComplaintStatus.OPEN.value,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(complaint)
        except IntegrityError:
            _refuse_if_open(session, order)  # another complaint about the order won the race
            continue  # a number collision: draw another
        session.add(
            ComplaintEvent(
                complaint_id=complaint.id,
                from_status=None,
                to_status=ComplaintStatus.OPEN.value,
                actor_user_id=actor.user_id,
                note="",
                at=now,
            )
        )
        session.flush()
        filed = find_complaint(session, complaint.complaint_no)
        logger.info("complaint %s filed about order %s (%s)", filed.complaint_no, order.order_no, kind.value)
        push_new_complaint(session, filed, actor)
        return filed
    raise ComplaintError("系统繁忙，请稍后再试。")
