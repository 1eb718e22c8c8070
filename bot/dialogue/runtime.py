"""The dialogue a front-end talks to, started from the settings with what it needs."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from bot.dialogue.assistant import Assistant, Dialogue, model_path
from bot.dialogue.remote import RemoteAssistant
from bot.dialogue.stores import lock_store_for, tracker_store_for
from fupin.db import make_engine, make_session_factory
from fupin.orders.rules import OrderRules
from fupin.settings import Settings

if TYPE_CHECKING:
    from actions.common import Services

logger = logging.getLogger(__name__)


def action_endpoint_for(settings: Settings, services: Services) -> Any:
    """The custom actions in this process, or the separately started action server ACTION_ENDPOINT_URL names."""
    from bot.dialogue.endpoint import InProcessEndpoint, pooled_endpoint

    if settings.action_endpoint_url:
        return pooled_endpoint(settings.action_endpoint_url, settings.action_server_token)
    from bot.dialogue.actions import build_executor

    return InProcessEndpoint(build_executor(services))


class DialogueRuntime:
    """The dialogue a front-end talks to, with what it holds open (the actions' database engine)."""

    def __init__(self, dialogue: Dialogue, engine: Engine | None = None) -> None:
        self.dialogue = dialogue
        self._engine = engine

    @classmethod
    def start(cls, settings: Settings) -> DialogueRuntime:
        """Load the agent with the actions' services built from the settings (or reach a Rasa server)."""
        if settings.rasa_server_url:
            return cls(RemoteAssistant(settings.rasa_server_url))
        from actions.common import make_services

        engine = make_engine(settings.database_url)
        try:
            services = make_services(
                make_session_factory(engine),
                OrderRules.from_settings(settings),
                settings.report_grace_days,
                settings.union_budget_per_member_fen,
            )
            assistant = Assistant.load(
                model_path(settings),
                action_endpoint_for(settings, services),
                tracker_store_for(settings),
                lock_store_for(settings),
                catalog_names=services.search.names,
                parse_cache_size=settings.parse_cache_size,
            )
        except BaseException:
            engine.dispose()
            raise
        return cls(assistant, engine)

    async def close(self) -> None:
        """Release what `start` opened."""
        if isinstance(self.dialogue, (Assistant, RemoteAssistant)):
            await self.dialogue.close()
        if self._engine is not None:
            self._engine.dispose()
