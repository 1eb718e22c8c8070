"""The error answer of the Bot API, as every part of the fake raises it."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters
