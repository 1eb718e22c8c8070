"""Custom actions in process through rasa_sdk's executor, the Rasa version check, and the optional separate
action server (`python -m bot actions`): token, body limit, loopback address."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import ClientResponseError
from rasa_sdk import Tracker
from rasa_sdk.interfaces import ActionExecutionRejection

from actions.common import FupinAction, Services, make_services
from bot.dialogue import rasa_patches
from bot.dialogue.actions import TOKEN_HEADER, build_executor
from bot.dialogue.endpoint import IN_PROCESS_URL, InProcessEndpoint
from fupin.settings import PROJECT_ROOT
from fupin.setup import seed_demo
from harness.bot_process import listening_sockets, start_action_server
from harness.netproxy import free_port
from tests.conftest import Database

TOKEN = "action-secret_42"


@pytest.fixture
def services(sqlite_db: Database) -> Services:
    """The actions' services on the demo catalogue."""
    assert seed_demo(sqlite_db.sessions).ok
    return make_services(sqlite_db.sessions)


def action_call(action: str, text: str = "哪里有土豆", entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An action call as Rasa's RemoteAction sends it (the parts the executor reads)."""
    latest = {"text": text, "entities": entities or [], "intent": {"name": "search_product"}}
    tracker = {
        "sender_id": "console:t",
        "slots": {},
        "latest_message": latest,
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    return {"next_action": action, "sender_id": "console:t", "tracker": tracker, "domain": {}, "version": "3.6.21"}


def test_every_custom_action_of_the_domain_is_registered_with_the_services(services: Services) -> None:
    # The domain is a folder of files, one per feature; Rasa merges their lists.
    declared = {
        action
        for part in sorted((PROJECT_ROOT / "domain").glob("*.yml"))
        for action in yaml.safe_load(part.read_text(encoding="utf-8")).get("actions", [])
    }
    executor = build_executor(services)
    assert set(executor.actions) == declared


def test_the_in_process_endpoint_answers_as_the_action_server_would(services: Services) -> None:
    endpoint = InProcessEndpoint(build_executor(services))
    call = action_call("action_search_products", entities=[{"entity": "product", "value": "土豆"}])
    answer = asyncio.run(endpoint.request(json=call, method="post"))
    assert answer is not None
    assert RemoteAction("action_search_products", endpoint)._validate_action_result(answer)
    assert "土豆共4条" in answer["responses"][0]["text"]
    assert json.loads(json.dumps(answer)) == answer  # plain JSON values only
    assert call["tracker"]["slots"] == {}, "the caller's action call is not changed"

    with pytest.raises(ClientResponseError) as unknown:
        asyncio.run(endpoint.request(json=action_call("action_nobody_wrote"), method="post"))
    assert unknown.value.status == 404
    assert json.loads(unknown.value.text)["action_name"] == "action_nobody_wrote"
    assert endpoint.url == IN_PROCESS_URL


def test_a_rejection_and_a_failure_keep_the_action_servers_error_shapes(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from actions.help import ActionHelp

    def reject(self: FupinAction, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
        raise ActionExecutionRejection("action_help", "not now")

    monkeypatch.setattr(ActionHelp, "run", reject)
    endpoint = InProcessEndpoint(build_executor(services))
    with pytest.raises(ClientResponseError) as rejected:
        asyncio.run(endpoint.request(json=action_call("action_help"), method="post"))
    # What RemoteAction.run turns into Rasa's ActionExecutionRejection.
    assert rejected.value.status == 400
    assert json.loads(rejected.value.text) == {"error": "not now", "action_name": "action_help"}

    def fail(self: FupinAction, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
        raise KeyError("broken")

    monkeypatch.setattr(ActionHelp, "run", fail)
    endpoint = InProcessEndpoint(build_executor(services))
    with pytest.raises(ClientResponseError) as failed:
        asyncio.run(endpoint.request(json=action_call("action_help"), method="post"))
    assert failed.value.status == 500


def test_the_patches_refuse_another_rasa_version() -> None:
    rasa_patches.check_versions("3.6.21", "3.6.2")
    with pytest.raises(RuntimeError, match=r"rasa 3\.6\.21.*rasa 3\.7\.0 is installed"):
        rasa_patches.check_versions("3.7.0", "3.6.2")
    with pytest.raises(RuntimeError, match=r"rasa_sdk 3\.6\.2.*rasa_sdk 3\.6\.3 is installed"):
        rasa_patches.check_versions("3.6.21", "3.6.3")
    rasa_patches.apply()  # the installed versions


def test_the_tracker_of_an_action_call_is_what_the_sdk_reads() -> None:
    tracker = Tracker.from_dict(action_call("action_help")["tracker"])
    assert tracker.sender_id == "console:t" and tracker.latest_message["text"] == "哪里有土豆"


def _post(port: int, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhook",
        data=body,
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


@pytest.fixture
def action_server(services: Services, sqlite_db: Database, tmp_path: Path) -> Iterator[tuple[int, int]]:
    """`python -m bot actions` on the demo catalogue: its port and pid."""
    port = free_port()
    process = start_action_server(sqlite_db.url, port, tmp_path, TOKEN)
    try:
        yield port, process.pid
    finally:
        process.terminate()
        assert process.wait(30) == 0


def test_the_action_server_refuses_forged_and_oversized_calls_and_listens_on_loopback_only(
    action_server: tuple[int, int],
) -> None:
    port, pid = action_server
    call = json.dumps(action_call("action_search_products", entities=[{"entity": "product", "value": "土豆"}]))
    body = call.encode()
    assert _post(port, body, {})[0] == 401
    assert _post(port, body, {TOKEN_HEADER: "guessed"})[0] == 403
    status, answer = _post(port, body, {TOKEN_HEADER: TOKEN})
    assert status == 200 and "土豆共4条" in answer["responses"][0]["text"]
    assert _post(port, b" " * (1024 * 1024 + 1) + body, {TOKEN_HEADER: TOKEN})[0] == 413
    bomb = zlib.compress(b" " * (64 * 1024 * 1024) + body)  # small on the wire, 64 MiB inflated
    assert len(bomb) < 1024 * 1024
    assert _post(port, bomb, {TOKEN_HEADER: TOKEN, "Content-Encoding": "deflate"})[0] == 413
    status, answer = _post(port, zlib.compress(body), {TOKEN_HEADER: TOKEN, "Content-Encoding": "deflate"})
    assert status == 200 and "土豆共4条" in answer["responses"][0]["text"]
    unknown = json.dumps(action_call("action_nobody_wrote")).encode()
    assert _post(port, unknown, {TOKEN_HEADER: TOKEN})[0] == 404
    assert listening_sockets(pid) == [("127.0.0.1", port)]


def test_the_action_server_does_not_start_without_a_token(sqlite_db: Database, tmp_path: Path) -> None:
    process = start_action_server(sqlite_db.url, free_port(), tmp_path, token="", wait=False)
    assert process.wait(60) != 0
    assert "ACTION_SERVER_TOKEN" in (tmp_path / "action-server.out").read_text()
