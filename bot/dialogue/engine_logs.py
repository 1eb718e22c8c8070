"""Logging of the dialogue engine's libraries (Rasa's structlog, jieba), set by the entry points that start it."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def follow_root_logging() -> None:
    """Make Rasa's structured logs follow the root logger (level and handlers) and quieten jieba."""
    # Imported here like the rest of Rasa in bot.dialogue: commands that never start the engine do not load it.
    import jieba
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.getLogger().level)
    jieba.setLogLevel(logging.WARNING)
