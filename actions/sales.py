"""Sales reported by supply contacts, and progress figures against the plan's targets."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import FupinAction, button, entity, entity_value, text_of, who
from actions.readback import ReadBackKind, read_back_slot
from fupin.parsing import parse_quantity
from fupin.periods import parse_period, quarter_of, today
from fupin.reporting.sales import SaleDraft, SaleError, draft_sale, percent, progress, wan
from fupin.values import Channel

logger = logging.getLogger(__name__)

_DAYS_AGO = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}


def read_back_sale(dispatcher: CollectingDispatcher, tracker: Tracker, draft: SaleDraft) -> list[dict[str, Any]]:
    """Say what sale will be recorded and ask for confirmation; keeps it pending."""
    data = {
        "buyer_name": draft.buyer_name,
        "product": draft.product,
        "quantity": str(draft.quantity),
        "amount_fen": draft.amount_fen,
        "sold_on": draft.sold_on.isoformat(),
        "listing_id": draft.listing_id,
    }
    buttons = [button("确认登记", "affirm"), button("不登记", "deny")]
    dispatcher.utter_message(text=f"将登记销售：{draft.describe()}\n确认吗？", buttons=buttons)
    return [SlotSet("pending", read_back_slot(ReadBackKind.SALE, tracker, draft=data))]


class ActionReportSale(FupinAction):
    """Read back a sale a contact reports (今天卖给县医院食堂50斤土豆，一共150元) before recording it."""

    def name(self) -> str:
        return "action_report_sale"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        text = text_of(tracker)
        quantity_value = entity_value(tracker, "quantity")
        price = (entity(tracker, "price") or {}).get("additional_info") or {}
        days = next((n for word, n in _DAYS_AGO.items() if word in text), 0)
        try:
            with self.services.sessions() as session:
                draft = draft_sale(
                    session,
                    who(session, tracker),
                    buyer_name=entity_value(tracker, "org"),
                    product=entity_value(tracker, "product"),
                    quantity=parse_quantity(quantity_value) if quantity_value else None,
                    amount_fen=price.get("fen") if price and price.get("unit") is None else None,
                    unit_price_fen=price.get("fen") if price and price.get("unit") else None,
                    sold_on=today() - timedelta(days=days),
                    names=self.services.search.names,
                    grace_days=self.services.report_grace_days,
                )
        except SaleError as exc:
            dispatcher.utter_message(text=str(exc))
            return [SlotSet("pending", None)]
        return read_back_sale(dispatcher, tracker, draft)


class ActionSalesSummary(FupinAction):
    """Figures for the quarter or year, by channel and township, against the plan's targets."""

    def name(self) -> str:
        return "action_sales_summary"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        text = text_of(tracker)
        period = parse_period(text) or quarter_of(today())
        with self.services.sessions() as session:
            identity = who(session, tracker)
            if not (identity.is_admin or identity.is_contact):
                dispatcher.utter_message(text="销售进度只对县里的管理员和各乡镇（村）供货联系人开放。")
                return []
            township_id, scope = None, "全县"
            place = entity_value(tracker, "location")
            gazetteer = self.services.search.names.get(session)[1]
            found = gazetteer.find(place) if place else []
            if found:
                township_id, scope = found[0].township.id, found[0].township.name
            elif not place and identity.is_contact and identity.township_id is not None:
                township_id = identity.township_id
                scope = gazetteer.township_by_id[township_id].name
            figures = progress(session, period, township_id)
        lines = [f"{period.label}{scope}消费扶贫销售：{wan(figures.total_fen)}"]
        if township_id is None:
            lines[0] += f"，目标{wan(figures.target_fen)}，完成{percent(figures.total_fen, figures.target_fen)}"
            lines.append(
                f"深度贫困镇村：{wan(figures.deep_fen)}，目标{wan(figures.deep_target_fen)}，"
                f"完成{percent(figures.deep_fen, figures.deep_target_fen)}"
            )
        asked = [
            c for c in Channel if c.value in text or (c is Channel.ECOMMERCE and re.search("网上|线上|网店", text))
        ]
        for channel in asked or list(Channel):
            amount, target = figures.by_channel[channel], figures.channel_target_fen(channel)
            share = f"，目标{wan(target)}，完成{percent(amount, target)}" if township_id is None else ""
            lines.append(f"· {channel.value}：{wan(amount)}{share}")
        if township_id is None and figures.by_township and not asked:
            top = "、".join(f"{name}{wan(fen)}" for name, fen in list(figures.by_township.items())[:5])
            lines.append(f"销售额前几位的乡镇：{top}")
        if period.quarter is not None:
            lines.append("（季度目标按年度目标的四分之一计）")
        dispatcher.utter_message(text="\n".join(lines))
        return []
