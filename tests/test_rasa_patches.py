"""The replacements of Rasa's internals (bot/dialogue/rasa_patches.py) accept and refuse exactly what Rasa does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.core import events as rasa_events

from bot.dialogue.rasa_patches import ActionResultCheck, validate_action_results_with_a_built_validator

SCHEMA = RemoteAction.action_response_format_spec()
CHECK = ActionResultCheck(SCHEMA)
WHOLE = validator_for(SCHEMA)(SCHEMA)  # what jsonschema.validate(result, SCHEMA) decides, built once

EVERY_EVENT = [
    rasa_events.UserUttered(
        "哪里有土豆",
        {"name": "search_product", "confidence": 0.9},
        [{"entity": "product", "value": "土豆", "start": 3, "end": 5, "confidence": 1.0, "extractor": "x"}],
        {"text": "哪里有土豆", "intent_ranking": [{"name": "search_product", "confidence": 0.9}]},
    ),
    rasa_events.BotUttered("您好", {"buttons": [{"title": "订购1", "payload": "/order"}]}),
    rasa_events.SlotSet("product", "土豆"),
    rasa_events.SlotSet("quantity", None),
    rasa_events.ActionExecuted("action_search", policy="RulePolicy", confidence=1.0),
    rasa_events.ActiveLoop("order_form"),
    rasa_events.ActiveLoop(None),
    rasa_events.FollowupAction("action_listen"),
    rasa_events.SessionStarted(),
    rasa_events.Restarted(),
    rasa_events.AllSlotsReset(),
    rasa_events.ReminderScheduled("intent", datetime(2026, 1, 1)),
    rasa_events.ReminderCancelled(),
    rasa_events.ActionReverted(),
    rasa_events.UserUtteranceReverted(),
    rasa_events.ConversationPaused(),
    rasa_events.ConversationResumed(),
    rasa_events.StoryExported(),
    rasa_events.LoopInterrupted(True),
    rasa_events.ActionExecutionRejected("action_x"),
    rasa_events.EntitiesAdded([{"entity": "product", "value": "土豆"}]),
    rasa_events.DefinePrevUserUtteredFeaturization(False),
    rasa_events.AgentUttered("x"),
]

BROKEN = [
    {"events": "not a list"},
    {"events": [{"event": "slot"}]},  # no name, no value
    {"events": [{"event": "slot", "name": 3, "value": 1}]},
    {"events": [{"event": "no such event"}]},
    {"events": [{"name": "x"}]},  # no event
    {"events": ["slot"]},
    {"events": [{"event": "bot", "timestamp": "yesterday"}]},
    {"events": [{"event": "user", "parse_data": {"entities": [{"entity": "product"}]}}]},  # no value
    {"events": [{"event": "user", "parse_data": {"intent": {"name": 7}}}]},
    {"events": [{"event": "entities", "entities": "土豆"}]},
    {"events": [], "responses": ["text"]},
    {"events": [{"event": "action", "confidence": "high"}]},
    [],
]


def _whole(result: Any) -> bool:
    return bool(WHOLE.is_valid(result))


@pytest.mark.parametrize("event", EVERY_EVENT, ids=lambda e: type(e).__name__)
def test_every_kind_of_event_rasa_makes_is_accepted(event: rasa_events.Event) -> None:
    result = {"events": [event.as_dict()], "responses": [{"text": "好的"}]}
    assert _whole(result) and CHECK.accepts(result)


@pytest.mark.parametrize("result", BROKEN)
def test_broken_answers_are_refused_as_rasa_refuses_them(result: Any) -> None:
    assert not _whole(result) and not CHECK.accepts(result)


KEYS = st.sampled_from(["event", "name", "value", "timestamp", "entities", "parse_data", "metadata", "confidence"])
LEAVES = st.one_of(
    st.none(),
    st.integers(-2, 2),
    st.floats(allow_nan=False, width=16),
    st.sampled_from(["slot", "user", "bot", "action", "entities", "active_loop", "x", ""]),
    st.booleans(),
)
VALUES = st.recursive(
    LEAVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3), max_leaves=8
)
EVENTS = st.dictionaries(KEYS, VALUES, max_size=5) | VALUES


@settings(max_examples=300, deadline=None)
@given(st.lists(EVENTS, max_size=3), st.sampled_from([None, [], [{"text": "好"}], ["x"], "x"]))
def test_random_answers_get_the_same_verdict_as_the_whole_schema(events: list[Any], responses: Any) -> None:
    result: dict[str, Any] = {"events": events}
    if responses is not None:
        result["responses"] = responses
    assert CHECK.accepts(result) == _whole(result)


def test_rasa_gets_the_check_and_still_raises_its_error_on_a_broken_answer() -> None:
    validate_action_results_with_a_built_validator()
    action = RemoteAction("action_test", None)
    assert action._validate_action_result({"events": [EVERY_EVENT[2].as_dict()], "responses": []})
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": [{"event": "slot"}]})
