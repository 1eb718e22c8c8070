"""Unions (工会) by chat: 我们工会还剩多少额度 (spent, budget, remaining) and 我们工会有120名会员 (the member count)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import FupinAction, entity_value, text_of, transaction, who
from fupin.periods import today
from fupin.unions.budget import union_budget
from fupin.unions.members import UnionError, member_count_in, register_by_chat, resolve_union, speaks_for
from fupin.unions.wording import budget_reply, members_reply

logger = logging.getLogger(__name__)


class ActionUnionBudget(FupinAction):
    """A union's contact asks how much of this year's budget is spent and left; anyone else is told who has one."""

    def name(self) -> str:
        return "action_union_budget"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        try:
            with self.services.sessions() as session:
                identity = who(session, tracker)
                union = resolve_union(session, identity, entity_value(tracker, "org"))
                if not speaks_for(session, identity, union):
                    raise UnionError(f"只有{union.name}的联系人和县里的管理员可以查看它的额度。")
                reply = budget_reply(
                    union_budget(session, union.id, today().year, per_member=self.services.union_per_member_fen)
                )
        except UnionError as exc:
            dispatcher.utter_message(text=str(exc))
            return []
        dispatcher.utter_message(text=reply)
        return []


class ActionSetUnionMembers(FupinAction):
    """A union's contact registers its member count (a new record each time; the latest counts for the budget)."""

    def name(self) -> str:
        return "action_set_union_members"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        # The sentence itself first: the rule reads 一百二十名 exactly, a model's span may be short of a digit.
        count = member_count_in(text_of(tracker))
        members: object = count if count is not None else entity_value(tracker, "members")
        if members is None:
            dispatcher.utter_message(response="utter_union_members_how")
            return []
        try:
            with transaction(self.services) as session:
                done = register_by_chat(session, who(session, tracker), entity_value(tracker, "org"), members)
                reply = members_reply(
                    union_budget(session, done.union.id, today().year, per_member=self.services.union_per_member_fen),
                    done.previous,
                )
        except UnionError as exc:
            dispatcher.utter_message(text=str(exc))
            return []
        dispatcher.utter_message(text=reply)
        return []
