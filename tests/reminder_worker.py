"""A separate OS process for the once-only test: waits for the start signal, then runs run_due.

Usage: python -m tests.reminder_worker DATABASE_URL SCHEMA READY_FILE GO_FILE NOW [NOW ...]
(SCHEMA is "-" for SQLite). Prints the dedupe keys it wrote and how many it found written, as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import text

from fupin.db import make_engine, make_session_factory
from fupin.outreach.reminders.schedule import run_due


def main(argv: list[str]) -> int:
    """Run run_due at each NOW once GO_FILE exists."""
    url, schema, ready, go, *moments = argv
    engine = (
        make_engine(url, connect_args={"options": f"-csearch_path={schema}"}) if schema != "-" else make_engine(url)
    )
    sessions = make_session_factory(engine)
    with engine.connect() as connection:  # connected and warmed up before the race starts
        connection.execute(text("SELECT 1"))
    Path(ready).touch()
    deadline = time.monotonic() + 60
    while not Path(go).exists():
        if time.monotonic() > deadline:
            return 2
        time.sleep(0.001)
    written: list[str] = []
    duplicates = 0
    for moment in moments:
        with sessions() as session, session.begin():
            result = run_due(session, datetime.fromisoformat(moment), overview_writer=lambda *_: [])
        written += result.enqueued
        duplicates += result.duplicates
    engine.dispose()
    print(json.dumps({"written": written, "duplicates": duplicates}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
