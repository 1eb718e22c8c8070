"""`python -m bot run` as a real OS process talking to the fake Bot API, for start/stop and crash tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fupin.settings import PROJECT_ROOT
from harness.fake_telegram import FakeTelegram


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (Linux /proc)."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1]
    except OSError:
        return False
    return state != "Z"


class BotProcess:
    """One bot process; its environment points it at the fake server and a database."""

    def __init__(self, fake: FakeTelegram, workdir: Path, database_url: str, **env: str) -> None:
        self.fake = fake
        self.workdir = workdir
        self.log_dir = workdir / "logs"
        self.stderr_path = workdir / "stderr.log"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(PROJECT_ROOT),
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_BASE_URL": fake.base_url,
            "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
            "LOG_DIR": str(self.log_dir),
            "PUSH_INTERVAL_SECONDS": "0.2",
            "REMINDERS_ENABLED": "0",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ready: int = 1, timeout: float = 180.0) -> None:
        """Start and wait until the bot has set its command menu `ready` times in all (it is then polling)."""
        with self.stderr_path.open("ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"bot exited with {self.process.returncode}:\n{self.output()}")
            public = [c for c in self.fake.calls("setMyCommands") if "scope" not in c.params]
            if len(public) >= ready:
                return
            time.sleep(0.2)
        self.kill()
        raise AssertionError(f"bot did not start in time:\n{self.output()[-3000:]}")

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM, as systemd or Ctrl-C would; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the bot and its children (a crash: nothing gets to clean up)."""
        if self.process is None or self.process.poll() is not None:
            return
        children = child_pids(self.process.pid)
        self.process.kill()
        self.process.wait(30)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)

    def output(self) -> str:
        """Everything the process wrote to stdout/stderr and its log files."""
        parts = [self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""]
        parts += [p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log"))]
        return "\n".join(parts)
