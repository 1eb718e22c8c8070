"""A Rasa server reached over HTTP instead of the agent in process."""

from __future__ import annotations

import logging

from bot.dialogue.assistant import Reply, to_replies

logger = logging.getLogger(__name__)


class RemoteAssistant:
    """A Rasa server reached through its REST channel (`rasa run --enable-api` with `rest:` credentials)."""

    def __init__(self, server_url: str, timeout: float = 30.0) -> None:
        import httpx

        self._client = httpx.AsyncClient(base_url=server_url.rstrip("/"), timeout=timeout)

    async def reply(self, sender_id: str, text: str) -> list[Reply]:
        """The server's replies to one message from a sender."""
        response = await self._client.post("/webhooks/rest/webhook", json={"sender": sender_id, "message": text})
        response.raise_for_status()
        return to_replies(response.json())

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()
