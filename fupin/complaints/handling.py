"""Handling a complaint: take it up, answer it, the buyer settles or escalates it, market staff close it.

Each is one move of the complaint's status (`states.move`: a conditional UPDATE and an event row) and its
pushes, in the caller's transaction; an illegal move or an actor without the right raises ComplaintError.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from sqlalchemy.orm import Session

from fupin.complaints.pushes import ComplaintOp, push_status_change
from fupin.complaints.states import (
    NOT_CLOSED,
    ComplaintError,
    bounded_note,
    find_complaint,
    is_buyer,
    may_handle,
    move,
)
from fupin.models import Complaint
from fupin.outreach.users import Identity
from fupin.values import ComplaintStatus

logger = logging.getLogger(__name__)

_NOT_PERMITTED = "您没有权限处理这个投诉。"
_BUYER_ONLY = "只有投诉的采购方可以{verb}。"


def _moved(
    session: Session,
    complaint: Complaint,
    actor: Identity,
    allowed: Collection[ComplaintStatus],
    target: ComplaintStatus,
    note: str,
    verb: str,
    handler_user_id: int | None = None,
) -> Complaint:
    event = move(session, complaint, allowed, target, actor, note, verb, handler_user_id)
    push_status_change(session, complaint, event, actor)
    return complaint


def take_up(session: Session, complaint_no: str, actor: Identity) -> Complaint:
    """A contact of the order's listing, market staff or an admin takes the complaint up (处理中) and handles it.

    An escalated complaint is taken up by market staff or an admin only.
    """
    complaint = find_complaint(session, complaint_no)
    if not may_handle(actor, complaint):
        raise ComplaintError(_NOT_PERMITTED)
    allowed = [ComplaintStatus.OPEN]
    if ComplaintStatus(complaint.status) is ComplaintStatus.ESCALATED:
        if not (actor.is_market or actor.is_admin):
            raise ComplaintError(f"投诉 {complaint.complaint_no} 已升级到县市场监管，由市场监管人员受理。")
        allowed.append(ComplaintStatus.ESCALATED)
    return _moved(
        session, complaint, actor, allowed, ComplaintStatus.IN_HAND, note="", verb="受理", handler_user_id=actor.user_id
    )


def answer(session: Session, complaint_no: str, actor: Identity, note: str) -> Complaint:
    """The handler (or another who may handle it) says what was done (已处理：补发10斤) → 已解决, for the buyer to confirm."""
    complaint = find_complaint(session, complaint_no)
    if not (may_handle(actor, complaint) or (actor.user_id is not None and actor.user_id == complaint.handler_user_id)):
        raise ComplaintError(_NOT_PERMITTED)
    if ComplaintStatus(complaint.status) is ComplaintStatus.OPEN:
        raise ComplaintError(f"投诉 {complaint.complaint_no} 还没有人受理，请先受理再答复处理结果。")
    words = bounded_note(note, "处理结果（比如“已处理：补发10斤”“已退款50元”）", required=True)
    return _moved(
        session, complaint, actor, [ComplaintStatus.IN_HAND], ComplaintStatus.RESOLVED, note=words, verb="答复"
    )


def settle(session: Session, complaint_no: str, actor: Identity) -> Complaint:
    """The buyer confirms the problem is settled → 已结案 (at any stage before it is closed)."""
    complaint = find_complaint(session, complaint_no)
    if not is_buyer(actor, complaint):
        raise ComplaintError(_BUYER_ONLY.format(verb="确认解决"))
    return _moved(session, complaint, actor, NOT_CLOSED, ComplaintStatus.CLOSED, note="", verb="确认解决")


def escalate(session: Session, complaint_no: str, actor: Identity, note: str = "") -> Complaint:
    """The buyer is not satisfied (from 待处理, 处理中 or 已解决) → 已升级, for county market staff to take up."""
    complaint = find_complaint(session, complaint_no)
    if not is_buyer(actor, complaint):
        raise ComplaintError(_BUYER_ONLY.format(verb="升级投诉"))
    words = bounded_note(note, "升级原因", required=False)
    allowed = (ComplaintStatus.OPEN, ComplaintStatus.IN_HAND, ComplaintStatus.RESOLVED)
    return _moved(session, complaint, actor, allowed, ComplaintStatus.ESCALATED, note=words, verb="升级")


def close(session: Session, complaint_no: str, actor: Identity, finding: str) -> Complaint:
    """County market staff or an admin close the complaint with their finding → 已结案 (from any open state)."""
    complaint = find_complaint(session, complaint_no)
    if actor.user_id is None or not (actor.is_market or actor.is_admin):
        raise ComplaintError("只有县市场监管人员或县里的管理员可以结案。")
    words = bounded_note(finding, "结案结论（比如“经核实属实，已责令补发并退款”）", required=True)
    return _moved(session, complaint, actor, NOT_CLOSED, ComplaintStatus.CLOSED, note=words, verb="结案")


def act_on(
    session: Session, complaint_no: str, actor: Identity, op: ComplaintOp, note: str
) -> tuple[ComplaintOp, Complaint]:
    """Do what a message asks of a complaint, as the actor's part in it makes it mean; returns what was done.

    The buyer's 解决了 / 退款收到了 settles and anything unhappy escalates; a handler's result answers (taking
    the complaint up first when nobody has); 结案 closes. Raises ComplaintError.
    """
    complaint = find_complaint(session, complaint_no)
    number = complaint.complaint_no
    if is_buyer(actor, complaint) and not (actor.is_admin or actor.is_market):
        if op is ComplaintOp.ESCALATE:
            return op, escalate(session, number, actor, note)
        if op in (ComplaintOp.SETTLE, ComplaintOp.ANSWER):
            return ComplaintOp.SETTLE, settle(session, number, actor)
        raise ComplaintError(
            f"投诉 {number} 由供货方和县市场监管处理；问题解决了请说“{number}解决了”，不满意请说“{number}不满意”。"
        )
    if op is ComplaintOp.CLOSE:
        return op, close(session, number, actor, note)
    if op is ComplaintOp.TAKE:
        return op, take_up(session, number, actor)
    if op in (ComplaintOp.ANSWER, ComplaintOp.SETTLE):
        if ComplaintStatus(complaint.status) in (ComplaintStatus.OPEN, ComplaintStatus.ESCALATED):
            take_up(session, number, actor)  # answering is taking it up: no 受理 needed first
        return ComplaintOp.ANSWER, answer(session, number, actor, note)
    raise ComplaintError(f"升级投诉由采购方提出；要结案请说“{number}结案：调查结论”。")
