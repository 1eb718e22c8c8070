"""The reminder scheduler in a real event loop: the lease holder fires the jobs, another takes over."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlalchemy import MetaData, Table, select, update

from bot.scheduler import CATCH_UP_JOB, LEASE_NAME, ORDER_EXPIRY_JOB, PRIVACY_JOB, TICK_JOB, start_reminders, stop
from fupin.models import Lease, Notification, utcnow
from fupin.outreach.leases import current
from fupin.outreach.reminders.kinds import ReminderKind
from fupin.settings import Settings
from fupin.values import Role
from tests.conftest import Database
from tests.reminder_data import listing, user


@pytest.fixture
def settings(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """Settings of a bot process on the test database, with a short tick and lease."""
    monkeypatch.setenv("DATABASE_URL", sqlite_db.url)
    monkeypatch.setenv("REMINDER_CHECK_SECONDS", "0.2")
    monkeypatch.setenv("REMINDER_LEASE_SECONDS", "0.9")
    monkeypatch.setenv("OVERVIEW_DIR", str(tmp_path / "overviews"))
    return Settings.from_env()


async def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait in the event loop until the condition holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def catalogue_pushes(db: Database) -> list[Notification]:
    """The catalogue reminders in the outbox."""
    with db.sessions() as session:
        return list(session.scalars(select(Notification).where(Notification.kind == ReminderKind.CATALOGUE)))


def stored_jobs(db: Database, settings: Settings) -> dict[str, float]:
    """The job store's rows: job id and next run time (UTC timestamp)."""
    table = Table(settings.scheduler_job_table, MetaData(), autoload_with=db.engine)
    with db.engine.connect() as connection:
        return {row.id: row.next_run_time for row in connection.execute(select(table.c.id, table.c.next_run_time))}


def test_the_lease_holder_fires_the_jobs_and_another_takes_over(sqlite_db: Database, settings: Settings) -> None:
    with sqlite_db.sessions() as session, session.begin():
        user(session, "101", Role.CONTACT, "龙角镇")
        listing(session, "龙角镇", utcnow() - timedelta(days=40))  # today's (or yesterday's) 09:00 check finds it

    async def scenario() -> None:
        first = await start_reminders(settings, sqlite_db.sessions)
        second = await start_reminders(settings, sqlite_db.sessions)
        assert first.is_leader and not second.is_leader and second.scheduler is None
        assert first.scheduler is not None
        runs: list[JobExecutionEvent] = []
        first.scheduler.add_listener(runs.append, EVENT_JOB_EXECUTED)
        await wait_for(lambda: sum(e.job_id == TICK_JOB for e in runs) >= 3)
        assert len(catalogue_pushes(sqlite_db)) == 1  # the catch-up run or the first tick wrote it, once
        tick = first.scheduler.get_job(TICK_JOB)
        assert tick.coalesce and tick.misfire_grace_time == 24 * 3600 and tick.max_instances == 1
        assert set(stored_jobs(sqlite_db, settings)) == {
            TICK_JOB,
            PRIVACY_JOB,
            ORDER_EXPIRY_JOB,
        }  # the one-off catch-up job ran and left
        await stop(first)
        await wait_for(lambda: second.is_leader)
        assert second.scheduler is not None
        taken_over: list[JobExecutionEvent] = []
        second.scheduler.add_listener(taken_over.append, EVENT_JOB_EXECUTED)
        await wait_for(lambda: sum(e.job_id == TICK_JOB for e in taken_over) >= 2)
        assert all(e.exception is None for e in runs + taken_over)
        await stop(second)

    asyncio.run(scenario())
    assert len(catalogue_pushes(sqlite_db)) == 1
    with sqlite_db.sessions() as session:
        assert current(session, LEASE_NAME) is None  # released on stop: a restart need not wait


def test_a_holder_that_loses_the_lease_stops_its_scheduler(sqlite_db: Database, settings: Settings) -> None:
    async def scenario() -> None:
        service = await start_reminders(settings, sqlite_db.sessions)
        assert service.is_leader and service.scheduler is not None
        assert {job.id for job in service.scheduler.get_jobs()} <= {
            TICK_JOB,
            CATCH_UP_JOB,
            PRIVACY_JOB,
            ORDER_EXPIRY_JOB,
        }  # type: ignore[union-attr]
        with sqlite_db.sessions() as session, session.begin():
            session.execute(update(Lease).values(holder="another-host:1", expires_at=utcnow() + timedelta(hours=1)))
        await wait_for(lambda: not service.is_leader)
        await service.stop()

    asyncio.run(scenario())
    with sqlite_db.sessions() as session:
        state = current(session, LEASE_NAME)
        assert state is not None and state.holder == "another-host:1"  # stop() never releases another's lease


def test_reminders_can_be_turned_off(sqlite_db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMINDERS_ENABLED", "0")

    async def scenario() -> None:
        service = await start_reminders(Settings.from_env(), sqlite_db.sessions)
        await asyncio.sleep(0.5)  # something that must not happen: 2.5 ticks of 0.2 s in which no lease is taken
        assert not service.is_leader
        await service.stop()

    asyncio.run(scenario())
    with sqlite_db.sessions() as session:
        assert current(session, LEASE_NAME) is None
