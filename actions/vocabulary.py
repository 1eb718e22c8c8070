"""County admins keep the product vocabulary by chat: 把奇异果设为猕猴桃的别名, 删除别名奇异果, 把红心猕猴桃并入猕猴桃."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import FupinAction, Services, button, text_of, transaction, who
from actions.readback import ReadBackKind, read_back_slot
from fupin.catalog import vocabulary_requests
from fupin.catalog.vocabulary import VocabularyError, check_may_edit
from fupin.catalog.vocabulary_requests import Outcome, Preview, RequestKind, VocabularyRequest

logger = logging.getLogger(__name__)


def _variety(variety: str) -> str:
    return f"，品种“{variety}”" if variety else ""


def read_back_text(preview: Preview) -> str:
    """What a vocabulary change will do, said before it is confirmed."""
    name, product = preview.name, preview.product
    if preview.request.kind is RequestKind.ADD_ALIAS:
        return f"将把“{name}”设为“{product}”的别名：以后搜索、下单、更新库存时说“{name}”就是“{product}”。"
    if preview.request.kind is RequestKind.REMOVE_ALIAS:
        return f"将删除“{product}”的别名“{name}”：以后“{name}”不再当作“{product}”。"
    return (
        f"将把“{name}”合并到“{product}”{_variety(preview.variety)}：“{name}”的目录{preview.listings}条"
        f"（连同订单{preview.orders}个）和销售记录都转到“{product}”，“{name}”以后作为“{product}”的别名；"
        "附件2、附件3的数量和金额不变。"
    )


def outcome_text(outcome: Outcome) -> str:
    """What a vocabulary change did, said after it."""
    name, product, merged = outcome.name, outcome.product, outcome.merged
    if outcome.request.kind is RequestKind.ADD_ALIAS:
        return f"已把“{name}”设为“{product}”的别名，现在说“{name}”就能找到“{product}”。"
    if outcome.request.kind is RequestKind.REMOVE_ALIAS:
        return f"已删除“{product}”的别名“{name}”。"
    assert merged is not None
    return (
        f"已把“{name}”合并到“{product}”{_variety(merged.variety)}：转过去目录{merged.listings}条、"
        f"订单{merged.orders}个、销售记录{merged.sale_records}条；“{name}”已设为“{product}”的别名。"
    )


def read_back_vocabulary(
    services: Services, dispatcher: CollectingDispatcher, tracker: Tracker, request: VocabularyRequest
) -> list[dict[str, Any]]:
    """Say what will change and ask for confirmation, keeping the change pending; a refusal drops it."""
    try:
        with services.sessions() as session:
            preview = vocabulary_requests.preview(session, who(session, tracker), request)
    except VocabularyError as exc:
        dispatcher.utter_message(text=str(exc))
        return [SlotSet("pending", None)]
    buttons = [button("确认修改", "affirm"), button("不改了", "deny")]
    dispatcher.utter_message(text=f"{read_back_text(preview)}\n确认吗？", buttons=buttons)
    return [SlotSet("pending", read_back_slot(ReadBackKind.VOCABULARY, tracker, request=request.to_slot()))]


def apply_vocabulary(
    services: Services, dispatcher: CollectingDispatcher, tracker: Tracker, pending: dict[str, Any]
) -> list[dict[str, Any]]:
    """Make the confirmed change and say what it changed; the NLU and search see the new names at once."""
    request = VocabularyRequest.from_slot(pending["request"])
    try:
        with transaction(services) as session:
            outcome = vocabulary_requests.apply(session, who(session, tracker), request)
    except VocabularyError as exc:
        dispatcher.utter_message(text=str(exc))
        return [SlotSet("pending", None)]
    # One names cache serves search and the NLU's catalogue matcher: no retraining, no wait for its refresh.
    services.search.names.refresh()
    dispatcher.utter_message(text=outcome_text(outcome))
    return [SlotSet("pending", None)]


class ActionManageVocabulary(FupinAction):
    """Read an admin's vocabulary change (alias added or removed, products merged) back for confirmation."""

    def name(self) -> str:
        return "action_manage_vocabulary"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        try:
            with self.services.sessions() as session:
                check_may_edit(who(session, tracker))
        except VocabularyError as exc:
            dispatcher.utter_message(text=str(exc))
            return []
        request = vocabulary_requests.parse_request(text_of(tracker))
        if request is None:
            dispatcher.utter_message(response="utter_vocabulary_how")
            return []
        return read_back_vocabulary(self.services, dispatcher, tracker, request)
