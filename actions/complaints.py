"""Quality complaints (质量投诉) by chat: the buyer's complaint read back and filed, a photo added, and the
handlers' and the buyer's answers ("TS…已处理：补发10斤", the 受理 / 确认解决 / 不满意，升级 buttons)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import FupinAction, button, entity_value, intent_of, text_of, transaction, who
from actions.offers import attach_update_photo
from actions.readback import ReadBackKind, read_back_slot
from fupin.complaints.filing import (
    attach_photo,
    complainable_order,
    complainable_orders,
    file_complaint,
    latest_open_complaint,
)
from fupin.complaints.handling import act_on
from fupin.complaints.pushes import ComplaintOp
from fupin.complaints.states import ComplaintError
from fupin.complaints.wording import category_in, complaint_no_in, complaint_op_in, complaint_words, note_in
from fupin.models import MAX_COMPLAINT_TEXT, Order
from fupin.orders.lifecycle import view
from fupin.values import ComplaintCategory

logger = logging.getLogger(__name__)

DRAFT_SLOT = "complaint_draft"
WORDS_SLOT = "complaint_words"  # filled by the complaint form's one question
# Intents whose message is the complaint itself (manage_order: "XF…少了3斤" sent on by action_manage_order).
_WORDS_INTENTS = ("complain", "manage_order")


@dataclass(frozen=True)
class ComplaintDraft:
    """What the buyer has said of a complaint so far: it lives in a slot until it is read back."""

    order_no: str = ""
    category: str = ""
    words: str = ""
    photo: str = ""

    @classmethod
    def from_slot(cls, value: Any) -> ComplaintDraft:
        """The draft in a slot (an empty one for anything else)."""
        if not isinstance(value, dict):
            return cls()
        return cls(**{k: str(value.get(k) or "") for k in ("order_no", "category", "words", "photo")})

    def to_slot(self) -> dict[str, str]:
        """The draft as a slot value."""
        return asdict(self)


def _order_label(order: Order) -> str:
    shown = view(order)
    return f"{shown.order_no} {shown.product}{shown.quantity}（{shown.place}）"


class ActionComplain(FupinAction):
    """Gather a complaint (which order, what kind, the buyer's words) and read it back for confirmation."""

    def name(self) -> str:
        return "action_complain"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        typed = text_of(tracker)
        draft = ComplaintDraft.from_slot(tracker.get_slot(DRAFT_SLOT))
        category = entity_value(tracker, "category") or (category_in(typed) or draft.category or "")
        draft = ComplaintDraft(
            order_no=(entity_value(tracker, "order_no") or draft.order_no).upper(),
            category=category.value if isinstance(category, ComplaintCategory) else category,
            # Only a complaint's own message carries its words (not 确认 or a button's payload), or the
            # answer to the complaint form's question.
            words=(complaint_words(typed) if intent_of(tracker) in _WORDS_INTENTS else "")
            or str(tracker.get_slot(WORDS_SLOT) or "").strip()[:MAX_COMPLAINT_TEXT]
            or draft.words,
            photo=draft.photo,
        )
        with self.services.sessions() as session:
            identity = who(session, tracker)
            if not draft.order_no:
                orders = complainable_orders(session, identity)
                if len(orders) != 1:
                    return _which_order(dispatcher, orders, draft)
                draft = replace(draft, order_no=orders[0].order_no)  # the one order there is
            try:
                label = _order_label(complainable_order(session, draft.order_no, identity))
            except ComplaintError as exc:
                dispatcher.utter_message(text=str(exc))
                return [SlotSet(DRAFT_SLOT, None)]
        kept = [SlotSet(DRAFT_SLOT, draft.to_slot()), SlotSet(WORDS_SLOT, None)]
        if not draft.words:
            # The form asks what went wrong: whatever the buyer writes next is the answer.
            return [*kept, FollowupAction("complaint_form")]
        if not draft.category:
            found = category_in(draft.words)
            if found is None:
                buttons = [
                    button(c.value, "complain", order_no=draft.order_no, category=c.value) for c in ComplaintCategory
                ]
                dispatcher.utter_message(text=f"订单 {label}：“{draft.words}”属于哪类问题？", buttons=buttons)
                return kept
            draft = replace(draft, category=found.value)
        return [SlotSet(WORDS_SLOT, None), *read_back_complaint(dispatcher, tracker, draft, label)]


def _which_order(dispatcher: CollectingDispatcher, orders: list[Order], draft: ComplaintDraft) -> list[dict[str, Any]]:
    if not orders:
        dispatcher.utter_message(
            text="您没有可以投诉的订单：已确认、已送达或已付款，且还没有投诉过的订单才能投诉。"
            "有疑问可以直接联系供货联系人，或说“我的订单”查看。"
        )
        return [SlotSet(DRAFT_SLOT, None)]
    buttons = [button(_order_label(o), "complain", order_no=o.order_no) for o in orders]
    dispatcher.utter_message(text="要投诉哪个订单？", buttons=buttons)
    return [SlotSet(DRAFT_SLOT, draft.to_slot())]


def read_back_complaint(
    dispatcher: CollectingDispatcher, tracker: Tracker, draft: ComplaintDraft, label: str
) -> list[dict[str, Any]]:
    """Show the complaint as it will be filed, with 确认提交 / 取消."""
    photo = "\n照片：已附上" if draft.photo else "\n（可以再发一张照片作为凭证）"
    dispatcher.utter_message(
        text=f"请确认投诉：\n订单：{label}\n类别：{draft.category}\n问题：{draft.words}{photo}",
        buttons=[button("确认提交", "affirm"), button("取消", "cancel")],
    )
    pending = read_back_slot(ReadBackKind.COMPLAINT, tracker, complaint=draft.to_slot())
    return [SlotSet("pending", pending), SlotSet(DRAFT_SLOT, None)]


def apply_complaint(
    services: Any, dispatcher: CollectingDispatcher, tracker: Tracker, pending: dict[str, Any]
) -> list[dict[str, Any]]:
    """File the complaint the buyer confirmed and tell them what happens next."""
    draft = ComplaintDraft.from_slot(pending.get("complaint"))
    try:
        with transaction(services) as session:
            complaint = file_complaint(
                session, draft.order_no, who(session, tracker), draft.category, draft.words, draft.photo or None
            )
            number = complaint.complaint_no
    except ComplaintError as exc:
        dispatcher.utter_message(text=f"{exc} 投诉没有提交。")
        return [SlotSet("pending", None)]
    dispatcher.utter_message(
        text=f"投诉已提交，编号 {number}。已通知供货联系人和县市场监管，处理结果会推送给您；"
        "3天内没有处理会每天提醒处理人。"
    )
    return [SlotSet("pending", None)]


class ActionAttachPhoto(FupinAction):
    """A photo sent by a buyer: evidence for the complaint being written, or for their latest open complaint."""

    def name(self) -> str:
        return "action_attach_photo"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        photo = entity_value(tracker, "photo") or ""
        pending = tracker.get_slot("pending") or {}
        if photo and pending.get("kind") == ReadBackKind.ADOPTION.value:
            # A contact's photo (Telegram sends its caption first) for the adoption update being confirmed.
            return attach_update_photo(dispatcher, pending, photo)
        if photo and pending.get("kind") == ReadBackKind.COMPLAINT.value:
            draft = replace(ComplaintDraft.from_slot(pending.get("complaint")), photo=photo)
            dispatcher.utter_message(
                text="照片已附上。确认提交投诉请点“确认提交”。",
                buttons=[button("确认提交", "affirm"), button("取消", "cancel")],
            )
            return [SlotSet("pending", {**pending, "complaint": draft.to_slot()})]
        draft = ComplaintDraft.from_slot(tracker.get_slot(DRAFT_SLOT))
        if photo and draft != ComplaintDraft():
            dispatcher.utter_message(text="照片收到了，会附在这次投诉里。")  # the form then asks what went wrong
            return [SlotSet(DRAFT_SLOT, replace(draft, photo=photo).to_slot())]
        if photo:
            try:
                with transaction(self.services) as session:
                    found = latest_open_complaint(session, who(session, tracker))
                    number = found.complaint_no if found else None
                    if found is not None:
                        attach_photo(session, found.complaint_no, who(session, tracker), photo)
            except ComplaintError as exc:
                dispatcher.utter_message(text=str(exc))
                return []
            if number:
                dispatcher.utter_message(text=f"照片已补充到投诉 {number}。")
                return []
        dispatcher.utter_message(
            text="收到照片。要投诉产品质量，请说“我要投诉”并说明问题，照片可以在提交前发给我；其他事情请发文字消息。"
        )
        return []


_DONE = {
    ComplaintOp.TAKE: "已受理。处理好后请回复：“{no}已处理：补发10斤”或“{no}已退款50元”。",
    ComplaintOp.ANSWER: "已把处理结果告诉采购方：{note}。等采购方确认。",
    ComplaintOp.SETTLE: "已确认问题解决，投诉已结案。谢谢您对消费扶贫的支持！",
    ComplaintOp.ESCALATE: "已升级到县市场监管，会有人与您联系。",
    ComplaintOp.CLOSE: "已结案。结论：{note}",
}


class ActionManageComplaint(FupinAction):
    """Take up, answer, settle, escalate or close a complaint, by button or by message."""

    def name(self) -> str:
        return "action_manage_complaint"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        typed = text_of(tracker)
        number = entity_value(tracker, "complaint_no") or complaint_no_in(typed)
        op_value = entity_value(tracker, "op")
        op = ComplaintOp(op_value) if op_value in {o.value for o in ComplaintOp} else complaint_op_in(typed)
        if not number or op is None:
            dispatcher.utter_message(
                text="请带上投诉编号和处理结果，比如“TS261204K7QM已处理：补发10斤”；采购方确认请说“TS261204K7QM解决了”。"
            )
            return []
        note = "" if typed.startswith("/") else note_in(typed)
        try:
            with transaction(self.services) as session:
                done, complaint = act_on(session, number, who(session, tracker), op, note)
                number, status = complaint.complaint_no, complaint.status
        except ComplaintError as exc:
            dispatcher.utter_message(text=str(exc))
            return []
        said = _DONE[done].format(no=number, note=note)
        dispatcher.utter_message(text=f"投诉 {number} {said}（现在：{status}）")
        return []
