"""The reminder scheduler inside the bot process: APScheduler on the bot's event loop, run by one process.

Design (why it is built this way):

- **Lease.** Every bot process that calls `start_reminders` runs a small asyncio task around the
  database lease `reminder-scheduler` (`fupin.outreach.leases`). The holder renews it every third of its
  lifetime; only the holder starts an `AsyncIOScheduler`. The others try again at the same pace and
  take over once the lease has expired (holder crashed) or was released (holder stopped). A holder
  whose renewal fails shuts its scheduler down at once.
- **Job store.** A persistent `SQLAlchemyJobStore` in the project's database (table
  `SCHEDULER_JOB_TABLE`, default `scheduler_jobs`, created by APScheduler itself). APScheduler must
  never have two schedulers on one job store, so only the lease holder opens it: it is created when
  the lease is won and shut down when it is lost or released. The lease cannot rule out every overlap
  (a holder frozen longer than its lease wakes up with its scheduler still running for up to one
  renewal period), which is why the once-only rule does not depend on it (next point).
- **Once-only.** Jobs only call `fupin.outreach.reminders.schedule.run_due`, which writes each reminder to the outbox
  under a unique dedupe key before anything is sent; a second run, a second process or an overlap
  finds the key taken and writes nothing.
- **Jobs.** Added at every start with explicit ids and `replace_existing=True`: `reminders.tick`
  every `REMINDER_CHECK_SECONDS`, and `reminders.catch-up` once at start (it also logs what was missed
  while no process held the lease). Both run `run_due_job`, a module-level function the store keeps
  as the reference "bot.scheduler:run_due_job" with plain numbers as arguments: it builds its engine
  from `Settings.from_env()` — the environment the entry point read — so no live object and no secret
  is pickled and no module-level registry is needed. Being a plain function, it runs in the event
  loop's worker threads, off the loop.
- **Privacy.** `privacy.purge` on the 1st of every month at the reminder time runs `privacy_purge_job`:
  conversations and closed orders' buyer phones older than `PRIVACY_RETENTION_MONTHS` go
  (`fupin.maintenance.privacy`); not added when the retention is 0.
- **Orders.** `orders.expire` every hour runs `expire_orders_job`: orders their supply contact has not
  confirmed within `ORDER_CONFIRM_DAYS` expire, their stock goes back and both sides are told
  (`fupin.orders.expiry`; a second run finds nothing left to expire).
- **Catch-up.** `run_due` writes what fell due within the catch-up window (`REMINDER_CATCH_UP_HOURS`)
  and skips (logs) anything older. The jobs match that: `coalesce=True` (a backlog of missed ticks runs
  once; one run covers the whole window) and `misfire_grace_time` equal to the window (a tick late by
  less still runs; a later one would find nothing left to send).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from datetime import timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from fupin.db import make_engine, make_session_factory
from fupin.maintenance.privacy import PurgeResult, months_before, purge_database
from fupin.models import utcnow
from fupin.orders.expiry import expire_unconfirmed
from fupin.orders.rules import OrderRules
from fupin.outreach import leases
from fupin.outreach.reminders.config import ReminderConfig
from fupin.outreach.reminders.occurrences import RunResult
from fupin.outreach.reminders.schedule import run_due
from fupin.settings import TIMEZONE, Settings

logger = logging.getLogger(__name__)

LEASE_NAME = "reminder-scheduler"
TICK_JOB = "reminders.tick"
CATCH_UP_JOB = "reminders.catch-up"
PRIVACY_JOB = "privacy.purge"
ORDER_EXPIRY_JOB = "orders.expire"
ORDER_EXPIRY_INTERVAL = timedelta(hours=1)
# How far back the start-up run looks for reminders missed while no process held the lease (for the log).
STARTUP_LOOKBACK = timedelta(days=7)


def run_due_job(lookback_seconds: float) -> RunResult:
    """Scheduled job: write the reminders due now to the outbox (engine built from the environment)."""
    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            return run_due(
                session,
                utcnow(),
                timedelta(hours=settings.reminder_catch_up_hours),
                config=ReminderConfig.from_settings(settings),
                lookback=timedelta(seconds=lookback_seconds),
            )
    finally:
        engine.dispose()


def privacy_purge_job() -> PurgeResult:
    """Scheduled job: purge personal data older than the retention period (settings from the environment)."""
    settings = Settings.from_env()
    return purge_database(settings, months_before(utcnow(), settings.privacy_retention_months))


def expire_orders_job() -> list[str]:
    """Scheduled job: expire the orders not confirmed in time (settings from the environment)."""
    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            return expire_unconfirmed(session, utcnow(), OrderRules.from_settings(settings))
    finally:
        engine.dispose()


def _jobstore_engine(database_url: str) -> Engine:
    # APScheduler 3.9 calls Engine.execute, which the project's 2.0-style engines do not have.
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return create_engine(url, connect_args={"timeout": 30})
    return create_engine(url, pool_pre_ping=True)


class ReminderService:
    """Holds (or waits for) the scheduler lease and runs the reminder scheduler while holding it."""

    def __init__(self, settings: Settings, session_factory: sessionmaker[Session], holder: str | None = None) -> None:
        self.settings = settings
        self.sessions = session_factory
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.ttl = timedelta(seconds=settings.reminder_lease_seconds)
        self.catch_up = timedelta(hours=settings.reminder_catch_up_hours)
        self._scheduler: AsyncIOScheduler | None = None
        self._task: asyncio.Task[None] | None = None
        self._held = False
        if Settings.from_env().database_url != settings.database_url:
            logger.warning("reminder jobs read DATABASE_URL from the environment, which differs from these settings")

    @property
    def is_leader(self) -> bool:
        """True while this process holds the lease and runs the scheduler."""
        return self._scheduler is not None

    @property
    def scheduler(self) -> AsyncIOScheduler | None:
        """The running scheduler (only in the lease holder)."""
        return self._scheduler

    async def start(self) -> None:
        """Try for the lease now (a single process starts at once), then keep holding or waiting."""
        if not self.settings.reminders_enabled:
            logger.info("reminders are turned off (REMINDERS_ENABLED=0)")
            return
        await self._hold_or_wait()
        self._task = asyncio.create_task(self._lease_loop(), name="reminder-lease")

    async def stop(self) -> None:
        """Stop the scheduler and hand the lease over at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._stop_scheduler()
        if self._held:
            self._held = False
            try:
                await asyncio.to_thread(self._release)
            except SQLAlchemyError:
                logger.warning("could not release the reminder lease; it expires by itself", exc_info=True)

    async def _lease_loop(self) -> None:
        while True:
            await asyncio.sleep(self.ttl.total_seconds() / 3)
            await self._hold_or_wait()

    async def _hold_or_wait(self) -> None:
        try:
            held = await asyncio.to_thread(self._acquire)
        except SQLAlchemyError:
            logger.warning("reminder lease check failed", exc_info=True)
            held = False
        self._held = held
        if held and self._scheduler is None:
            logger.info("%s holds the reminder lease: starting the scheduler", self.holder)
            try:
                self._start_scheduler()
            except SQLAlchemyError:
                # The job store could not be opened: keep the lease and try again on the next round.
                logger.warning("could not start the reminder scheduler", exc_info=True)
        elif not held and self._scheduler is not None:
            logger.warning("%s lost the reminder lease: stopping the scheduler", self.holder)
            self._stop_scheduler()

    def _acquire(self) -> bool:
        with self.sessions() as session, session.begin():
            return leases.acquire(session, LEASE_NAME, self.holder, self.ttl)

    def _release(self) -> None:
        with self.sessions() as session, session.begin():
            leases.release(session, LEASE_NAME, self.holder)

    def _start_scheduler(self) -> None:
        interval = self.settings.reminder_check_seconds
        engine = _jobstore_engine(self.settings.database_url)
        store = SQLAlchemyJobStore(engine=engine, tablename=self.settings.scheduler_job_table)
        scheduler = AsyncIOScheduler(
            event_loop=asyncio.get_running_loop(),
            timezone=TIMEZONE,
            jobstores={"default": store},
            job_defaults={
                "coalesce": True,
                "misfire_grace_time": int(self.catch_up.total_seconds()),
                "max_instances": 1,
            },
        )
        scheduler.add_job(
            run_due_job,
            IntervalTrigger(seconds=interval, timezone=TIMEZONE),
            id=TICK_JOB,
            name="检查并写入到期提醒",
            kwargs={"lookback_seconds": 2 * interval},  # log a skip once, as it leaves the window
            replace_existing=True,
        )
        scheduler.add_job(
            run_due_job,
            DateTrigger(run_date=utcnow(), timezone=TIMEZONE),
            id=CATCH_UP_JOB,
            name="启动时补发提醒",
            kwargs={"lookback_seconds": STARTUP_LOOKBACK.total_seconds()},
            replace_existing=True,
        )
        if self.settings.privacy_retention_months > 0:
            reminder_time = self.settings.reminder_time
            scheduler.add_job(
                privacy_purge_job,
                CronTrigger(day=1, hour=reminder_time.hour, minute=reminder_time.minute, timezone=TIMEZONE),
                id=PRIVACY_JOB,
                name="清除超过保存期限的个人信息",
                replace_existing=True,
            )
        scheduler.add_job(
            expire_orders_job,
            IntervalTrigger(seconds=ORDER_EXPIRY_INTERVAL.total_seconds(), timezone=TIMEZONE),
            id=ORDER_EXPIRY_JOB,
            name="过期未确认的订单",
            replace_existing=True,
        )
        try:
            scheduler.start()
        except SQLAlchemyError:
            engine.dispose()
            raise
        self._scheduler = scheduler

    def _stop_scheduler(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)  # also shuts the job store and its engine down
            self._scheduler = None


async def start_reminders(settings: Settings, session_factory: sessionmaker[Session]) -> ReminderService:
    """Start the reminder service in the running event loop (call from the front-end's post_init)."""
    service = ReminderService(settings, session_factory)
    await service.start()
    return service


async def stop(service: ReminderService) -> None:
    """Stop a service from `start_reminders` (call from the front-end's post_shutdown)."""
    await service.stop()
