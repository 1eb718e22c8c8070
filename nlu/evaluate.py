"""NLU evaluation on one screen: both held-out sets, 5-fold cross-validation, confusions, negations, targets.

Rasa's own `rasa test nlu` scores each extractor separately; here the final entities (after the
normaliser and the catalogue matcher have merged everything) are scored against the annotations,
span and type exact. One trained model parses both held-out sets; cross-validation trains one NLU
model per fold on the rest of data/. Usage:
python -m nlu.evaluate --model models/fupin.tar.gz [--folds 5] [--out results/nlu-eval.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlu.scoring import ENTITY_TYPES, EQUIVALENT, Example, Scores, score

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
HOLDOUTS = {
    "held-out (ours)": ROOT / "tests" / "nlu" / "holdout.yml",
    "held-out (independent)": ROOT / "tests" / "nlu" / "holdout_independent.yml",
    # Written on 2026-12-02 by a writer who saw neither data/ nor the model, after the independent set's
    # errors had been seen and worked on: the unbiased figure from then on.
    "held-out (fresh)": ROOT / "tests" / "nlu" / "holdout_fresh.yml",
    # Written on 2026-12-04, blind to data/ and the model, for issue #17's intents and their near misses.
    "held-out (channels)": ROOT / "tests" / "nlu" / "holdout_channels.yml",
}
TRAINING_DATA = ROOT / "data"
CONFIG = ROOT / "config.yml"
# Targets of issue #14; the tests hold lower floors that only guard against regressions.
HELD_OUT_ACCURACY = 0.97
ENTITY_F1 = 0.95
CROSS_VALIDATION_ACCURACY = 0.90
FOLD_SEED = 2019

__all__ = ["ENTITY_TYPES", "EQUIVALENT", "Scores", "load_examples", "main", "parse_all", "score"]


def load_examples(path: Path) -> list[Example]:
    """Annotated examples of a Rasa NLU file (or directory)."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent"), m.get("entities") or []) for m in data.intent_examples]


def _quiet() -> None:
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


async def parse_all(model: Path, texts: list[str]) -> list[dict[str, Any]]:
    """Parse every text with the trained model, in process."""
    from rasa.core.agent import Agent

    _quiet()
    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


@dataclass
class CrossValidation:
    """Scores over all folds and the seconds each fold's training took."""

    scores: Scores
    train_seconds: list[float]


def _folds(folds: int) -> Iterator[tuple[Any, Any]]:
    from rasa.shared.data import get_data_files, is_nlu_file
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.model_selection import StratifiedKFold

    # The NLU files of data/ (rules.yml is dialogue).
    files = sorted(get_data_files([str(TRAINING_DATA)], is_nlu_file))
    data = TrainingData().merge(*(load_data(path) for path in files))
    examples = data.intent_examples
    labels = [m.get("intent") for m in examples]
    # A fixed seed: the same folds every run, so two runs compare data and config, not luck.
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=FOLD_SEED).split(examples, labels)
    for train_index, test_index in split:
        train = TrainingData(
            training_examples=[examples[i] for i in train_index],
            entity_synonyms=data.entity_synonyms,
            regex_features=data.regex_features,
            lookup_tables=data.lookup_tables,
        )
        yield train, [examples[i] for i in test_index]


def cross_validate(folds: int) -> CrossValidation:
    """Train on all but one fold of data/ and score the final pipeline on that fold, for every fold."""
    from rasa.model_training import train_nlu

    total = Scores()
    seconds: list[float] = []
    with tempfile.TemporaryDirectory(prefix="nlu-cv-") as work:
        for index, (train, test) in enumerate(_folds(folds)):
            data_file = Path(work) / f"fold{index}.yml"
            data_file.write_text(train.nlu_as_yaml(), encoding="utf-8")
            started = time.monotonic()
            model = train_nlu(str(CONFIG), str(data_file), work, fixed_model_name=f"fold{index}")
            seconds.append(time.monotonic() - started)
            if model is None:
                raise RuntimeError(f"fold {index} did not train")
            examples = [(m.get("text"), m.get("intent"), m.get("entities") or []) for m in test]
            parsed = asyncio.run(parse_all(Path(model), [text for text, _i, _e in examples]))
            total = total.merge(score(examples, parsed))
            logger.info("fold %d: %.0f s, running accuracy %.3f", index, seconds[-1], total.accuracy)
    return CrossValidation(total, seconds)


def _mark(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(held_out: dict[str, Scores], cross: CrossValidation | None) -> tuple[list[str], dict[str, Any]]:
    """The screen of figures against the targets, and the same as JSON."""
    lines: list[str] = []
    summary: dict[str, Any] = {}
    for name, scores in held_out.items():
        lines.append(
            f"{name:<24} n={scores.total:<4} intent acc {scores.accuracy:6.1%}  macro-F1 {scores.macro_f1:6.1%}"
            f"  (target acc ≥ {HELD_OUT_ACCURACY:.0%})  {_mark(scores.accuracy >= HELD_OUT_ACCURACY)}"
        )
        cells = []
        for entity in ENTITY_TYPES:
            f1, support = scores.f1(entity)[2], scores.f1(entity)[3]
            cells.append(f"{entity} {f1:.1%}{'' if f1 >= ENTITY_F1 else '!'}(n={support})")
        worst = min(scores.f1(entity)[2] for entity in ENTITY_TYPES)
        lines.append(f"  entity F1: {'  '.join(cells)}")
        lines.append(f"  entity F1 every type ≥ {ENTITY_F1:.0%} (! = below)  {_mark(worst >= ENTITY_F1)}")
        summary[name] = {
            "n": scores.total,
            "intent_accuracy": scores.accuracy,
            "macro_f1": scores.macro_f1,
            "entity_f1": {entity: scores.f1(entity)[2] for entity in ENTITY_TYPES},
            "negated": scores.negated,
            "negated_as_order_or_affirm": scores.negated_wrong,
        }
    if cross is not None:
        mean = sum(cross.train_seconds) / len(cross.train_seconds)
        lines.append(
            f"{len(cross.train_seconds)}-fold cross-validation   n={cross.scores.total:<4} intent acc "
            f"{cross.scores.accuracy:6.1%}  macro-F1 {cross.scores.macro_f1:6.1%}  (target acc ≥ "
            f"{CROSS_VALIDATION_ACCURACY:.0%})  {_mark(cross.scores.accuracy >= CROSS_VALIDATION_ACCURACY)}"
        )
        lines.append(f"  training per fold: mean {mean:.0f} s (NLU only, 4/5 of data)")
        summary["cross_validation"] = {
            "folds": len(cross.train_seconds),
            "intent_accuracy": cross.scores.accuracy,
            "macro_f1": cross.scores.macro_f1,
            "train_seconds": cross.train_seconds,
        }
    if not held_out:
        return lines, summary
    together = Scores()
    for scores in held_out.values():
        together = together.merge(scores)
    wrong = together.negated_wrong
    lines.append(
        f"negated held-out utterances read as order_product/affirm: {len(wrong)} of {together.negated}"
        f"  (target 0)  {_mark(not wrong)}"
    )
    lines.extend(f"    {line}" for line in wrong)
    lines.append("15 worst confusions over both held-out sets (gold → predicted, count, example):")
    for gold, predicted, count, example in together.confusions(15):
        lines.append(f"  {gold:>14} → {predicted:<14} {count:>2}  {example}")
    return lines, summary


def main() -> int:
    """Print the NLU figures against the targets; write them as JSON; --errors lists every mistake."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, help="the trained model for the held-out sets (none: skip them)")
    parser.add_argument("--folds", type=int, default=5, help="0 skips cross-validation")
    parser.add_argument("--errors", action="store_true", help="list every wrong intent and entity")
    parser.add_argument("--out", type=Path, default=Path("results/nlu-eval.json"))
    args = parser.parse_args()
    held_out: dict[str, Scores] = {}
    if args.model is not None:
        sets = {name: load_examples(path) for name, path in HOLDOUTS.items()}
        texts = [text for examples in sets.values() for text, _i, _e in examples]
        parsed = iter(asyncio.run(parse_all(args.model, texts)))
        for name, examples in sets.items():
            held_out[name] = score(examples, [next(parsed) for _ in examples])
    cross = cross_validate(args.folds) if args.folds > 1 else None
    lines, summary = report(held_out, cross)
    if args.errors:
        listed = {**held_out, **({"cross-validation": cross.scores} if cross else {})}
        for name, scores in listed.items():
            print(f"--- {name}")
            for line in scores.errors:
                print("  " + line)
    print("\n".join(lines))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
