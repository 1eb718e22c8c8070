"""Held-out evaluation of what the bot really sees: intent accuracy and entity F1 per type.

Rasa's own `rasa test nlu` scores each extractor separately; here the final entities (after the
normaliser and the catalogue matcher have merged everything) are scored against the annotations,
span and type exact. Usage: python -m nlu.evaluate --model MODEL --data tests/nlu/holdout.yml
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENTITY_TYPES = ("product", "quantity", "price", "location", "phone", "org", "supply_method")
# Below the confidence threshold an off-topic message gets the same friendly redirect as out_of_scope.
EQUIVALENT = {"out_of_scope": {"nlu_fallback"}}


@dataclass
class Scores:
    """Counts behind intent accuracy and entity precision/recall/F1."""

    total: int = 0
    correct: int = 0
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Share of examples whose intent was right."""
        return self.correct / self.total if self.total else 0.0

    def f1(self, entity: str) -> tuple[float, float, float, int]:
        """Precision, recall, F1 and support of one entity type."""
        tp, fp, fn = self.tp[entity], self.fp[entity], self.fn[entity]
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1, tp + fn


def score(examples: list[tuple[str, str, list[dict[str, Any]]]], parsed: list[dict[str, Any]]) -> Scores:
    """Compare parses with annotated (text, intent, entities) examples."""
    scores = Scores()
    for (text, intent, gold), result in zip(examples, parsed, strict=True):
        scores.total += 1
        predicted = result["intent"]["name"]
        if predicted == intent or predicted in EQUIVALENT.get(intent, set()):
            scores.correct += 1
        else:
            scores.errors.append(f"intent  {text!r}: expected {intent}, got {predicted}")
        want = {(e["entity"], e["start"], e["end"]) for e in gold if e["entity"] in ENTITY_TYPES}
        got = {(e["entity"], e["start"], e["end"]) for e in result.get("entities", []) if e["entity"] in ENTITY_TYPES}
        for kind, _start, _end in want & got:
            scores.tp[kind] += 1
        for kind, start, end in got - want:
            scores.fp[kind] += 1
            scores.errors.append(f"entity  {text!r}: extra {kind} {text[start:end]!r}")
        for kind, start, end in want - got:
            scores.fn[kind] += 1
            scores.errors.append(f"entity  {text!r}: missed {kind} {text[start:end]!r}")
    return scores


def load_examples(path: Path) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """Annotated examples of a Rasa NLU file."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent"), m.get("entities") or []) for m in data.intent_examples]


async def parse_all(model: Path, texts: list[str]) -> list[dict[str, Any]]:
    """Parse every text with the trained model, in process."""
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


def main() -> int:
    """Print intent accuracy and entity F1 per type; write them as JSON beside the model's results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--out", type=Path, default=Path("results/holdout/merged_scores.json"))
    args = parser.parse_args()
    examples = load_examples(args.data)
    parsed = asyncio.run(parse_all(args.model, [text for text, _intent, _entities in examples]))
    scores = score(examples, parsed)
    print(f"held-out examples: {scores.total}")
    print(f"intent accuracy: {scores.accuracy:.1%}  (target ≥ 95%)")
    entities: dict[str, dict[str, float]] = {}
    report = {"intent_accuracy": scores.accuracy, "entities": entities}
    for entity in ENTITY_TYPES:
        precision, recall, f1, support = scores.f1(entity)
        entities[entity] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
        print(f"entity {entity:<14} P {precision:6.1%}  R {recall:6.1%}  F1 {f1:6.1%}  (n={support}, target F1 ≥ 93%)")
    for line in scores.errors:
        print("  " + line)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
