"""CatalogMatcher: products and places recognised from the live database, without retraining."""

from __future__ import annotations

import logging
import os
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sqlalchemy.exc import SQLAlchemyError

from fupin.catalog.search import CatalogNames, ProductVocabulary
from fupin.db import make_engine, make_session_factory
from fupin.mentions import fold_width
from fupin.places import Gazetteer
from fupin.settings import Settings

logger = logging.getLogger(__name__)

OWNED = frozenset({"product", "location"})


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class CatalogMatcher(GraphComponent, EntityExtractorMixin):
    """Finds product names, aliases and places from the database, giving canonical values (洋芋 → 土豆).

    Names are re-read every `refresh_seconds`, so a product, alias or village added after training is
    recognised at once. The bot hands in its own `CatalogNames` after loading the agent (`use`), so the
    matcher reads the bot's database and shares the actions' names cache. DIET's product/location guesses are kept only where no known name was found
    (an unknown product is still worth answering "we have none"), with their values made canonical
    when they are close to a known name (蜂密 → 蜂蜜).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Database URL (for Rasa's own CLI only, see `_catalog`) and refresh period in seconds."""
        return {"database_url": None, "refresh_seconds": 5.0}

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = config
        self._names: CatalogNames | None = None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CatalogMatcher:
        """Create the component; the database is opened on first use, never at import or load."""
        return cls(config)

    def use(self, names: CatalogNames) -> None:
        """Read the catalogue's names from now on through the bot's own cache (and its database)."""
        self._names = names

    def _catalog(self) -> CatalogNames:
        if self._names is None:
            # Only when nobody handed names in: runs driven by Rasa's own CLI (`rasa test core` in
            # `make test`, `rasa shell`), which load the model without the bot's entry point.
            url = self._config.get("database_url") or os.environ.get("DATABASE_URL") or Settings().database_url
            self._names = CatalogNames(make_session_factory(make_engine(url)), self._config["refresh_seconds"])
        return self._names

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training data passes through unchanged."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Add product and location entities found in each message's text."""
        try:
            names = self._catalog()
            with names.session_factory() as session:
                vocabulary, gazetteer = names.get(session)
        except SQLAlchemyError:
            # Without the database, DIET's entities stand alone rather than failing the parse.
            logger.exception("catalogue names unavailable; keeping the model's own entities")
            return messages
        for message in messages:
            message.set(ENTITIES, self._entities(message, vocabulary, gazetteer), add_to_output=True)
        return messages

    def _entities(self, message: Message, vocabulary: ProductVocabulary, gazetteer: Gazetteer) -> list[dict[str, Any]]:
        text = fold_width(message.get(TEXT) or "")
        existing = message.get(ENTITIES, [])
        # Names inside an organisation (龙角镇政府食堂) belong to it.
        blocked = [(e["start"], e["end"]) for e in existing if e.get("entity") == "org"]
        found: list[dict[str, Any]] = []
        for start, end, entry in vocabulary.spans(text):
            found.append(_entity("product", start, end, entry.product))
        named = [(f["start"], f["end"]) for f in found]
        for start, end in vocabulary.made_of_spans(text):
            # Named as written: the catalogue has none of it, and the answer says so (红薯粉条 is not 红薯).
            made_of = _entity("product", start, end, text[start:end])
            if not _overlaps(made_of, named):
                found.append(made_of)
        for start, end, place in gazetteer.spans(text):
            written = text[start:end]
            ambiguous = (
                place.village is not None
                and start + len(place.village.short_name) == end
                and (gazetteer.is_ambiguous(place.village.short_name))
            )
            found.append(_entity("location", start, end, written if ambiguous else place.label))
        found = [f for f in found if not _overlaps(f, blocked)]
        taken = [(f["start"], f["end"]) for f in found]
        kept = []
        for entity in existing:
            if entity.get("entity") not in OWNED:
                kept.append(entity)
            elif not _overlaps(entity, taken):
                kept.append(self._canonical(entity, vocabulary, gazetteer))
        return kept + self.add_extractor_name(found)

    def _canonical(self, entity: dict[str, Any], vocabulary: ProductVocabulary, gazetteer: Gazetteer) -> dict[str, Any]:
        value = str(entity.get("value", ""))
        if entity["entity"] == "product":
            matches = vocabulary.match(value)
            if len(matches) != 1 and value[:1] in _WILL and len(value) > 2:
                # The model's span took the verb in (订蜂密): the product is what follows it.
                trimmed = vocabulary.match(value[1:])
                if len(trimmed) == 1:
                    matches = trimmed
                    entity = {**entity, "start": entity["start"] + 1, "value": value[1:]}
            if len(matches) == 1:
                entity = {**entity, "value": matches[0].product}
        else:
            places = gazetteer.find(value)
            if len(places) == 1:
                entity = {**entity, "value": places[0].label}
        return self.add_processor_name(entity)


# Verbs of will that the model's product spans sometimes swallow.
_WILL = frozenset("订买要来")


def _entity(kind: str, start: int, end: int, value: str) -> dict[str, Any]:
    return {"entity": kind, "start": start, "end": end, "value": value, "confidence_entity": 1.0}


def _overlaps(entity: dict[str, Any], spans: list[tuple[int, int]]) -> bool:
    return any(entity["start"] < e and s < entity["end"] for s, e in spans)
