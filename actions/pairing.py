"""百企帮百村 by chat: a county admin pairs a firm with a village (把云阳某某公司和龙角镇张家村结成帮扶对子)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import FupinAction, entity_value, text_of, transaction, who
from fupin.pairing.chat import pair_by_chat, pairing_reply, pairing_request_in
from fupin.pairing.register import PairingError
from fupin.periods import today

logger = logging.getLogger(__name__)


class ActionSetPairing(FupinAction):
    """An admin registers a pairing; the firm and village come from the sentence first, then the entities."""

    def name(self) -> str:
        return "action_set_pairing"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        # The sentence first: 把A和B结成对子 names both ends exactly, a model's span may cut a firm's name short.
        request = pairing_request_in(text_of(tracker))
        firm = request.firm if request else entity_value(tracker, "org")
        village = request.village if request else entity_value(tracker, "location")
        try:
            with transaction(self.services) as session:
                identity = who(session, tracker)
                if not (firm and village) and identity.is_admin:
                    dispatcher.utter_message(response="utter_pairing_how")
                    return []
                reply = pairing_reply(pair_by_chat(session, identity, firm or "", village or "", today()))
        except PairingError as exc:
            dispatcher.utter_message(text=str(exc))
            return []
        dispatcher.utter_message(text=reply)
        return []
