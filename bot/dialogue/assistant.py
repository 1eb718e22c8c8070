"""The dialogue engine as the front-ends use it: the action server process and the Rasa agent in process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from fupin.db import make_engine
from fupin.settings import PROJECT_ROOT, Settings

logger = logging.getLogger(__name__)

MODEL_FILE = "fupin.tar.gz"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ActionServer:
    """The rasa_sdk action server (custom actions always run there) as a child process."""

    def __init__(self, database_url: str, port: int | None = None, log_file: Path | None = None) -> None:
        self.port = port or free_port()
        self.database_url = database_url
        self.log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The webhook the agent calls."""
        return f"http://127.0.0.1:{self.port}/webhook"

    def start(self, timeout: float = 120.0) -> None:
        """Start the server and wait until it answers its health check."""
        env = {**os.environ, "DATABASE_URL": self.database_url, "PYTHONPATH": str(PROJECT_ROOT)}
        command = [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(self.port)]
        output = None
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            output = self.log_file.open("ab")
        try:
            self._process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=output)
        finally:
            if output is not None:
                output.close()  # the child keeps its own handle
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"action server exited with {self._process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as reply:
                    if reply.status == 200:
                        logger.info("action server up on port %d", self.port)
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("action server did not start in time")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after five seconds)."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self._process is not None and self._process.poll() is None


@dataclass(frozen=True)
class Reply:
    """One bot message: text, buttons (title, payload), and whether to offer sharing the phone number."""

    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    request_contact: bool = False


def to_replies(messages: list[dict[str, Any]] | None) -> list[Reply]:
    """Rasa's bot messages as replies; a custom `request_contact` marks the message before it."""
    replies: list[Reply] = []
    for message in messages or []:
        custom = message.get("custom") or {}
        buttons = [(b["title"], b["payload"]) for b in message.get("buttons") or []]
        text = message.get("text") or ""
        if text or buttons:
            replies.append(Reply(text, buttons, bool(custom.get("request_contact"))))
        elif custom.get("request_contact") and replies:
            # Rasa sends a response's text and its custom part as two messages.
            last = replies[-1]
            replies[-1] = Reply(last.text, last.buttons, True)
    return replies


def model_path(settings: Settings) -> Path:
    """Where `make train` leaves the model."""
    return settings.model_dir / MODEL_FILE


class Dialogue(Protocol):
    """What a front-end needs of the dialogue engine."""

    async def reply(self, sender_id: str, text: str) -> list[Reply]:
        """The bot's replies to one message (or button payload) from a sender."""


def tracker_store_for(settings: Settings) -> Any:
    """Rasa's conversation store: SQL in the project's database unless configured otherwise."""
    from rasa.core.tracker_store import InMemoryTrackerStore

    from bot.dialogue.tracker_store import CoreSQLTrackerStore

    url_text = settings.tracker_store_url or settings.database_url
    if url_text == "memory":
        return InMemoryTrackerStore(domain=None)
    url = make_url(url_text)
    dialect = url.get_backend_name()
    if dialect == "sqlite":
        store = CoreSQLTrackerStore(dialect="sqlite", db=url.database or "")
        # SQLAlchemy 1.4 gives a SQLite file no connection pool, so Rasa's store would open a new connection
        # (and re-read the schema) for every read and every write of a conversation: a third of its time.
        # The project's engine keeps connections, with WAL and a busy timeout.
        store.engine.dispose()
        store.engine = make_engine(url_text)
        store.sessionmaker = sessionmaker(bind=store.engine)
        return store
    return CoreSQLTrackerStore(
        dialect=url.drivername,
        host=url.host,
        port=url.port,
        db=url.database or "",
        username=url.username,
        password=url.password,
        query=dict(url.query) or None,
    )


def lock_store_for(settings: Settings) -> Any:
    """Rasa's conversation lock: Redis when several workers share conversations, else in memory."""
    from rasa.core.lock_store import InMemoryLockStore, RedisLockStore

    if not settings.lock_store_url:
        return InMemoryLockStore()
    url = make_url(settings.lock_store_url)
    return RedisLockStore(
        host=url.host or "localhost",
        port=url.port or 6379,
        db=int(url.database or 0),
        password=url.password,
        key_prefix="fupin",
    )


def validate_action_results_with_a_built_validator() -> None:
    """Make Rasa check the action server's answers with a schema validator built once.

    Rasa validates every custom action's answer with `jsonschema.validate(result, schema)`, which first
    checks the (constant) schema itself against the JSON Schema meta-schema: about 25 ms of CPU for each
    action call, on the event loop, more than the rest of a turn together (bench/load_bench.py). The
    answer is still checked against the same schema; an invalid one goes to Rasa's own method, which
    raises its usual error.
    """
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    current = RemoteAction._validate_action_result
    if getattr(current, "built_validator", False):
        return
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        if validator.is_valid(result):
            return True
        return bool(current(self, result))  # raises ValidationError with Rasa's explanation

    _validate_action_result.built_validator = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


ACTION_CONNECTIONS = 16  # connections to the action server at most; more calls wait for one
ACTION_KEEPALIVE = 2.0  # seconds an idle connection is kept


def pooled_endpoint(url: str) -> Any:
    """The action server's endpoint for Rasa, keeping its HTTP connections from one action call to the next.

    Rasa's `EndpointConfig.request` opens a new client session, hence a new TCP connection, for each call
    and closes it afterwards, on both sides of the call. Here the session lives until `close()`, called on
    the event loop that made it.
    """
    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    class PooledEndpointConfig(EndpointConfig):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # One session per event loop (tests run several loops in one process), made on first use.
            self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
                weakref.WeakKeyDictionary()
            )

        def session(self) -> Any:
            loop = asyncio.get_running_loop()
            shared = self._sessions.get(loop)
            if shared is None or shared.closed:
                shared = aiohttp.ClientSession(
                    headers=self.headers,
                    timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                    # Idle connections are dropped here before the action server (Sanic: after 5 s) drops
                    # them, so a call never goes out on a connection the server is closing.
                    connector=aiohttp.TCPConnector(limit=ACTION_CONNECTIONS, keepalive_timeout=ACTION_KEEPALIVE),
                )
                self._sessions[loop] = shared
            # Rasa enters the session with `async with`, which would close it: hand it over unclosable.
            return contextlib.nullcontext(shared)

        async def close(self) -> None:
            """Close the session of the running loop."""
            shared = self._sessions.pop(asyncio.get_running_loop(), None)
            if shared is not None:
                await shared.close()

    return PooledEndpointConfig(url=url)


class Assistant:
    """The Rasa agent, loaded once, answering one user message at a time."""

    def __init__(self, agent: Any, endpoint: Any = None) -> None:
        self._agent = agent
        self._endpoint = endpoint

    @classmethod
    def load(cls, model: Path, action_url: str, tracker_store: Any = None, lock_store: Any = None) -> Assistant:
        """Load a trained model (slow: tens of seconds) with the action server's address."""
        from rasa.core.agent import Agent

        if not model.is_file():
            raise FileNotFoundError(f"no trained model at {model}: run `make train`")
        validate_action_results_with_a_built_validator()
        endpoint = pooled_endpoint(action_url)
        agent = Agent.load(str(model), action_endpoint=endpoint, tracker_store=tracker_store, lock_store=lock_store)
        return cls(agent, endpoint)

    async def close(self) -> None:
        """Close the connections to the action server."""
        if self._endpoint is not None:
            await self._endpoint.close()

    async def reply(self, sender_id: str, text: str) -> list[Reply]:
        """The bot's replies to one message (or button payload) from a sender."""
        from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

        message = UserMessage(text, CollectingOutputChannel(), sender_id, parse_data=self.payload_parse(text))
        return to_replies(await self._agent.handle_message(message))

    def payload_parse(self, text: str) -> dict[str, Any] | None:
        """What the NLU would make of a button payload (`/intent{...}` naming a domain intent), else None.

        The NLU pipeline runs its models on a payload too, and only its last step replaces their guess by the
        payload's intent and entities: half of a button turn's time. The same step (Rasa's own unpacking of
        the payload) gives the same parse without them; any other text goes to the NLU.
        """
        if not text.startswith("/"):
            return None
        from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
        from rasa.shared.nlu.constants import INTENT, TEXT
        from rasa.shared.nlu.training_data.message import Message

        message = YAMLStoryReader.unpack_regex_message(
            Message({TEXT: text}), self._agent.domain, entity_extractor_name="RegexMessageHandler"
        )
        if not message.get(INTENT):
            return None  # not a payload of this domain: the NLU reads it as text
        return dict(message.as_dict(only_output_properties=True))

    async def parse(self, text: str) -> dict[str, Any]:
        """NLU only: intent and entities of a text."""
        return dict(await self._agent.parse_message(text))


class RemoteAssistant:
    """A Rasa server reached through its REST channel (`rasa run --enable-api` with `rest:` credentials)."""

    def __init__(self, server_url: str, timeout: float = 30.0) -> None:
        import httpx

        self._client = httpx.AsyncClient(base_url=server_url.rstrip("/"), timeout=timeout)

    async def reply(self, sender_id: str, text: str) -> list[Reply]:
        """The server's replies to one message from a sender."""
        response = await self._client.post("/webhooks/rest/webhook", json={"sender": sender_id, "message": text})
        response.raise_for_status()
        return to_replies(response.json())

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()


class DialogueRuntime:
    """The dialogue a front-end talks to, with what it needs running (action server, agent)."""

    def __init__(self, dialogue: Dialogue, action_server: ActionServer | None = None) -> None:
        self.dialogue = dialogue
        self.action_server = action_server

    @classmethod
    def start(cls, settings: Settings) -> DialogueRuntime:
        """Start the action server (unless one is configured) and load the agent (or reach a Rasa server)."""
        if settings.rasa_server_url:
            return cls(RemoteAssistant(settings.rasa_server_url))
        model = model_path(settings)
        server = None
        action_url = settings.action_endpoint_url
        if not action_url:
            server = ActionServer(settings.database_url, log_file=settings.log_dir / "action-server.log")
            server.start()
            action_url = server.url
        try:
            assistant = Assistant.load(model, action_url, tracker_store_for(settings), lock_store_for(settings))
        except BaseException:
            if server is not None:
                server.stop()
            raise
        return cls(assistant, server)

    async def close(self) -> None:
        """Stop what `start` started."""
        if isinstance(self.dialogue, (Assistant, RemoteAssistant)):
            await self.dialogue.close()
        if self.action_server is not None:
            self.action_server.stop()
