"""The reminders of the coming days with their recipients (`upcoming`), and writing the due ones (`run_due`)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from functools import partial

from sqlalchemy.orm import Session

from fupin.models import utcnow
from fupin.outreach.reminders.audience import Audience
from fupin.outreach.reminders.calendar import calendar
from fupin.outreach.reminders.config import (
    DEFAULT_CATCH_UP,
    DEFAULT_LOOKBACK,
    OverviewWriter,
    ReminderConfig,
)
from fupin.outreach.reminders.occurrences import Occurrence, RunResult
from fupin.outreach.reminders.outbox import existing_keys, write_occurrence
from fupin.outreach.reminders.registry import reminder_for
from fupin.reporting.overview_workbook import write_overview
from fupin.settings import TIMEZONE

logger = logging.getLogger(__name__)


def resolve(audience: Audience, occurrence: Occurrence, as_of: datetime | None = None) -> Occurrence:
    """The occurrence with its recipients as of `as_of` (default: its due time, or now when later)."""
    reference = as_of or max(occurrence.due, audience.now)
    recipients = reminder_for(occurrence.kind).recipients(audience, occurrence, reference)
    return replace(occurrence, recipients=tuple(sorted(recipients, key=lambda r: r.user_id)))


def upcoming(
    session: Session, start: date, days: int, config: ReminderConfig | None = None, now: datetime | None = None
) -> list[Occurrence]:
    """The reminders of `days` days from `start` and whom they would go to, as the data stand now."""
    # Recipients already in the outbox are left out; daily and weekly checks are listed only when
    # someone would get them, the plan's dated reminders always.
    config = config or ReminderConfig()
    now = now or utcnow()
    end = start + timedelta(days=days)
    audience = Audience(session, config, now, datetime.combine(end, time.min, tzinfo=TIMEZONE))
    resolved = [resolve(audience, slot) for slot in calendar(start, end, config)]
    seen = existing_keys(session, (o.key(r.user_id) for o in resolved for r in o.recipients))
    listed = []
    for occurrence in resolved:
        fresh = [r for r in occurrence.recipients if occurrence.key(r.user_id) not in seen]
        seen.update(occurrence.key(r.user_id) for r in fresh)  # a month's or week's key is used once
        if fresh or reminder_for(occurrence.kind).dated:
            listed.append(replace(occurrence, recipients=tuple(fresh)))
    return listed


def run_due(
    session: Session,
    now: datetime,
    catch_up: timedelta = DEFAULT_CATCH_UP,
    *,
    config: ReminderConfig | None = None,
    lookback: timedelta = DEFAULT_LOOKBACK,
    overview_writer: OverviewWriter | None = None,
) -> RunResult:
    """Write every reminder due in (now - catch_up, now] to the outbox, once; the caller commits."""
    # Occurrences due in the `lookback` before that window that never reached some recipient are
    # skipped: logged and returned, never written late.
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one")
    config = config or ReminderConfig()
    writer = overview_writer or partial(write_overview, union_per_member_fen=config.union_budget_per_member_fen)
    horizon = now - catch_up
    first_day = (horizon - lookback).astimezone(TIMEZONE).date()
    last_day = now.astimezone(TIMEZONE).date()
    audience = Audience(session, config, now, now)
    enqueued: list[str] = []
    duplicates = 0
    skipped: list[Occurrence] = []
    due: list[Occurrence] = []
    slots = calendar(first_day, last_day + timedelta(days=1), config)
    for slot in slots:
        if horizon < slot.due <= now:
            occurrence = resolve(audience, slot)
            due.append(occurrence)
            written, repeated = write_occurrence(session, occurrence, config, writer, now)
            enqueued += written
            duplicates += repeated
    # After the writes: a month's or week's reminder written just now was not missed earlier.
    reported: set[str] = set()
    for slot in slots:
        if horizon - lookback < slot.due <= horizon:
            occurrence = resolve(audience, slot, as_of=slot.due)  # who it was for when it fell due
            keys = {r.user_id: occurrence.key(r.user_id) for r in occurrence.recipients}
            sent = existing_keys(session, keys.values()) | reported
            missed = tuple(r for r in occurrence.recipients if keys[r.user_id] not in sent)
            reported.update(keys[r.user_id] for r in missed)  # a daily check missed on several days: once
            if missed:
                logger.warning(
                    "reminder %s %s (offset %d) due %s skipped: missed by %s, more than the catch-up window %s; "
                    "not sent to %d recipients",
                    occurrence.kind,
                    occurrence.period,
                    occurrence.offset,
                    occurrence.due.isoformat(),
                    now - occurrence.due,
                    catch_up,
                    len(missed),
                )
                skipped.append(replace(occurrence, recipients=missed))
    if enqueued:
        logger.info("reminders written: %d (already written: %d)", len(enqueued), duplicates)
    return RunResult(tuple(enqueued), duplicates, tuple(skipped), tuple(due))
