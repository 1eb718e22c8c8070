"""A supply contact's stock history by message: 土豆的库存记录, 龙角镇土豆库存变动, 看看蜂蜜的出入库记录."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import FupinAction, entity_value, who
from fupin.catalog.stock import StockError
from fupin.catalog.stock_history import history_reply

logger = logging.getLogger(__name__)


class ActionStockHistory(FupinAction):
    """Show the recent stock moves, with running balances, of the listings of a product this person manages."""

    def name(self) -> str:
        return "action_stock_history"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        product = entity_value(tracker, "product")
        if not product:
            dispatcher.utter_message(response="utter_stock_history_which")
            return []
        try:
            with self.services.sessions() as session:
                answer = history_reply(
                    session,
                    who(session, tracker),
                    product,
                    entity_value(tracker, "location"),
                    names=self.services.search.names,
                )
        except StockError as exc:
            dispatcher.utter_message(text=str(exc))
            return []
        dispatcher.utter_message(text=answer)
        return []
