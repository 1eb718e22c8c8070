"""The order form's questions, and the rule that no question is asked a third time in a row."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import FupinAction, button

logger = logging.getLogger(__name__)

# After this many asks of the same question in a row, the next one is rephrased with examples.
PLAIN_ASKS = 2
# What the form's answers are called when the bot says it kept one (in the order they are asked).
SLOT_LABELS = {"quantity": "数量", "org": "采购单位", "phone": "联系电话", "supply_method": "供货方式"}


def _value_before(events: list[dict[str, Any]], slot: str) -> Any:
    for event in reversed(events):
        if event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


def kept_answers(tracker: Tracker) -> list[str]:
    """What the latest message filled besides the question asked before it: "采购单位县第一中学食堂".

    When a buyer answers another question than the one asked (the unit while asked which place), the form
    keeps it and asks its question again; saying what it kept is what tells them the answer was not refused.
    """
    events = list(tracker.events)
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=None)
    if last_user is None:
        return []
    before, after = events[:last_user], events[last_user + 1 :]
    answered = _value_before(before, "requested_slot")
    if answered in (None, ""):
        return []  # the message that started the form: everything it gave is the order's own
    if _value_before(after, answered) not in (None, ""):
        return []  # the question was answered: the next question shows it was taken, whatever came with it
    kept = []
    for slot, label in SLOT_LABELS.items():
        value = _value_before(after, slot)
        if value not in (None, "") and value != _value_before(before, slot):
            kept.append(f"{label}{value}")
    return kept


def ask_count(tracker: Tracker, slot: str) -> tuple[int, list[dict[str, Any]]]:
    """How many times in a row this question is now being asked, and the event that remembers it."""
    asked = tracker.get_slot("asked") or {}
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    # "重新说" (help) starts the question afresh.
    times = int(asked.get("times", 0)) + 1 if asked.get("slot") == slot and intent != "help" else 1
    return times, [SlotSet("asked", {"slot": slot, "times": times})]


def rephrase(times: int) -> bool:
    """True when this ask must not be the plain question (the third, fifth… in a row)."""
    return times > PLAIN_ASKS and (times - PLAIN_ASKS) % 2 == 1


def ask(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str) -> tuple[bool, list[dict[str, Any]]]:
    """Count this ask; when it must be rephrased, say the rephrased question (with 取消 / 重新说) and return True."""
    times, events = ask_count(tracker, slot)
    if kept := kept_answers(tracker):
        dispatcher.utter_message(text=f"好的，已记下{'、'.join(kept)}。")
    if rephrase(times):
        dispatcher.utter_message(response=f"utter_ask_{slot}_again")
    return rephrase(times), events


class ActionAskProduct(FupinAction):
    """Ask what to buy."""

    def name(self) -> str:
        return "action_ask_product"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        rephrased, events = ask(dispatcher, tracker, "product")
        if not rephrased:
            dispatcher.utter_message(response="utter_ask_product")
        return events


class ActionAskOrg(FupinAction):
    """Ask which unit buys; a returning buyer is offered their unit and phone of last time."""

    def name(self) -> str:
        return "action_ask_org"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        rephrased, events = ask(dispatcher, tracker, "org")
        remembered = tracker.get_slot("known_buyer")
        if rephrased:
            return events
        if remembered:
            dispatcher.utter_message(
                text=f"还是{remembered['org']}、{remembered['phone']}吗？",
                buttons=[button("是", "affirm"), button("不是", "deny")],
            )
        else:
            dispatcher.utter_message(response="utter_ask_org")
        return events


class ActionAskPhone(FupinAction):
    """Ask for a phone number (Telegram offers to share it)."""

    def name(self) -> str:
        return "action_ask_phone"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        rephrased, events = ask(dispatcher, tracker, "phone")
        if not rephrased:
            dispatcher.utter_message(response="utter_ask_phone")
        return events
