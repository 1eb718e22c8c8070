"""The dialogue engine as the front-ends use it: replies, and the Rasa agent loaded in process."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.exc import SQLAlchemyError

from bot.dialogue.parse_cache import CACHED_PARSES, ParseCache
from fupin.catalog.search import CatalogNames
from fupin.settings import Settings

logger = logging.getLogger(__name__)

MODEL_FILE = "fupin.tar.gz"


@dataclass(frozen=True)
class Reply:
    """One bot message: text, buttons (title, payload), and whether to offer sharing the phone number."""

    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    request_contact: bool = False


def to_replies(messages: list[dict[str, Any]] | None) -> list[Reply]:
    """Rasa's bot messages as replies; a custom `request_contact` marks the message before it."""
    replies: list[Reply] = []
    for message in messages or []:
        custom = message.get("custom") or {}
        buttons = [(b["title"], b["payload"]) for b in message.get("buttons") or []]
        text = message.get("text") or ""
        if text or buttons:
            replies.append(Reply(text, buttons, bool(custom.get("request_contact"))))
        elif custom.get("request_contact") and replies:
            # Rasa sends a response's text and its custom part as two messages.
            last = replies[-1]
            replies[-1] = Reply(last.text, last.buttons, True)
    return replies


def model_path(settings: Settings) -> Path:
    """Where `make train` leaves the model."""
    return settings.model_dir / MODEL_FILE


class Dialogue(Protocol):
    """What a front-end needs of the dialogue engine."""

    async def reply(self, sender_id: str, text: str) -> list[Reply]:
        """The bot's replies to one message (or button payload) from a sender."""


class Assistant:
    """The Rasa agent, loaded once, answering one user message at a time."""

    def __init__(
        self,
        agent: Any,
        endpoint: Any = None,
        catalog_names: CatalogNames | None = None,
        parse_cache_size: int = CACHED_PARSES,
    ) -> None:
        self._agent = agent
        self._endpoint = endpoint
        # Parses of repeated texts are kept only when the catalogue's names (which the NLU reads) are known.
        self._names = catalog_names
        self._parses = ParseCache(parse_cache_size)

    @classmethod
    def load(
        cls,
        model: Path,
        endpoint: Any,
        tracker_store: Any = None,
        lock_store: Any = None,
        catalog_names: CatalogNames | None = None,
        parse_cache_size: int = CACHED_PARSES,
    ) -> Assistant:
        """Load a trained model (slow: tens of seconds) with its action endpoint and the catalogue's names."""
        from rasa.core.agent import Agent

        from bot.dialogue import rasa_patches
        from nlu.catalog_matcher import CatalogMatcher

        if not model.is_file():
            raise FileNotFoundError(f"no trained model at {model}: run `make train`")
        rasa_patches.apply()
        agent = Agent.load(str(model), action_endpoint=endpoint, tracker_store=tracker_store, lock_store=lock_store)
        if catalog_names is not None:
            for matcher in rasa_patches.components_of(agent, CatalogMatcher):
                matcher.use(catalog_names)
        return cls(agent, endpoint, catalog_names, parse_cache_size)

    async def close(self) -> None:
        """Close the connections to the action server (if any)."""
        logger.info(
            "parse cache: %d hits, %d misses, %d texts kept", self._parses.hits, self._parses.misses, len(self._parses)
        )
        if self._endpoint is not None:
            await self._endpoint.close()

    async def reply(self, sender_id: str, text: str) -> list[Reply]:
        """The bot's replies to one message (or button payload) from a sender."""
        from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

        parse_data = self.payload_parse(text) or await self.text_parse(text)
        message = UserMessage(text, CollectingOutputChannel(), sender_id, parse_data=parse_data)
        return to_replies(await self._agent.handle_message(message))

    async def text_parse(self, text: str) -> dict[str, Any] | None:
        """The NLU's parse of a text, kept for the next time the same text comes under the same names.

        None (Rasa then parses the text itself) when the catalogue's names are not known or cannot be read.
        """
        if self._names is None:
            return None
        try:
            version = self._names.current_version()
        except SQLAlchemyError:
            logger.warning("catalogue names unavailable: the text is parsed afresh and not kept", exc_info=True)
            return None
        kept = self._parses.get(version, text)
        if kept is not None:
            return kept
        parse = await self.parse(text)
        # Kept only if the matcher read these names: not if they changed meanwhile or a re-read failed.
        if self._names.version == version and self._names.is_fresh():
            self._parses.put(version, text, parse)
        return parse

    def payload_parse(self, text: str) -> dict[str, Any] | None:
        """What the NLU would make of a button payload of this domain, else None (bot/dialogue/payload.py)."""
        from bot.dialogue.payload import payload_parse

        return payload_parse(text, self._agent.domain)

    async def parse(self, text: str) -> dict[str, Any]:
        """NLU only: intent and entities of a text."""
        return dict(await self._agent.parse_message(text))
