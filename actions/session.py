"""A new conversation session: only the buyer's own details (unit, phone) carry over, to be offered back."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import UsesServices

logger = logging.getLogger(__name__)


def known_buyer(tracker: Tracker) -> dict[str, str] | None:
    """The unit and phone of the buyer's last session, when both are known."""
    org, phone = tracker.get_slot("org"), tracker.get_slot("phone")
    if org and phone:
        return {"org": str(org), "phone": str(phone)}
    earlier = tracker.get_slot("known_buyer")
    return dict(earlier) if earlier else None


class ActionSessionStart(UsesServices, Action):
    """Start a session with no slots but the buyer's remembered unit and phone (the order form asks to reuse them)."""

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        """A fresh session; what a search or an order left behind stays in the old one."""
        events: list[dict[str, Any]] = [SessionStarted()]
        remembered = known_buyer(tracker)
        if remembered:
            events.append(SlotSet("known_buyer", remembered))
        events.append(ActionExecuted("action_listen"))
        return events
