"""The dialogue's plumbing made fast under load: the Core tracker store with its kept trackers, payloads
parsed without the NLU models, and one pooled connection set to a separate action server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from actions.common import button
from bot.dialogue.endpoint import pooled_endpoint
from bot.dialogue.stores import tracker_store_for
from bot.dialogue.tracker_store import CoreSQLTrackerStore
from fupin.settings import PROJECT_ROOT, Settings
from tests.e2e import Bot

SENDER = "telegram:555"


@pytest.fixture(scope="module")
def domain() -> Domain:
    """The project's domain (its slots are what trackers are rebuilt with)."""
    return Domain.load(str(PROJECT_ROOT / "domain"))


def store_on(url: str, domain: Domain) -> CoreSQLTrackerStore:
    """A tracker store on a database, as a worker makes it."""
    store = tracker_store_for(Settings(database_url=url))
    assert isinstance(store, CoreSQLTrackerStore)
    store.domain = domain
    return store


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'trackers.db'}"


def run(coroutine: Any) -> Any:
    """Run a coroutine to completion."""
    return asyncio.run(coroutine)


def said(text: str, intent: str = "greet") -> UserUttered:
    """A user message event."""
    return UserUttered(text, {"name": intent, "confidence": 1.0})


def turn(store: CoreSQLTrackerStore, text: str) -> DialogueStateTracker:
    """One turn as Rasa's processor does it: retrieve (or start), add events, save."""

    async def go() -> DialogueStateTracker:
        tracker = await store.get_or_create_tracker(SENDER)
        tracker.update(said(text))
        tracker.update(ActionExecuted("utter_greet"))
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)
        return tracker

    return run(go())


def texts_of(tracker: DialogueStateTracker | None) -> list[str]:
    """The user texts of a tracker."""
    assert tracker is not None
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


def test_the_same_rows_as_rasas_own_store_both_ways(url: str, domain: Domain) -> None:
    ours = store_on(url, domain)
    turn(ours, "你好")
    rasa_store = SQLTrackerStore(domain=domain, dialect="sqlite", db=url.removeprefix("sqlite:///"))
    theirs = run(rasa_store.retrieve(SENDER))
    assert texts_of(theirs) == ["你好"]
    theirs.update(said("再见"))
    run(rasa_store.save(theirs))
    fresh = store_on(url, domain)
    tracker = run(fresh.retrieve(SENDER))
    assert texts_of(tracker) == ["你好", "再见"]
    assert [e.as_dict() for e in tracker.events] == [e.as_dict() for e in theirs.events]
    rasa_store.engine.dispose()


def test_the_saved_tracker_is_kept_and_handed_out_once(url: str, domain: Domain) -> None:
    store = store_on(url, domain)
    saved = turn(store, "你好")
    first = run(store.retrieve(SENDER))
    assert first is saved, "the next turn takes the saved tracker back without rebuilding it"
    # Until that turn saves, the tracker is not handed out again (a failed turn leaves it changed).
    first.update(said("没保存的一句"))
    second = run(store.retrieve(SENDER))
    assert second is not first
    assert texts_of(second) == ["你好"]


def test_another_workers_turn_is_read_afresh(url: str, domain: Domain) -> None:
    mine, theirs = store_on(url, domain), store_on(url, domain)
    turn(mine, "你好")
    turn(theirs, "哪里有土豆")  # the balancer sent this turn to the other worker
    tracker = run(mine.retrieve(SENDER))
    assert texts_of(tracker) == ["你好", "哪里有土豆"]
    turn(mine, "30斤")
    assert texts_of(run(theirs.retrieve(SENDER))) == ["你好", "哪里有土豆", "30斤"]


def test_only_the_latest_session_is_read_and_saves_append_only_new_events(url: str, domain: Domain) -> None:
    store = store_on(url, domain)
    turn(store, "旧的会话")

    async def new_session() -> None:
        tracker = await store.retrieve(SENDER)
        assert tracker is not None
        for event in (ActionExecuted("action_session_start"), SessionStarted(), SlotSet("product", None)):
            tracker.update(event)
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(said("新的会话"))
        await store.save(tracker)

    run(new_session())
    tracker = run(store.retrieve(SENDER))
    assert texts_of(tracker) == ["新的会话"], "a tracker holding the old session too is not handed out"
    with store.engine.connect() as connection:
        rows = connection.execute(store._events_table.select()).all()
    assert [json.loads(r.data).get("text") for r in rows if r.type_name == "user"] == ["旧的会话", "新的会话"]
    full = run(store.retrieve_full_tracker(SENDER))
    assert texts_of(full) == ["旧的会话", "新的会话"]


def test_a_button_payload_is_parsed_as_the_nlu_would(bot: Bot) -> None:
    for payload in (
        button("订购1", "order_product", listing_id=3)["payload"],
        button("送货上门", "inform", supply_method="送货上门")["payload"],
        "/affirm",
        '/manage_order{"order_no": "XF2019070001AB", "op": "confirm"}',
        '/order_product{"listing_id": ',  # a broken payload: its intent, no entities, either way
    ):
        fast = bot.assistant.payload_parse(payload)
        assert fast is not None, payload
        full = bot.parse(payload)
        for key in ("intent", "entities", "intent_ranking"):
            assert fast[key] == full[key], (payload, key)
    # Not a payload of this domain, or not a payload at all: the NLU reads it.
    for text in ("/no_such_intent", "哪里有土豆", ""):
        assert bot.assistant.payload_parse(text) is None, text


def test_action_calls_share_one_connection() -> None:
    peers: list[Any] = []

    async def answer(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        return web.json_response({"events": [], "responses": []})

    async def go() -> None:
        app = web.Application()
        app.router.add_post("/webhook", answer)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        endpoint = pooled_endpoint(f"http://127.0.0.1:{port}/webhook")
        try:
            for _ in range(3):
                assert await endpoint.request(json={"next_action": "action_x"}, method="post") == {
                    "events": [],
                    "responses": [],
                }
            await endpoint.close()
            # Closed: the next call opens a new session rather than failing.
            assert await endpoint.request(json={}, method="post") == {"events": [], "responses": []}
            await endpoint.close()
        finally:
            await runner.cleanup()

    asyncio.run(go())
    assert len(peers) == 4
    assert len(set(peers[:3])) == 1, f"one connection for three calls, not {peers}"
    assert peers[3] != peers[0]
