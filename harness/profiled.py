"""Run a module under cProfile switched on and off by signals: `python -m harness.profiled OUT MODULE [ARGS]`.

SIGUSR1 starts profiling, SIGUSR2 stops it and writes the statistics (pstats format) to OUT, so a bench can
profile a bot process over its load only, not over its start (loading the model). The event loop's thread
is profiled, and so is every job of a thread pool (asyncio.to_thread, run_in_executor: the actions'
database work) while profiling is on, each worker thread with a profiler of its own, merged when written.
Times are each thread's CPU time (time.thread_time), not wall time: waiting for a lock, the GIL, the
database or a core of the shared machine is not counted as the waiting function's time.
"""

from __future__ import annotations

import cProfile
import logging
import pstats
import runpy
import signal
import sys
import threading
import time
from concurrent.futures import thread as pool_thread
from typing import Any

logger = logging.getLogger(__name__)


class Profiling:
    """The profilers of one process: the main thread's, and one per pool thread that ran a job."""

    def __init__(self, out: str) -> None:
        self.out = out
        self.on = False
        self.main = cProfile.Profile(time.thread_time)
        self._local = threading.local()
        self._pool: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def start(self, *_args: Any) -> None:
        """SIGUSR1: profile from now on."""
        self.on = True
        self.main.enable()

    def stop(self, *_args: Any) -> None:
        """SIGUSR2: stop and write every profiler's statistics, merged, to the output file."""
        self.on = False
        self.main.disable()
        with self._lock:
            profilers = [self.main, *self._pool]
        stats = pstats.Stats(profilers[0])
        for other in profilers[1:]:
            if other.getstats():
                stats.add(other)
        stats.dump_stats(self.out)

    def pool_job(self, run: Any) -> Any:
        """Wrap a thread pool's job runner so that jobs run while profiling is on are profiled in their thread."""

        def profiled_run(work_item: Any) -> None:
            if not self.on:
                run(work_item)
                return
            profiler = getattr(self._local, "profiler", None)
            if profiler is None:
                profiler = self._local.profiler = cProfile.Profile(time.thread_time)
                with self._lock:
                    self._pool.append(profiler)
            profiler.enable()
            try:
                run(work_item)
            finally:
                profiler.disable()

        return profiled_run


def main() -> None:
    """Install the signal handlers and the pool hook, then run the module as `python -m MODULE` would."""
    out, module, *args = sys.argv[1:]
    profiling = Profiling(out)
    pool_thread._WorkItem.run = profiling.pool_job(pool_thread._WorkItem.run)  # type: ignore[method-assign]
    signal.signal(signal.SIGUSR1, profiling.start)
    signal.signal(signal.SIGUSR2, profiling.stop)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
