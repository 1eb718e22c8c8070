"""`python -m bot run` as a real OS process talking to the fake Bot API, for start/stop and crash tests."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import subprocess
import sys
import time
import urllib.request
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


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants."""
    tree = [pid]
    for child in child_pids(pid):
        tree += process_tree(child)
    return tree


def _address(hex_address: str) -> tuple[str, int]:
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    # /proc/net/tcp* writes each 32-bit word of the address in the host's (little-endian) byte order.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words)), int(port, 16)


def listening_sockets(pid: int) -> list[tuple[str, int]]:
    """The (address, port) of every listening TCP socket held open by a process or its descendants (Linux)."""
    inodes: set[str] = set()
    for member in process_tree(pid):
        for fd in Path(f"/proc/{member}/fd").glob("*"):
            try:
                target = os.readlink(fd)
            except OSError:
                continue  # closed meanwhile
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    listening: list[tuple[str, int]] = []
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: TCP_LISTEN
                listening.append(_address(fields[1]))
    return sorted(listening)


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1]
    except OSError:
        return False
    return state != "Z"


def start_action_server(
    database_url: str, port: int, workdir: Path, token: str, wait: bool = True
) -> subprocess.Popen[bytes]:
    """`python -m bot actions` on a database (its output in workdir/action-server.out), answering if `wait`."""
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "DATABASE_URL": database_url,
        "ACTION_SERVER_PORT": str(port),
        "ACTION_SERVER_TOKEN": token,
        "LOG_DIR": str(workdir / "logs"),
    }
    env.pop("ACTION_SERVER_HOST", None)  # its default, the loopback address
    out = workdir / "action-server.out"
    with out.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "actions"], cwd=PROJECT_ROOT, env=env, stdout=output, stderr=output
        )
    deadline = time.monotonic() + 60
    while wait:
        assert process.poll() is None, out.read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                break
        except OSError:
            assert time.monotonic() < deadline, "the action server did not start"
            time.sleep(0.2)
    return process


class BotProcess:
    """One bot process; its environment points it at the fake server and a database."""

    def __init__(
        self, fake: FakeTelegram, workdir: Path, database_url: str, profile_to: Path | None = None, **env: str
    ) -> None:
        """`profile_to`: run under harness/profiled.py, profiling between `profile(True)` and `profile(False)`."""
        self.fake = fake
        self.profile_to = profile_to
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

    def start(self, timeout: float = 180.0) -> None:
        """Start and wait until this process has set the public command menu (it is then polling)."""
        # Counted from now: the fake may already hold the menus of bots started before on it.
        before = self._public_menus()
        profiled = ["-m", "harness.profiled", str(self.profile_to)] if self.profile_to else ["-m"]
        with self.stderr_path.open("ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, *profiled, "bot", "run"],
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
            if self._public_menus() > before:
                return
            time.sleep(0.2)
        self.kill()
        raise AssertionError(f"bot did not start in time:\n{self.output()[-3000:]}")

    def _public_menus(self) -> int:
        return len([c for c in self.fake.calls("setMyCommands") if "scope" not in c.params])

    def profile(self, on: bool) -> None:
        """Start profiling (on), or stop it and write the statistics to `profile_to`; only when started so."""
        assert self.process is not None and self.profile_to is not None
        self.process.send_signal(signal.SIGUSR1 if on else signal.SIGUSR2)

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
