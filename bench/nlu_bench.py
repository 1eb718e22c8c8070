"""Parse latency of the loaded NLU model (target p95 ≤ 20 ms on the 2-core machine).

Loads models/fupin.tar.gz in process against the demo database, parses every held-out sentence
`--rounds` times after a warm-up, and prints p50/p95/p99. Usage: python bench/nlu_bench.py
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from pathlib import Path

from bench.catalog_bench import percentile
from fupin.settings import Settings
from nlu.evaluate import load_examples

HOLDOUT = Path(__file__).resolve().parent.parent / "tests" / "nlu" / "holdout.yml"


async def measure(model: Path, texts: list[str], rounds: int) -> list[float]:
    """Latencies (ms) of agent.parse_message over the texts."""
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    for text in texts:  # warm-up: first calls build TF graphs and fill caches
        await agent.parse_message(text)
    samples = []
    for _ in range(rounds):
        for text in texts:
            start = time.perf_counter()
            await agent.parse_message(text)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> int:
    """Print the parse latency figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model", type=Path, default=None, help="default: fupin.tar.gz in the model directory")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = Settings.from_env()
    os.environ.setdefault("DATABASE_URL", settings.database_url)
    texts = [text for text, _intent, _entities in load_examples(HOLDOUT)]
    model = args.model or settings.model_dir / "fupin.tar.gz"
    samples = asyncio.run(measure(model, texts, args.rounds))
    print(
        f"parse: {len(samples)} messages  p50 {statistics.median(samples):.1f} ms  "
        f"p95 {percentile(samples, 95):.1f} ms  p99 {percentile(samples, 99):.1f} ms  (target p95 ≤ 20 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
