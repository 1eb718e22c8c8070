"""Leaving the order form: which slots an order in progress holds, and whether the form was just stopped."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.choices import CHOICE_SLOT

# What an order in progress holds; the unit and phone stay (the same canteen usually orders again).
ORDER_SLOTS = ("listing_id", "quantity", "supply_method", "requested_slot", "asked")


def stopped_form(tracker: Tracker) -> bool:
    """True when the action before this one stopped the order form (a rule for cancel, 不要了 or a search)."""
    executed = [e.get("name") for e in tracker.events if e.get("event") == "action"]
    return bool(executed) and executed[-1] == "action_deactivate_loop"


def forget_order() -> list[dict[str, Any]]:
    """Events that drop the order in progress and anything waiting for confirmation or a pick."""
    return [SlotSet(slot, None) for slot in ORDER_SLOTS] + [SlotSet("pending", None), SlotSet(CHOICE_SLOT, None)]
