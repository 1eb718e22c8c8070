"""Rasa's SQL tracker store, reading and writing its `events` table with SQLAlchemy Core.

Same table, same rows, same semantics as `rasa.core.tracker_store.SQLTrackerStore` (a tracker is the
events of the sender's latest session, in id order; a save appends the events the table lacks), so a
database written by one can be read by the other. Rasa's own store builds an ORM object for every row it
reads and every row it writes, and rebuilds every event of the conversation on each turn: a fifth of a
whole turn's CPU under load (bench/load_bench.py).

Here rows are read and written with Core, and the tracker a turn saved is kept in memory: the next turn of
that sender takes it back without reading and rebuilding its events when the table still holds exactly
what was saved (same number of rows in the latest session, same last id), which one indexed query tells.
Another worker's turn, a new session or a failed turn changes that, and the tracker is read afresh.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from rasa.shared.utils.common import all_subclasses
from sqlalchemy import Table, bindparam, func, insert, or_, select
from sqlalchemy.sql import Select

logger = logging.getLogger(__name__)


@functools.cache
def _event_classes() -> dict[str, type[Event]]:
    """Rasa's event classes by type name, the first of each name winning as in `Event.resolve_by_type`."""
    classes: dict[str, type[Event]] = {}
    for cls in all_subclasses(Event):
        classes.setdefault(cls.type_name, cls)
    return classes


def deserialise_events(serialised: list[dict[str, Any]]) -> list[Event]:
    """Events from their dicts, as `rasa.shared.core.events.deserialise_events` makes them.

    Rasa looks each event's class up by walking every subclass of Event, for every event: most of the time
    of rebuilding a tracker. The classes are looked up in a table made once; a name not in it goes to
    Rasa's own lookup (which knows the old aliases and raises on unknown names).
    """
    classes = _event_classes()
    events = []
    for data in serialised:
        name = data.get("event")
        if name is None:
            continue
        cls = classes.get(name)
        event = cls._from_parameters(data) if cls is not None else Event.from_parameters(data)
        if event is not None:
            events.append(event)
    return events


# Conversations whose last saved tracker is kept; older ones are read from the table again.
CACHED_TRACKERS = 1000


@dataclass
class _Saved:
    """A saved tracker and what the table held right after the save."""

    tracker: DialogueStateTracker
    rows: int  # events of the latest session
    last_id: int


class CoreSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store without the ORM on the hot path, keeping the trackers it saved."""

    @functools.cached_property
    def _statements(self) -> dict[str, Select]:
        # Built once: SQLAlchemy then reuses their compiled form (building one costs more than running it).
        events = self._events_table
        sender = bindparam("sender_id")
        return {
            "rows_and_id": self._latest_session([func.count(), func.max(events.c.id)], sender),
            "latest": self._latest_session([events.c.data], sender).order_by(events.c.id),
            "all": select(events.c.data).where(events.c.sender_id == sender).order_by(events.c.id),
        }

    # Made on first use, so that Rasa's __init__ (which connects, and retries) is left as it is.
    @functools.cached_property
    def _saved(self) -> OrderedDict[str, _Saved]:
        return OrderedDict()

    @functools.cached_property
    def _stored_rows(self) -> dict[str, int]:
        # sender → rows of the latest session when its tracker was handed out
        return {}

    @property
    def _events_table(self) -> Table:
        return SQLTrackerStore.SQLEvent.__table__  # type: ignore[return-value]

    def _latest_session(self, columns: list[Any], sender_id: Any) -> Select:
        """Rows of the sender's events from the latest SessionStarted on (all of them before the first)."""
        events = self._events_table
        session_start = (
            select(func.max(events.c.timestamp).label("session_start"))
            .where(events.c.sender_id == sender_id, events.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        return select(*columns).where(
            events.c.sender_id == sender_id,
            or_(events.c.timestamp >= session_start, session_start.is_(None)),
        )

    def _latest_rows_and_id(self, connection: Any, sender_id: str) -> tuple[int, int | None]:
        """How many events the sender's latest session has in the table, and the last one's id."""
        count, last_id = connection.execute(self._statements["rows_and_id"], {"sender_id": sender_id}).one()
        return int(count), last_id

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        """The sender's tracker from its stored events (the latest session's unless all are asked for)."""
        saved, stored_rows = self._saved, self._stored_rows
        sender = {"sender_id": sender_id}
        with self.engine.connect() as connection:
            if fetch_events_from_all_sessions:
                rows = connection.execute(self._statements["all"], sender).scalars().all()
            else:
                # Handed out at most once: the turn mutates it, and only its save puts it back.
                kept = saved.pop(sender_id, None)
                if kept is not None:
                    count, last_id = self._latest_rows_and_id(connection, sender_id)
                    if (kept.rows, kept.last_id, len(kept.tracker.events)) == (count, last_id, count):
                        stored_rows[sender_id] = count
                        return kept.tracker
                rows = connection.execute(self._statements["latest"], sender).scalars().all()
                stored_rows[sender_id] = len(rows)
        if not (self.domain and rows):
            return None
        events = deserialise_events([json.loads(data) for data in rows])
        return DialogueStateTracker.from_events(sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the tracker's events that the table does not hold yet, in one transaction."""
        await self.stream_events(tracker)
        saved = self._saved
        sender_id = tracker.sender_id
        with self.engine.begin() as connection:
            stored = self._stored_rows.pop(sender_id, None)
            if stored is None:  # not handed out by retrieve (Rasa saving a tracker of its own making)
                stored, _ = self._latest_rows_and_id(connection, sender_id)
            rows = []
            for event in itertools.islice(tracker.events, stored, None):
                data = event.as_dict()
                rows.append(
                    {
                        "sender_id": sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            if rows:
                connection.execute(insert(self._events_table), rows)
            count, last_id = self._latest_rows_and_id(connection, sender_id)
        saved.pop(sender_id, None)
        if last_id is not None and count == len(tracker.events):
            saved[sender_id] = _Saved(tracker, count, last_id)
            while len(saved) > CACHED_TRACKERS:
                saved.popitem(last=False)
