"""Scheduled reminders of the plan: report deadlines, the quarterly overview, stale catalogues, unpaid orders.

Each kind of reminder (`kinds.ReminderKind`) is one small class — its calendar rule, its audience and
its text — in `registry`. The calendar (`calendar.calendar`) lists occurrences — kind, due time in
Asia/Shanghai, period, offset — from the plan's dates; `schedule.upcoming` adds who each one is for;
`schedule.run_due` writes the due ones to the push outbox (`outbox`, over `fupin.outreach.notifications`).
Every push carries the dedupe key (kind, period, offset, recipient), written in the outbox before
anything is sent, so a reminder goes out at most once whatever restarts, catch-ups after downtime or
second processes do. Knows nothing of Telegram or APScheduler.

Catch-up policy: `run_due(now, catch_up)` writes the occurrences due in (now - catch_up, now]; an
occurrence older than that is not sent any more (a reminder days late misleads more than it helps):
it is logged and returned as skipped.
"""
