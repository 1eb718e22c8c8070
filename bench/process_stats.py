"""What a bot process holds, read from Linux /proc: resident memory, open TCP connections, database files."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

TCP_ESTABLISHED = "01"


@dataclass(frozen=True)
class Held:
    """One process's resident memory (MB), established TCP connections and open handles on database files."""

    rss_mb: float
    tcp: int
    db_files: int

    def __str__(self) -> str:
        return f"RSS {self.rss_mb:.0f} MB, {self.tcp} TCP connections, {self.db_files} database file handles"


def rss_mb(pid: int) -> float:
    """Resident set size in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _fd_targets(pid: int) -> list[str]:
    targets = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            targets.append(str(fd.readlink()))
        except OSError:
            continue  # closed meanwhile
    return targets


def held_by(pid: int, database_file: str | None) -> Held:
    """What a process holds; `database_file`: a SQLite file whose handles (with -wal, -shm) are counted."""
    targets = _fd_targets(pid)
    sockets = {t[len("socket:[") : -1] for t in targets if t.startswith("socket:[")}
    established = 0
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        established += sum(1 for line in lines if (f := line.split())[3] == TCP_ESTABLISHED and f[9] in sockets)
    files = sum(1 for t in targets if database_file and t.startswith(database_file))
    return Held(rss_mb(pid), established, files)


class RssSampler:
    """The resident set size of some processes, sampled every `every` seconds on a thread of its own."""

    def __init__(self, pids: list[int], every: float) -> None:
        self.pids = pids
        self.every = every
        self.samples: list[list[float]] = []  # one row per sample, one column per process
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append([rss_mb(pid) for pid in self.pids])

    def __enter__(self) -> RssSampler:
        self.samples.append([rss_mb(pid) for pid in self.pids])
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append([rss_mb(pid) for pid in self.pids])

    def lines(self) -> list[str]:
        """Per process, its RSS at each sample."""
        return [
            f"    process {pid}: " + " ".join(f"{row[column]:.0f}" for row in self.samples) + " MB"
            for column, pid in enumerate(self.pids)
        ]
