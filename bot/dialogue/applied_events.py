"""A tracker's applied events worked out from where the last call left off, not from the first event each time.

Rasa's `DialogueStateTracker.applied_events()` walks every event of the conversation (with a backwards scan
for each form execution), and a turn asks for it four times or so: before the session check, for each
policy prediction (through the prior trackers) and for the actions' calls. Events are only ever appended
within a session, so here each tracker remembers the events it last saw and what they gave; when those are
still the start of its events, only the new ones are walked, with the same steps as Rasa's own loop
(calling Rasa's own helpers). Anything else (events dropped or replaced, a form name the remembered walk
did not know, which changes how earlier events count) walks everything again, as Rasa does.
"""

from __future__ import annotations

import itertools
import logging
import operator
from collections.abc import Iterable
from typing import Any

logger = logging.getLogger(__name__)

MEMO = "_fupin_applied_events"  # on each tracker: (events seen, loop names, what they gave)


def _loop_names(events: Iterable[Any]) -> frozenset[str]:
    from rasa.shared.core.events import ActiveLoop

    return frozenset(e.name for e in events if isinstance(e, ActiveLoop) and e.name)


def _walk(tracker: Any, events: Iterable[Any], applied: list[Any], loop_names: frozenset[str]) -> None:
    """Rasa 3.6's loop of `applied_events`, over some events, continuing `applied` (changed in place)."""
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        Restarted,
        SessionStarted,
        UserUtteranceReverted,
        UserUttered,
    )

    for event in events:
        if isinstance(event, (Restarted, SessionStarted)):
            applied.clear()
        elif isinstance(event, ActionReverted):
            tracker._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            tracker._undo_till_previous(UserUttered, applied)
            tracker._undo_till_previous(ActionExecuted, applied)
        elif (
            isinstance(event, ActionExecuted)
            and event.action_name in loop_names
            and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
        ):
            tracker._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)


def applied_events(tracker: Any) -> list[Any]:
    """The events that apply (Rasa's `applied_events`), walking only those added since the last call."""
    events = tracker.events
    memo = tracker.__dict__.get(MEMO)
    start, applied, loop_names = 0, [], None
    if memo is not None:
        seen, names, done = memo
        count = len(seen)
        if (
            len(events) >= count
            and all(map(operator.is_, seen, itertools.islice(events, count)))
            and _loop_names(itertools.islice(events, count, None)) <= names
        ):
            start, applied, loop_names = count, list(done), names
    if loop_names is None:
        loop_names = _loop_names(events)
    _walk(tracker, itertools.islice(events, start, None), applied, loop_names)
    # The events themselves are kept (not their ids), so an id can never be reused for another event.
    tracker.__dict__[MEMO] = (tuple(events), loop_names, tuple(applied))
    return applied


RASA_APPLIED_EVENTS: list[Any] = []  # Rasa's own method, once replaced (for the tests' comparison)


def install() -> None:
    """Make every tracker work out its applied events this way (idempotent)."""
    from rasa.shared.core.trackers import DialogueStateTracker

    if DialogueStateTracker.applied_events is not applied_events:
        RASA_APPLIED_EVENTS.append(DialogueStateTracker.applied_events)
        DialogueStateTracker.applied_events = applied_events  # type: ignore[method-assign,assignment]
