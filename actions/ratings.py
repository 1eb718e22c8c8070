"""A buyer rates a delivered order: the star buttons under its delivery push, or 给订单XF…打5星，土豆很新鲜."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import FupinAction, entity_value, text_of, transaction, who
from fupin.models import utcnow
from fupin.orders.ratings import RATING_CHANGE_DAYS, RatingError, rate_order, stars_in, stars_text, words_in

logger = logging.getLogger(__name__)


class ActionRateOrder(FupinAction):
    """Record or change the stars a buyer gives a delivered order, and thank them."""

    def name(self) -> str:
        return "action_rate_order"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        order_no = entity_value(tracker, "order_no")
        given = entity_value(tracker, "stars")
        stars = int(given) if given and given.isdigit() else stars_in(text_of(tracker))
        if not order_no or stars is None:
            dispatcher.utter_message(response="utter_rate_how")
            return []
        typed = text_of(tracker)
        words = "" if typed.startswith("/") else words_in(typed)  # a star button carries no words
        try:
            with transaction(self.services) as session:
                rated = rate_order(session, order_no, stars, who(session, tracker), utcnow(), words)
        except RatingError as exc:
            dispatcher.utter_message(text=str(exc))
            return []
        done = "评价已改为" if rated.changed else "谢谢您的评价："
        said = f"，“{rated.words}”已转告供货方" if words else ""
        hint = "" if rated.words else f"想说几句的话，可以说“给订单{rated.order_no}打{rated.stars}星，土豆很新鲜”。"
        dispatcher.utter_message(
            text=f"订单 {rated.order_no} {done}{stars_text(rated.stars)}（{rated.stars}星）{said}。"
            f"{RATING_CHANGE_DAYS}天内可以重新打分修改。{hint}"
        )
        return []
