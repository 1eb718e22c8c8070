"""Changing a parse's intent by rule: the ranking re-ordered and the reason kept in the parse.

The rule components (bare answer, reference, negation guards) decide an intent the model may have got wrong;
each calls `override` with what it decided and why, so the parse shows both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    """A rule's intent for a message: with what confidence, and why (kept in the parse under `key`)."""

    intent: str
    confidence: float
    key: str
    details: dict[str, Any] = field(default_factory=dict)
    certain: bool = True


class IntentRule(GraphComponent):
    """A graph component that sets the intent by a rule where it applies and leaves the model's elsewhere.

    Subclasses (registered with `DefaultV1Recipe.register`) say what they decide in `decide`; there is
    nothing to train or load.
    """

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IntentRule:
        """Create the component (it has nothing to train or load)."""
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training data passes through unchanged."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Apply the rule's decision to every message it has one for."""
        for message in messages:
            intent = message.get(INTENT) or {}
            predicted = str(intent.get(INTENT_NAME_KEY) or "")
            if not predicted:
                continue
            decision = self.decide(message, predicted, float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0))
            if decision is None:
                continue
            override(message, decision.intent, decision.confidence, decision.key, decision.details, decision.certain)
            logger.debug("%s: %s → %s", type(self).__name__, predicted, decision.intent)
        return messages

    def decide(self, message: Message, predicted: str, confidence: float) -> Decision | None:
        """The rule's intent for a message whose model intent is `predicted`; None to leave it."""
        raise NotImplementedError


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
