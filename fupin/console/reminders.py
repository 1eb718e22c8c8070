"""Which reminders went out and when, read from the outbox (fupin.outreach.notifications)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.models import Notification, User
from fupin.outreach.notifications import SENT
from fupin.outreach.reminders.kinds import ReminderKind


@dataclass(frozen=True)
class SentReminder:
    """A reminder sent: its kind, to whom, and when."""

    kind: ReminderKind
    recipient: str
    sent_at: datetime


def sent_reminders(session: Session, since: datetime, limit: int = 200) -> list[SentReminder]:
    """Reminders sent since a moment, newest first."""
    rows = session.execute(
        select(Notification, User)
        .join(User, Notification.user_id == User.id)
        .where(
            Notification.status == SENT,
            Notification.kind.in_([k.value for k in ReminderKind]),
            Notification.sent_at >= since,
        )
        .order_by(Notification.sent_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return [
        SentReminder(ReminderKind(n.kind), user.display_name or f"{user.channel}:{user.external_id}", n.sent_at)
        for n, user in rows
        if n.sent_at is not None
    ]
