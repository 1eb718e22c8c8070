"""What every complaint operation shares: the error, the status groups, finding a complaint, who may handle it,
and moving its status with one conditional UPDATE and an event row."""

from __future__ import annotations

import logging
from collections.abc import Collection

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from fupin.models import MAX_COMPLAINT_TEXT, Complaint, ComplaintEvent, Listing, Order, utcnow
from fupin.outreach.users import Identity
from fupin.values import ComplaintStatus

logger = logging.getLogger(__name__)

# Not closed: the order has this complaint open, and no second one may be filed.
NOT_CLOSED: tuple[ComplaintStatus, ...] = tuple(s for s in ComplaintStatus if s is not ComplaintStatus.CLOSED)
# Waiting for the seller's or the county's action (the reminder's "open"): not answered, not closed.
UNSETTLED: tuple[ComplaintStatus, ...] = (ComplaintStatus.OPEN, ComplaintStatus.IN_HAND, ComplaintStatus.ESCALATED)
# Settled for the overview's figures: answered (已解决) or closed (已结案).
SETTLED: tuple[ComplaintStatus, ...] = (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED)


class ComplaintError(Exception):
    """A complaint that cannot be filed or changed; the message is a Chinese reason for the user."""


# What a complaint's views, pushes and permission checks read of it, in one query.
COMPLAINT_PARTS = (
    joinedload(Complaint.order).options(
        joinedload(Order.buyer),
        joinedload(Order.listing).options(
            joinedload(Listing.product), joinedload(Listing.township), joinedload(Listing.village)
        ),
    ),
    joinedload(Complaint.handler),
)


def normalise_no(number: str) -> str:
    """An order or complaint number as typed: spaces dropped, upper case."""
    return "".join(number.split()).upper()


def find_complaint(session: Session, complaint_no: str) -> Complaint:
    """The complaint with this number; raises ComplaintError when there is none."""
    complaint = session.scalar(
        select(Complaint).where(Complaint.complaint_no == normalise_no(complaint_no)).options(*COMPLAINT_PARTS)
    )
    if complaint is None:
        raise ComplaintError(f"没有找到投诉 {complaint_no}。")
    return complaint


def bounded_note(note: str, what: str, required: bool) -> str:
    """A note, finding or reason stripped and checked: not empty when required, at most MAX_COMPLAINT_TEXT characters."""
    cleaned = note.strip()
    if required and not cleaned:
        raise ComplaintError(f"请写明{what}。")
    if len(cleaned) > MAX_COMPLAINT_TEXT:
        raise ComplaintError(f"{what}最多{MAX_COMPLAINT_TEXT}字，请简要说明。")
    return cleaned


def is_buyer(actor: Identity, complaint: Complaint) -> bool:
    """The user who placed the order, or who filed the complaint."""
    return actor.user_id is not None and actor.user_id in (complaint.order.user_id, complaint.user_id)


def may_handle(actor: Identity, complaint: Complaint) -> bool:
    """A supply contact who manages the order's listing, county market staff, or an admin."""
    if actor.user_id is None:
        return False
    return actor.is_admin or actor.is_market or actor.may_manage(complaint.order.listing)


def move(
    session: Session,
    complaint: Complaint,
    allowed_from: Collection[ComplaintStatus],
    target: ComplaintStatus,
    actor: Identity,
    note: str,
    verb: str,
    handler_user_id: int | None = None,
) -> ComplaintEvent:
    """Move a complaint from one of `allowed_from` to `target` and record the event; raises ComplaintError.

    The status changes with a conditional UPDATE on the status read, so a button pressed twice acts once.
    """
    current = ComplaintStatus(complaint.status)
    if current not in allowed_from:
        raise ComplaintError(f"投诉 {complaint.complaint_no} 现在是“{current.value}”，不能再{verb}。")
    now = utcnow()
    values: dict[str, object] = {"status": target.value, "updated_at": now}
    if handler_user_id is not None:
        values["handler_user_id"] = handler_user_id
    if target is ComplaintStatus.CLOSED:
        values["open_order_id"] = None  # the order may get a new complaint
    moved = session.execute(
        update(Complaint)
        .where(Complaint.id == complaint.id, Complaint.status == current.value)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise ComplaintError(f"投诉 {complaint.complaint_no} 刚刚已被处理，请查看最新状态。")
    event = ComplaintEvent(
        complaint_id=complaint.id,
        from_status=current.value,
        to_status=target.value,
        actor_user_id=actor.user_id,
        note=note,
        at=now,
    )
    session.add(event)
    session.flush()
    session.refresh(complaint)
    logger.info("complaint %s: %s -> %s by %s", complaint.complaint_no, current.value, target.value, actor.external_id)
    return event
