"""EntityNormaliser: quantities, prices, phones and supply methods, found by rule with machine values."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from fupin.mentions import find_mentions

logger = logging.getLogger(__name__)

# The entity types this component owns: DIET's guesses for them are replaced by exact rules.
OWNED = frozenset({"quantity", "price", "phone", "supply_method", "order_no", "complaint_no"})


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class EntityNormaliser(GraphComponent, EntityExtractorMixin):
    """Extracts quantity, price, phone and supply_method with values (两百五十斤 → 250斤, 三块五一斤 → 350 fen/斤)."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EntityNormaliser:
        """Create the component (it has nothing to train or load)."""
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training data passes through unchanged."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Replace other extractors' entities of the owned types with rule-based ones."""
        for message in messages:
            text = message.get(TEXT) or ""
            # A guess with no letter, digit or character in it (DIET tagging a space in noise) names nothing.
            kept = [
                e
                for e in message.get(ENTITIES, [])
                if e.get("entity") not in OWNED and _names_something(e.get("value"))
            ]
            figures = _asks_figures(message)
            found = [
                {
                    "entity": m.entity,
                    "start": m.start,
                    "end": m.end,
                    "value": m.value,
                    "confidence_entity": 1.0,
                    **({"additional_info": m.details} if m.details else {}),
                }
                for m in find_mentions(text)
                if not (figures and m.entity == "supply_method")
            ]
            kept = repair_orgs(text, kept)
            message.set(ENTITIES, kept + self.add_extractor_name(found), add_to_output=True)
        return messages


def _names_something(value: object) -> bool:
    return any(ch.isalnum() for ch in str(value or ""))


# Intents whose messages ask for figures: a supply method there names a breakdown (送货上门这块卖了多少),
# not how an order travels, and nothing reads it.
_FIGURE_INTENTS = frozenset({"sales_summary"})


def _asks_figures(message: Message) -> bool:
    return (message.get(INTENT) or {}).get(INTENT_NAME_KEY) in _FIGURE_INTENTS


_ORG_PREFIXES = ("云阳县", "云阳", "县")


def repair_orgs(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join organisation fragments the model split (县|财政局|食堂) and keep the county prefix (县|中医院).

    jieba cuts unknown unit names in odd places, so the model's org spans are sometimes short of
    a prefix or broken in pieces; the buyer's name must be whole to match known units. Pieces are
    joined across a short gap of plain characters that no other entity claims.
    """
    orgs = sorted((e for e in entities if e.get("entity") == "org"), key=lambda e: e["start"])
    others = [e for e in entities if e.get("entity") != "org"]
    claimed = [(e["start"], e["end"]) for e in others]
    merged: list[dict[str, Any]] = []
    for org in orgs:
        org = dict(org)
        for prefix in _ORG_PREFIXES:
            start = org["start"] - len(prefix)
            if start >= 0 and text[start : org["start"]] == prefix and not text[org["start"] :].startswith(prefix):
                org["start"] = start
                break
        if merged and _joinable(text, merged[-1]["end"], org["start"], claimed):
            previous = merged[-1]
            previous["end"] = max(previous["end"], org["end"])
            previous["value"] = text[previous["start"] : previous["end"]]
            continue
        org["value"] = text[org["start"] : org["end"]]
        merged.append(org)
    # A lone character (县) is no unit.
    return others + [org for org in merged if org["end"] - org["start"] >= 2]


def _joinable(text: str, end: int, start: int, claimed: list[tuple[int, int]]) -> bool:
    if start <= end:
        return True
    gap = text[end:start]
    if len(gap) > 4 or re.search(r"[\s\d,，。、;；:：!！?？的给卖买订要和及与跟还]", gap):
        return False
    return all(e <= end or s >= start for s, e in claimed)
