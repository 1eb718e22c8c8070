"""The NLU's parses of exact texts, kept per process for one model and one version of the catalogue's names.

Much of a chat repeats exactly ("我的订单", "确认", "好的", "10斤", a unit's name): the NLU (jieba, the
featurisers, DIET, the catalogue matcher) gives the same parse for the same text as long as the model and
the catalogue's names are the same, since no component reads anything else (not the conversation, not the
clock). So a parse is kept under (names version, text) and handed to Rasa as the message's parse data, as
the button payloads' are (bot/dialogue/payload.py). A parse made while the names could not be read (the
matcher then keeps DIET's entities alone) is not kept.
"""

from __future__ import annotations

import copy
import logging
from collections import OrderedDict
from typing import Any

from fupin.settings import Settings

logger = logging.getLogger(__name__)

CACHED_PARSES = Settings.parse_cache_size  # texts kept, least recently used dropped first (PARSE_CACHE_SIZE)
LONGEST_TEXT = 80  # longer texts hardly repeat: not kept


class ParseCache:
    """Parses by (names version, text), least recently used dropped first; each handed out as a copy."""

    def __init__(self, size: int = CACHED_PARSES) -> None:
        self._size = size
        self._parses: OrderedDict[tuple[int, str], dict[str, Any]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, version: int, text: str) -> dict[str, Any] | None:
        """A copy of the parse kept for this text under this version of the names, or None."""
        parse = self._parses.get((version, text))
        if parse is None:
            self.misses += 1
            return None
        self.hits += 1
        self._parses.move_to_end((version, text))
        # Rasa keeps the parse in the conversation and may change it: the kept one stays untouched.
        return copy.deepcopy(parse)

    def put(self, version: int, text: str, parse: dict[str, Any]) -> None:
        """Keep a copy of a parse (short texts only)."""
        if len(text) > LONGEST_TEXT or self._size <= 0:
            return
        self._parses[(version, text)] = copy.deepcopy(parse)
        self._parses.move_to_end((version, text))
        while len(self._parses) > self._size:
            self._parses.popitem(last=False)

    def __len__(self) -> int:
        return len(self._parses)
