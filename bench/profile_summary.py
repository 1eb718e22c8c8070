"""A bot process's profile (harness/profiled.py) as the parts of a turn, in ms per turn, and its top functions.

cProfile counts a coroutine's time only while it runs (not while it awaits), so the cumulative time of an
async function is the time spent in it and below it, summed over its resumptions. The parts overlap (Rasa's
processor holds the NLU, the tracker store and the actions); profiling itself slows many small calls more
than a few big ones, so the shares are a map of where the time goes, not the unprofiled figure.
Usage: python -m bench.profile_summary PROFILE --turns N [--top 25]
"""

from __future__ import annotations

import argparse
import pstats
import sys

Match = tuple[str, str]  # (a part of the file's path, the function's name)

POOL = ("concurrent/futures/thread.py", "run")
PROCESS_UPDATE = ("telegram/ext/_application.py", "process_update")
HANDLE_MESSAGE = ("rasa/core/agent.py", "handle_message")
BOT_API = ("telegram/request/_httpxrequest.py", "do_request")
ACTION_CALLS = ("rasa/core/actions/action.py", "run")  # every Action.run there: RemoteAction, extract slots…
# The parts of a turn, as (label, matches, parts inside it); "the rest" of each is what its parts leave.
TREE: tuple[tuple[str, tuple[Match, ...], tuple[tuple[str, tuple[Match, ...]], ...]], ...] = (
    (
        "event loop: PTB process_update (the turns)",
        (PROCESS_UPDATE,),
        (
            ("Rasa: NLU (parse_message)", (("rasa/core/processor.py", "parse_message"),)),
            ("Rasa: policies (RulePolicy prediction)", (("rasa/core/processor.py", "_predict_next_with_tracker"),)),
            ("Rasa: running actions (custom ones: RemoteAction, the executor)", (ACTION_CALLS,)),
            ("Rasa: tracker store retrieve", (("rasa/core/tracker_store.py", "get_or_create_tracker"),)),
            ("Rasa: tracker store save", (("bot/dialogue/tracker_store.py", "save"),)),
            ("Rasa: lock store (Redis)", (("rasa/core/lock_store.py", "lock"),)),
            ("Bot API requests (httpx)", (BOT_API,)),
        ),
    ),
    (
        "thread pool jobs (actions' database work, identities, pushes' outbox)",
        (POOL,),
        (
            ("actions' act()", (("/actions/", "act"),)),
            ("pushes: claim and record", (("bot/telegram/pushes.py", "_claim"), ("bot/telegram/pushes.py", "_record"))),
        ),
    ),
)
DETAILS: tuple[tuple[str, tuple[Match, ...]], ...] = (
    ("  of the action calls: validating their results", (("bot/dialogue/rasa_patches.py", "_validate_action_result"),)),
    ("  of the action calls: in-process endpoint (JSON, executor)", (("bot/dialogue/endpoint.py", "request"),)),
    ("  of the turns: Rasa handle_message in all", (HANDLE_MESSAGE,)),
    ("  anywhere: JSON dumps/loads", (("json/__init__.py", "dumps"), ("json/__init__.py", "loads"))),
    ("  anywhere: copy.deepcopy", (("copy.py", "deepcopy"),)),
    ("  anywhere: SQLAlchemy statements", (("sqlalchemy/engine/base.py", "_execute_context"),)),
    ("  anywhere: tracker.applied_events", (("rasa/shared/core/trackers.py", "applied_events"),)),
)


def _cumulative(stats: pstats.Stats, wanted: Match) -> float:
    """Seconds in and below every function matching (file part, name), summed (cProfile counts a function
    called within itself once, at the outermost call)."""
    file_part, name = wanted
    return sum(
        ct
        for (filename, _line, function), (_cc, _nc, _tt, ct, _callers) in stats.stats.items()  # type: ignore[attr-defined]
        if function == name and file_part in filename
    )


def part_ms(stats: pstats.Stats, wanted: tuple[Match, ...], turns: int) -> float:
    """The summed cumulative time of the matching functions (none calling another), in ms per turn."""
    return sum(_cumulative(stats, w) for w in wanted) * 1000 / max(turns, 1)


def summarise(path: str, turns: int, top: int = 25) -> list[str]:
    """Lines: the parts of a turn, then the top functions by own time, in ms per turn."""
    stats = pstats.Stats(path)
    total = stats.total_tt * 1000 / max(turns, 1)  # type: ignore[attr-defined]
    lines = [
        f"profile of one bot process over the saturated load ({turns} turns), ms of CPU per turn "
        "(under cProfile, which slows many small calls more than a few big ones):",
        f"  {'everything profiled':<66} {total:7.2f}",
    ]
    covered = 0.0
    for label, wanted, parts in TREE:
        whole = part_ms(stats, wanted, turns)
        covered += whole
        lines.append(f"  {label:<66} {whole:7.2f}")
        inside = 0.0
        for part_label, part_wanted in parts:
            ms = part_ms(stats, part_wanted, turns)
            inside += ms
            lines.append(f"    {part_label:<64} {ms:7.2f}")
        lines.append(f"    {'the rest (PTB, Rasa processor and forms, the loop)' if 'PTB' in label else 'the rest':<64} "
                     f"{whole - inside:7.2f}")  # fmt: skip
    lines.append(f"  {'the rest of the event loop (webhook server, pushes, timers)':<66} {total - covered:7.2f}")
    for label, wanted in DETAILS:
        lines.append(f"  {label:<66} {part_ms(stats, wanted, turns):7.2f}")
    lines.append(f"  top {top} functions by own time (ms per turn, cumulative, calls per turn):")
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:top]  # type: ignore[attr-defined]
    for (filename, line, function), (_cc, nc, tt, ct, _callers) in rows:
        where = "/".join(filename.split("/")[-3:])
        lines.append(
            f"    {tt * 1000 / turns:6.2f} own {ct * 1000 / turns:7.2f} cum {nc / turns:7.1f}×  {where}:{line} {function}"
        )
    return lines


def main() -> int:
    """Print the summary of a profile file."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile")
    parser.add_argument("--turns", type=int, required=True, help="turns the profiled process served")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print("\n".join(summarise(args.profile, args.turns, args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
