"""The union rows of the permission table: a fresh union whose contact is the table's buyer, asked by chat."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from actions.common import Services
from actions.unions import ActionSetUnionMembers, ActionUnionBudget
from fupin.catalog.search import CatalogSearch
from fupin.models import Buyer, UnionMembers, User
from fupin.outreach.users import split_sender
from fupin.periods import today
from fupin.values import BuyerCategory


def union_operation(which: str, contact: str) -> Callable[[Any, str, Path], bool]:
    """ "see" its budget or "set" its member count, as `sender`, of a new union whose contact is `contact`."""

    def operation(world: Any, sender: str, tmp_path: Path) -> bool:
        name = f"权限测试{uuid.uuid4().hex[:6]}工会"
        with world.sessions() as session, session.begin():
            union = Buyer(name=name, category=BuyerCategory.FAMILY.value)
            session.add(union)
            session.flush()
            channel, external = split_sender(contact)
            user = session.scalars(select(User).where(User.channel == channel, User.external_id == external)).one()
            user.buyer_id = union.id
            union_id = union.id
        action = ActionUnionBudget if which == "see" else ActionSetUnionMembers
        text = f"{name}还剩多少额度" if which == "see" else f"{name}有50名会员"
        message = {"text": text, "entities": [{"entity": "org", "value": name}], "intent": {}}
        tracker = Tracker(sender, {}, message, [], False, None, {}, "")
        dispatcher = CollectingDispatcher()
        services = Services(sessions=world.sessions, search=CatalogSearch(world.sessions))
        asyncio.run(action(services).run(dispatcher, tracker, {}))
        (said,) = dispatcher.messages
        reply = str(said["text"])
        with world.sessions() as session:
            rows = session.scalar(select(func.count(UnionMembers.id)).where(UnionMembers.buyer_id == union_id))
        if which == "see":
            allowed = reply.startswith(f"{name}{today().year}年消费扶贫额度")
            assert allowed or reply == f"只有{name}的联系人和县里的管理员可以查看它的额度。", reply
        else:
            allowed = reply.startswith(f"已登记：{name}会员50人")
            assert allowed or "已有登记的联系人" in reply, reply
            assert rows == (1 if allowed else 0)  # a refusal records nothing
        return allowed

    return operation
