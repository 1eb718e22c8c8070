"""Writing reminders to the push outbox, once per dedupe key."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.models import Notification, User
from fupin.outreach.notifications import enqueue
from fupin.outreach.reminders.config import OverviewWriter, ReminderConfig
from fupin.outreach.reminders.occurrences import Occurrence
from fupin.outreach.reminders.registry import reminder_for


def existing_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """The dedupe keys among `keys` already in the outbox."""
    wanted = sorted(set(keys))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):  # bounded IN lists
        chunk = wanted[start : start + 500]
        found.update(session.scalars(select(Notification.dedupe_key).where(Notification.dedupe_key.in_(chunk))))
    return found


def write_occurrence(
    session: Session, occurrence: Occurrence, config: ReminderConfig, writer: OverviewWriter, now: datetime
) -> tuple[list[str], int]:
    """Write the occurrence's pushes not yet in the outbox; the keys written, and how many were already there."""
    # Checked first so that the overview files are written only when someone still needs them;
    # the unique dedupe key still decides when two processes race past this check.
    sent = existing_keys(session, (occurrence.key(r.user_id) for r in occurrence.recipients))
    pending = [r for r in occurrence.recipients if occurrence.key(r.user_id) not in sent]
    repeated = len(occurrence.recipients) - len(pending)
    if not pending:
        return [], repeated
    reminder = reminder_for(occurrence.kind)
    attached = reminder.attachments(session, occurrence, config, writer, now)
    written = []
    for recipient in pending:
        user = session.get(User, recipient.user_id)
        key = occurrence.key(recipient.user_id)
        if user is not None and enqueue(
            session,
            user,
            occurrence.kind.value,
            reminder.message(occurrence, recipient, config),
            attachments=list(attached.paths),
            dedupe_key=key,
        ):
            written.append(key)
        else:
            repeated += 1
    if attached.folder is not None and not written:
        shutil.rmtree(attached.folder, ignore_errors=True)  # another process attached its own files
    return written, repeated
