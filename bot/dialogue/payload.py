"""Button payloads (`/intent{...}`) parsed as the NLU would, without running its models."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def payload_parse(text: str, domain: Any) -> dict[str, Any] | None:
    """What the NLU would make of a button payload (`/intent{...}` naming a domain intent), else None.

    The NLU pipeline runs its models on a payload too, and only its last step replaces their guess by the
    payload's intent and entities: half of a button turn's time. The same step (Rasa's own unpacking of
    the payload) gives the same parse without them; any other text goes to the NLU.
    """
    if not text.startswith("/"):
        return None
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.constants import INTENT, TEXT
    from rasa.shared.nlu.training_data.message import Message

    message = YAMLStoryReader.unpack_regex_message(
        Message({TEXT: text}), domain, entity_extractor_name="RegexMessageHandler"
    )
    if not message.get(INTENT):
        return None  # not a payload of this domain: the NLU reads it as text
    return dict(message.as_dict(only_output_properties=True))
