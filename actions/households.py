"""Admins ask what poor households gained (见成效): 张家村今年哪些贫困户卖出了产品, 全县有多少贫困户受益."""

from __future__ import annotations

import abc
import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import FupinAction, entity_value, text_of, who
from fupin.periods import YEARS, Period, parse_period, today
from fupin.places import Gazetteer, Place
from fupin.reporting.household_answers import beneficiaries_answer, household_sales_answer
from fupin.reporting.households import HouseholdReport, household_report

logger = logging.getLogger(__name__)


class PlaceUnclear(Exception):
    """The place asked about is unknown or ambiguous; the message says so in Chinese."""


def asked_place(gazetteer: Gazetteer, written: str | None, text: str) -> Place | None:
    """The place the message asks about (the location entity, else a place named in the text); None: the county."""
    if written:
        found = gazetteer.find(written)
        if not found:
            raise PlaceUnclear(f"没有找到“{written}”这个乡镇或村，请说全称，比如“龙角镇张家村”。")
        if len({(p.township.id, p.village.id if p.village else None) for p in found}) > 1:
            names = "、".join(p.label for p in found[:5])
            raise PlaceUnclear(f"“{written}”可能是：{names}，请说明是哪个乡镇的。")
        return found[0]
    mentioned = gazetteer.mentions(text)
    return mentioned[0] if mentioned else None


def asked_period(text: str) -> Period:
    """The period the message names (今年, 这个季度, 2019年第3季度, 2019年), this year when none."""
    on = today()
    period = parse_period(text, on)
    if period is None and (match := re.search(r"(\d{4})年", text)) and int(match[1]) in YEARS:
        period = Period(int(match[1]))
    return period or Period(on.year)


class HouseholdAction(FupinAction):
    """The report of the place and period asked about, for admins only (poverty status is sensitive)."""

    @abc.abstractmethod
    def answer(self, report: HouseholdReport, township: str | None) -> str:
        """The reply built from the report."""

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        text = text_of(tracker)
        period = asked_period(text)
        with self.services.sessions() as session:
            if not who(session, tracker).is_admin:
                dispatcher.utter_message(response="utter_households_admin_only")
                return []
            gazetteer = self.services.search.names.get(session)[1]
            try:
                place = asked_place(gazetteer, entity_value(tracker, "location"), text)
            except PlaceUnclear as exc:
                dispatcher.utter_message(text=str(exc))
                return []
            report = household_report(
                session,
                period,
                place.township.id if place else None,
                place.village.id if place and place.village else None,
            )
        dispatcher.utter_message(text=self.answer(report, place.township.name if place else None))
        return []


class ActionHouseholdSales(HouseholdAction):
    """Which poor households (cooperatives) of a place sold in the period, with amounts (at most 20 named)."""

    def name(self) -> str:
        return "action_household_sales"

    def answer(self, report: HouseholdReport, township: str | None) -> str:
        return household_sales_answer(report, township)


class ActionBeneficiaries(HouseholdAction):
    """How many poor households gained in the period, against the catalogue, and the deep-poverty part."""

    def name(self) -> str:
        return "action_beneficiaries"

    def answer(self, report: HouseholdReport, township: str | None) -> str:
        return beneficiaries_answer(report, township)
