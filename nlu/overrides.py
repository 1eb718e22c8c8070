"""Changing a parse's intent by rule: the ranking re-ordered and the reason kept in the parse.

The rule components (bare answer, reference, negation guards) decide an intent the model may have got wrong;
each calls `override` with what it decided and why, so the parse shows both.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message

logger = logging.getLogger(__name__)


def override(message: Message, name: str, confidence: float, key: str, details: dict[str, Any], certain: bool) -> None:
    """Make `name` the message's intent with `confidence`, and keep why under `key`.

    `certain`: the rule decides alone, so the ranking's top gets the confidence too (neither the fallback's
    threshold nor its ambiguity applies); otherwise the model's doubt stands and a hardly understood message
    still falls back.
    """
    intent = message.get(INTENT) or {}
    ranking = promote(message.get(INTENT_RANKING_KEY) or [dict(intent)], name)
    if certain:
        ranking[0][PREDICTED_CONFIDENCE_KEY] = confidence
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
    message.set(INTENT, {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}, add_to_output=True)
    message.set(key, details, add_to_output=True)


def promote(ranking: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The ranking with `name` swapped into first place (taking the top's confidence, and giving it its own)."""
    ranked = [dict(entry) for entry in ranking]
    top = ranked[0]
    target = next((entry for entry in ranked if entry.get(INTENT_NAME_KEY) == name), None)
    if target is None:
        target = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 0.0}
        ranked.append(target)
    if target is top:
        return ranked
    top[PREDICTED_CONFIDENCE_KEY], target[PREDICTED_CONFIDENCE_KEY] = (
        target[PREDICTED_CONFIDENCE_KEY],
        top[PREDICTED_CONFIDENCE_KEY],
    )
    return sorted(ranked, key=lambda entry: -float(entry[PREDICTED_CONFIDENCE_KEY]))
