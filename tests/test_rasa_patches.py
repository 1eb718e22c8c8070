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


# --- applied events, walked from where the last call left off -----------------------------------------

LOOPS = ("order_form", "stock_form")
EVENT_KINDS = st.one_of(
    st.sampled_from(["action_listen", "order_form", "stock_form", "utter_ask", "action_search"]).map(
        lambda name: rasa_events.ActionExecuted(name)
    ),
    st.sampled_from([*LOOPS, None]).map(rasa_events.ActiveLoop),
    st.sampled_from(LOOPS).map(rasa_events.ActionExecutionRejected),
    st.just(None).map(lambda _: rasa_events.UserUttered("好", {"name": "affirm", "confidence": 1.0})),
    st.integers(0, 3).map(lambda value: rasa_events.SlotSet("quantity", value)),
    st.just(None).map(lambda _: rasa_events.BotUttered("好的")),
    st.sampled_from(
        [
            rasa_events.Restarted,
            rasa_events.SessionStarted,
            rasa_events.ActionReverted,
            rasa_events.UserUtteranceReverted,
            lambda: rasa_events.DefinePrevUserUtteredFeaturization(False),
        ]
    ).map(lambda make: make()),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(EVENT_KINDS, min_size=1, max_size=6), min_size=1, max_size=8))
def test_applied_events_step_by_step_are_rasas(batches: list[list[rasa_events.Event]]) -> None:
    from rasa.shared.core.slots import AnySlot
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.dialogue import applied_events

    applied_events.install()
    (rasas,) = applied_events.RASA_APPLIED_EVENTS
    tracker = DialogueStateTracker("s", [AnySlot("quantity", [])])
    for batch in batches:  # a turn's events, then the applied events asked for, as Rasa does
        for event in batch:
            tracker.update(event)
        expected = rasas(tracker)
        assert [id(e) for e in tracker.applied_events()] == [id(e) for e in expected]
        assert [id(e) for e in tracker.applied_events()] == [id(e) for e in expected]  # asked again
        fresh = DialogueStateTracker.from_events("s", list(tracker.events), [AnySlot("quantity", [])])
        assert [id(e) for e in fresh.applied_events()] == [id(e) for e in rasas(fresh)]


# One model load per process: a second agent loaded in the same process parses a little differently
# whichever way it is loaded (jieba's and TensorFlow's process-wide state), so each way gets its own.
_PARSE_ALL = """
import asyncio, json, sys
from rasa.core.agent import Agent
from bot.dialogue import rasa_patches
if sys.argv[1] == "patched":
    rasa_patches.load_models_for_inference_without_a_training_step()
texts = json.loads(open(sys.argv[3], encoding="utf-8").read())
agent = Agent.load(sys.argv[2])
async def run():
    return [await agent.parse_message(text) for text in texts]
result = [[p["intent_ranking"], [[e["entity"], e["start"], e["end"], e.get("value")] for e in p["entities"]]]
          for p in asyncio.run(run())]
# To a file, not stdout: a library's stray print from another thread must not land inside the JSON.
open(sys.argv[4], "w", encoding="utf-8").write(json.dumps(result, ensure_ascii=False))
"""


@pytest.mark.process
def test_a_model_loaded_without_the_training_step_predicts_exactly_as_rasas_load(sqlite_db: Any, tmp_path: Any) -> None:
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from nlu.evaluate import load_examples

    root = Path(__file__).parents[1]
    texts = [text for text, _, _ in load_examples(root / "tests" / "nlu" / "holdout_fresh.yml")][::3]
    env = {**os.environ, "PYTHONPATH": str(root), "DATABASE_URL": sqlite_db.url}  # for the catalogue matcher

    inputs = tmp_path / "texts.json"
    inputs.write_text(json.dumps(texts), encoding="utf-8")

    def start(way: str) -> subprocess.Popen[str]:
        model, out = str(root / "models" / "fupin.tar.gz"), str(tmp_path / f"{way}.json")
        command = [sys.executable, "-c", _PARSE_ALL, way, model, str(inputs), out]
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, text=True, env=env, cwd=root)

    def parses(process: subprocess.Popen[str], way: str) -> Any:
        process.wait(timeout=300)
        assert process.returncode == 0
        return json.loads((tmp_path / f"{way}.json").read_text(encoding="utf-8"))

    both = start("patched"), start("rasa")  # side by side: two loads, one wait
    patched, rasas = parses(both[0], "patched"), parses(both[1], "rasa")
    assert len(patched) == len(texts) > 100
    assert patched == rasas
