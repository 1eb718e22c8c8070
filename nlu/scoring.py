"""Scores of parses against annotated examples: intent accuracy and macro-F1, entity F1, confusions, negations."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

ENTITY_TYPES = ("product", "quantity", "price", "location", "phone", "org", "supply_method")
# Below the confidence threshold an off-topic message gets the same friendly redirect as out_of_scope.
EQUIVALENT = {"out_of_scope": {"nlu_fallback"}}
# What a negated request must never become.
NEVER_FOR_NEGATIONS = frozenset({"order_product", "affirm"})

Example = tuple[str, str, list[dict[str, Any]]]

# Questions of the form A-not-A (有没有, 要不要, 在不在, 可以不) carry 不/没 without saying no; words that
# only contain a negation character (别名 is an alias, 别家 another seller) say no as little.
_QUESTION_FORMS = re.compile(
    r"(.)[不没]\1|有没有|有莫得|可以不|行不行|(?<=.)[不没][?？]?$|别名|别家|别的|别人|特别|区别|分别"
)
_NEGATION = re.compile(r"不|没|莫|别|甭|算了|取消")


def is_negated(text: str) -> bool:
    """Whether a sentence says no (不想订了, 莫要了, 算了), leaving A-not-A questions (有没有) aside."""
    return bool(_NEGATION.search(_QUESTION_FORMS.sub("", text)))


@dataclass
class Scores:
    """Counts behind intent accuracy, macro-F1, entity precision/recall/F1 and the confusions."""

    total: int = 0
    correct: int = 0
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    # (gold, predicted) of every intent, with the first example of each wrong pair.
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: dict[tuple[str, str], str] = field(default_factory=dict)
    # Negated sentences whose gold intent is no order/yes but that were read as one.
    negated: int = 0
    negated_wrong: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Share of examples whose intent was right."""
        return self.correct / self.total if self.total else 0.0

    @property
    def macro_f1(self) -> float:
        """Unweighted mean of the per-intent F1 over the gold intents."""
        gold = {g for g, _p in self.pairs}
        if not gold:
            return 0.0
        total = 0.0
        for intent in gold:
            tp = self.pairs[(intent, intent)]
            predicted = sum(n for (_g, p), n in self.pairs.items() if p == intent)
            actual = sum(n for (g, _p), n in self.pairs.items() if g == intent)
            precision = tp / predicted if predicted else 0.0
            recall = tp / actual if actual else 0.0
            total += 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return total / len(gold)

    def f1(self, entity: str) -> tuple[float, float, float, int]:
        """Precision, recall, F1 and support of one entity type."""
        tp, fp, fn = self.tp[entity], self.fp[entity], self.fn[entity]
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1, tp + fn

    def confusions(self, limit: int = 15) -> list[tuple[str, str, int, str]]:
        """The most frequent wrong (gold, predicted) pairs with their count and one example."""
        wrong = [(pair, n) for pair, n in self.pairs.items() if pair[0] != pair[1]]
        wrong.sort(key=lambda item: (-item[1], item[0]))
        return [(gold, predicted, n, self.examples[(gold, predicted)]) for (gold, predicted), n in wrong[:limit]]

    def merge(self, other: Scores) -> Scores:
        """Both sets of counts together (for confusions over several sets)."""
        merged = Scores(
            total=self.total + other.total,
            correct=self.correct + other.correct,
            tp=self.tp + other.tp,
            fp=self.fp + other.fp,
            fn=self.fn + other.fn,
            pairs=self.pairs + other.pairs,
            examples={**other.examples, **self.examples},
            negated=self.negated + other.negated,
            negated_wrong=self.negated_wrong + other.negated_wrong,
            errors=self.errors + other.errors,
        )
        return merged


def score(examples: list[Example], parsed: list[dict[str, Any]]) -> Scores:
    """Compare parses with annotated (text, intent, entities) examples, span and type exact."""
    scores = Scores()
    for (text, intent, gold), result in zip(examples, parsed, strict=True):
        scores.total += 1
        predicted = result["intent"]["name"]
        if predicted in EQUIVALENT.get(intent, set()):
            predicted = intent
        scores.pairs[(intent, predicted)] += 1
        scores.examples.setdefault((intent, predicted), text)
        if predicted == intent:
            scores.correct += 1
        else:
            scores.errors.append(f"intent  {text!r}: expected {intent}, got {predicted}")
        if intent not in NEVER_FOR_NEGATIONS and is_negated(text):
            scores.negated += 1
            if predicted in NEVER_FOR_NEGATIONS:
                scores.negated_wrong.append(f"{text!r} → {predicted}")
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
