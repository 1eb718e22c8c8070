"""Read-backs waiting for a yes (order, stock change, sale, vocabulary change): each has a key and a time shown.

The key makes a confirmation count once (a double press, or the same confirmation again after a crash
that lost the answer); the time lets an old read-back be refused instead of applied days later.
"""

from __future__ import annotations

import enum
import secrets
from datetime import datetime, timedelta
from typing import Any

from rasa_sdk import Tracker

from fupin.models import utcnow


class ReadBackKind(str, enum.Enum):
    """What a read-back in the `pending` slot would apply."""

    ORDER = "order"
    STOCK = "stock"
    SALE = "sale"
    VOCABULARY = "vocabulary"
    COMPLAINT = "complaint"
    HARVEST = "harvest"  # a 预售 listing's real harvest (actions/offers.py)
    ADOPTION = "adoption_update"  # a progress update to a 认养 listing's adopters (actions/offers.py)


class Freshness(enum.Enum):
    """Whether a read-back may still be confirmed."""

    FRESH = "fresh"
    EXPIRED = "expired"  # older than READBACK_TTL_MINUTES: read back afresh
    OLD_SESSION = "old_session"  # shown before the conversation's current session: dropped


def read_back_slot(kind: ReadBackKind, tracker: Tracker, **data: Any) -> dict[str, Any]:
    """The `pending` slot's value for a read-back shown now, with a new random key and the session it is in."""
    return {
        "kind": kind.value,
        "key": secrets.token_hex(16),
        "shown_at": utcnow().isoformat(),
        "session": _session_start(tracker),
        **data,
    }


def _session_start(tracker: Tracker) -> float | None:
    # The conversation's session is named by when it started: slots carried over keep the old name.
    starts = [e.get("timestamp") for e in tracker.events if e.get("event") == "session_started"]
    stamps = [float(s) for s in starts if isinstance(s, (int, float))]
    return max(stamps) if stamps else None


def freshness(pending: dict[str, Any], tracker: Tracker, ttl: timedelta, now: datetime | None = None) -> Freshness:
    """How a read-back stands: fresh, expired, or left from an earlier session (no time counts as expired)."""
    try:
        shown = datetime.fromisoformat(str(pending.get("shown_at")))
    except ValueError:
        return Freshness.EXPIRED  # written before read-backs had a time
    if pending.get("session") != _session_start(tracker):
        return Freshness.OLD_SESSION
    return Freshness.FRESH if (now or utcnow()) - shown <= ttl else Freshness.EXPIRED
