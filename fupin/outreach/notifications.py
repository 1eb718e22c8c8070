"""Pushes to users (an outbox): written in the transaction that causes them, delivered by a front-end.

The dialogue and the scheduler only write rows here; the Telegram front-end claims and sends them.
A push is written in the same transaction as the order (or reminder) it tells about, so it is never
lost and never sent for something that was rolled back. Delivery is at least once per claim, and a
push that cannot be delivered (user blocked the bot, never started it) is marked undelivered after a
bounded number of attempts, never retried forever.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fupin.models import Notification, User, utcnow

logger = logging.getLogger(__name__)

# Channels whose users can receive pushes (a console user reads their orders by asking).
PUSH_CHANNELS = frozenset({"telegram"})
# An attachment that is a photo the channel already holds (a Telegram file id), not a file on disk.
PHOTO_PREFIX = "photo:"


def photo_attachment(file_id: str) -> str:
    """An attachment naming a photo the channel already holds (a complaint's evidence)."""
    return f"{PHOTO_PREFIX}{file_id}"


PENDING = "pending"
SENT = "sent"
UNDELIVERED = "undelivered"  # the recipient cannot be reached (blocked the bot, never started it)
FAILED = "failed"  # gave up after MAX_ATTEMPTS transient errors

MAX_ATTEMPTS = 5
CLAIM_SECONDS = 60  # a claimed push not marked within this time is claimed again (sender crashed)

Button = tuple[str, str]  # (title, payload the dialogue understands)


@dataclass(frozen=True)
class Push:
    """A claimed push, ready to send."""

    id: int
    channel: str
    external_id: str
    kind: str
    text: str
    buttons: list[Button]
    attachments: list[str]
    attempts: int


def enqueue(
    session: Session,
    user: User,
    kind: str,
    text: str,
    buttons: Sequence[Button] = (),
    attachments: Sequence[str] = (),
    dedupe_key: str | None = None,
) -> bool:
    """Add a push to a user in the caller's transaction; False when `dedupe_key` was already used."""
    row = Notification(
        user_id=user.id,
        channel=user.channel,
        kind=kind,
        text=text,
        buttons=json.dumps([list(b) for b in buttons], ensure_ascii=False),
        attachments=json.dumps(list(attachments), ensure_ascii=False),
        dedupe_key=dedupe_key,
        status=PENDING,
        attempts=0,
        last_error="",
        not_before=utcnow(),
    )
    if dedupe_key is None:
        session.add(row)
        session.flush()
        return True
    try:
        # A savepoint: a duplicate key must not spoil the caller's transaction.
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        logger.info("push %s already written, not again", dedupe_key)
        return False
    return True


def claim(session: Session, channel: str, limit: int = 20, now: datetime | None = None) -> list[Push]:
    """Claim due pushes of a channel for sending; each is claimed by one sender at a time.

    The caller commits right after, so other senders (another bot worker) skip what this one took.
    """
    now = now or utcnow()
    candidates = list(
        session.execute(
            select(Notification.id, User.external_id)
            .join(User, User.id == Notification.user_id)
            .where(
                Notification.channel == channel,
                Notification.status == PENDING,
                Notification.not_before <= now,
                or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
            )
            .order_by(Notification.id)
            .limit(limit)
        ).all()
    )
    claimed: list[Push] = []
    for push_id, external_id in candidates:
        # Conditional UPDATE: if another sender claimed it a moment ago, this one matches no row.
        taken = session.execute(
            update(Notification)
            .where(
                Notification.id == push_id,
                Notification.status == PENDING,
                or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
            )
            .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS), attempts=Notification.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            continue
        row = session.get(Notification, push_id, populate_existing=True)
        assert row is not None
        claimed.append(
            Push(
                id=row.id,
                channel=row.channel,
                external_id=external_id,
                kind=row.kind,
                text=row.text,
                buttons=[(str(t), str(p)) for t, p in json.loads(row.buttons)],
                attachments=[str(a) for a in json.loads(row.attachments)],
                attempts=row.attempts,
            )
        )
    return claimed


def mark_sent(session: Session, push_id: int) -> None:
    """The push reached the user."""
    session.execute(
        update(Notification)
        .where(Notification.id == push_id)
        .values(status=SENT, sent_at=utcnow(), claimed_until=None)
        .execution_options(synchronize_session=False)
    )


def mark_undelivered(session: Session, push_id: int, reason: str) -> None:
    """The user cannot be reached (blocked the bot, never started it): recorded, not retried."""
    logger.info("push %d undelivered: %s", push_id, reason)
    session.execute(
        update(Notification)
        .where(Notification.id == push_id)
        .values(status=UNDELIVERED, last_error=reason[:500], claimed_until=None)
        .execution_options(synchronize_session=False)
    )


def mark_retry(session: Session, push: Push, reason: str, delay_seconds: float) -> None:
    """A transient failure: try again later, or give up after MAX_ATTEMPTS."""
    give_up = push.attempts >= MAX_ATTEMPTS
    if give_up:
        logger.warning("push %d failed %d times, giving up: %s", push.id, push.attempts, reason)
    session.execute(
        update(Notification)
        .where(Notification.id == push.id)
        .values(
            status=FAILED if give_up else PENDING,
            last_error=reason[:500],
            claimed_until=None,
            not_before=utcnow() + timedelta(seconds=delay_seconds),
        )
        .execution_options(synchronize_session=False)
    )
