"""Load over the full path: N simulated Telegram users in whole scripted conversations, then database checks.

The real python-telegram-bot Application (long polling) talks to the local fake Bot API server
(harness/fake_telegram/); the dialogue is the trained model in process with the SQL tracker store on the
bench database, as in production, and the custom actions in process. Buyers search, order with every slot
(buttons where the bot offers them, the phone typed or shared), confirm and check their orders; supply
contacts (bound beforehand) change a stock by message, confirm it with the button and check their orders.
Each user's turns are sequential; `--concurrency` users talk at once. A warm-up conversation comes first,
then `--sequential` users one at a time (service time without queueing), then the load.

A turn's latency is the time from the fake server receiving the update to the bot's reply for that turn
arriving at the fake server. Errors: a reply missing after `--timeout`, an apology or 系统繁忙, an unexpected
reply, a reply too many, a fake-server failure, an ERROR in the bot's log. Afterwards the database is
checked: every order confirmed in a chat recorded exactly once with its listing and quantity, and every
listing's stock equal to its start minus its orders (the listings the contacts changed, which nobody
orders, against the contacts' figure). Bare Rasa parsing (agent.parse_message) of the load's inputs is
measured in the same run, after the load, so the overhead of the full path shows as a ratio.

With no think time (the default) every user answers at once, so `--concurrency` turns are always in flight
and the latency is concurrency / throughput (Little's law): the run measures capacity. `--think S` gives
users S seconds (on average) before each turn, for latency at a lower load.

`--workers N` runs the bot as it is deployed instead: N `python -m bot run` processes (the actions in each)
beside this one (which then holds only the fake Bot API and the simulated users); one
worker polls, several take webhooks behind a round-robin balancer and share Redis as Rasa's lock store.
Their CPU is read from /proc; the dialogue's own times are then not measured.

Targets (2-core machine): ≥ 50 turns/s with p95 ≤ 150 ms, zero errors, zero lost or duplicated orders.
Usage: python bench/load_bench.py [--users 200] [--concurrency 50] [--think 0] [--workers 0] [--database-url URL]
(a PostgreSQL database given with --database-url must be empty: the script loads the demo catalogue).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ notes on stderr would bury the report
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from actions.common import make_services  # noqa: E402
from bench.catalog_bench import percentile  # noqa: E402
from bot import logs  # noqa: E402
from bot.dialogue.actions import build_executor  # noqa: E402
from bot.dialogue.assistant import Assistant, Reply, model_path  # noqa: E402
from bot.dialogue.endpoint import InProcessEndpoint  # noqa: E402
from bot.dialogue.stores import lock_store_for, tracker_store_for  # noqa: E402
from bot.telegram import texts  # noqa: E402
from fupin.catalog.search import CatalogNames  # noqa: E402
from fupin.db import make_engine, make_session_factory  # noqa: E402
from fupin.models import Listing, Order, Product  # noqa: E402
from fupin.outreach.users import bind_user, sender_of  # noqa: E402
from fupin.settings import Settings  # noqa: E402
from fupin.setup import init_database, seed_demo  # noqa: E402
from fupin.values import OrderStatus, Role  # noqa: E402
from harness.bot_process import BotProcess, child_pids  # noqa: E402
from harness.fake_telegram import FakeTelegram, Sent  # noqa: E402
from harness.netproxy import RoundRobin, free_port  # noqa: E402
from harness.telegram_app import running_telegram, settings_for  # noqa: E402

FIRST_USER = 100_000
WARM_UP_USERS = (90_001, 90_002)  # one buyer and one contact before the measured run
# Supply contacts of the places buyers order from: they only receive the new-order pushes.
LISTING_CONTACTS = {
    40_001: ("龙角镇", None),
    40_002: ("泥溪镇", None),
    40_003: ("江口镇", None),
    40_004: ("双土镇", None),
}
# Places of the contacts who change a stock: nobody orders there, so their stock is the contacts' figure.
STOCK_PLACES = (("龙角镇", "高家村"), ("清水土家族乡", None))
STOCK_PRODUCT = "蜂蜜"
STOCK_SET = Decimal(80)
SEARCHES = ("哪里有土豆", "龙角镇有什么特产")
QUANTITIES = (("10斤", 10), ("20斤", 20), ("30斤", 30), ("二十五斤", 25), ("15斤", 15))
ORGS = ("县人民医院食堂", "县中医院食堂", "县人民医院", "云阳中学食堂")
FAILURE_TEXTS = (texts.SORRY, texts.BUSY, texts.TOO_FAST, "系统繁忙")
ORDER_NO = re.compile(r"XF\d{6}[0-9A-F]{6}")


class LoadFake(FakeTelegram):
    """The fake Bot API, telling the driver of every message the bot sends, with its arrival time."""

    def __init__(self) -> None:
        super().__init__()
        self.listener: Callable[[int, float, Sent], None] | None = None
        self._arrived: dict[int, float] = {}
        self._methods["sendmessage"] = self._send_and_tell

    def _record(self, method: str, params: dict[str, Any]) -> Any:
        record = super()._record(method, params)
        if method.lower() == "sendmessage":
            self._arrived[id(params)] = record.time  # the request's arrival, before its body was handled
        return record

    def _send_and_tell(self, params: dict[str, Any]) -> dict[str, Any]:
        arrived = self._arrived.pop(id(params), time.monotonic())
        message = self._send_message(params)
        chat_id = int(message["chat"]["id"])
        if self.listener is not None:
            self.listener(chat_id, arrived, self._sent[chat_id][-1])
        return message

    def fed_at(self, update_id: int) -> float:
        """When an update was fed to the server."""
        with self._lock:
            return self._update_meta[update_id].fed_at


@dataclass
class Turn:
    """One measured turn."""

    user: int
    what: str  # the input as the dialogue saw it (text, button payload, phone)
    latency_ms: float | None = None
    error: str | None = None


@dataclass
class Phase:
    """The turns of one part of the run (the sequential turns, the load) and the dialogue's own times."""

    turns: list[Turn] = field(default_factory=list)
    dialogue_ms: list[float] = field(default_factory=list)  # Rasa's handle_text (with the actions) per turn

    @property
    def latencies(self) -> list[float]:
        """The latencies of the turns that got a reply."""
        return [t.latency_ms for t in self.turns if t.latency_ms is not None]


@dataclass
class Tally:
    """What the driver saw over the whole run."""

    orders: dict[str, tuple[int, Decimal]] = field(default_factory=dict)  # order no → listing, quantity
    duplicate_order_nos: list[str] = field(default_factory=list)
    stock_confirmed: set[int] = field(default_factory=set)  # listings whose change a contact confirmed
    replies: Counter[int] = field(default_factory=Counter)  # replies consumed per chat
    pushes: int = 0
    aborted: int = 0


class TurnFailed(Exception):
    """A turn that got no reply, or not the one expected: the user's script stops."""


class User:
    """One simulated Telegram user: injects updates, waits for the bot's reply, checks it."""

    def __init__(self, driver: Driver, user_id: int, phase: Phase, rng: random.Random) -> None:
        self.driver = driver
        self.fake = driver.fake
        self.id = user_id
        self.phase = phase
        self.rng = rng
        self.inbox: asyncio.Queue[tuple[float, Sent]] = asyncio.Queue()
        self.turns: list[Turn] = []

    async def turn(self, feed: Callable[[], int], what: str, expect: Callable[[str, Sent], bool]) -> Sent:
        """Feed one update and wait for the reply (pushes are skipped); raises TurnFailed."""
        if self.driver.think:
            # Reading and typing; before the first turn too, so that users do not all arrive at one instant.
            await asyncio.sleep(self.driver.think * self.rng.uniform(0.5, 1.5) if self.turns else
                                self.driver.think * self.rng.uniform(0.0, 2.0))  # fmt: skip
        turn = Turn(self.id, what)
        self.turns.append(turn)
        self.phase.turns.append(turn)
        fed = self.fake.fed_at(feed())
        deadline = time.monotonic() + self.driver.timeout
        while True:
            try:
                arrived, sent = await asyncio.wait_for(self.inbox.get(), max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                turn.error = "no reply"
                raise TurnFailed(f"user {self.id}: no reply to {what!r} within {self.driver.timeout}s") from None
            text = sent.text or ""
            if text.startswith("新订单"):  # a push to a contact, not this turn's reply
                self.driver.tally.pushes += 1
                continue
            break
        self.driver.tally.replies[self.id] += 1
        turn.latency_ms = (arrived - fed) * 1000
        if any(failure in text for failure in FAILURE_TEXTS):
            turn.error = "apology"
        elif not expect(text, sent):
            turn.error = "unexpected reply"
        if turn.error:
            raise TurnFailed(f"user {self.id}: {turn.error} to {what!r}: {text[:120]!r}")
        return sent

    async def say(self, text: str, expect: Callable[[str, Sent], bool]) -> Sent:
        """A text message."""
        return await self.turn(lambda: self.fake.send_text(self.id, text), text, expect)

    async def press(self, message: Sent, title_part: str, expect: Callable[[str, Sent], bool]) -> Sent:
        """Tap the first inline button whose title holds `title_part`."""
        data = button_data(message, title_part)
        return await self.turn(lambda: self.fake.press(self.id, message.message_id, data), data, expect)

    async def share_phone(self, phone: str, expect: Callable[[str, Sent], bool]) -> Sent:
        """Share the phone number with Telegram's contact button."""
        return await self.turn(lambda: self.fake.share_contact(self.id, "+86" + phone), phone, expect)


def titles(message: Sent) -> list[str]:
    """The inline button titles of a message."""
    return [b["text"] for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row]


def button_data(message: Sent, title_part: str) -> str:
    """The callback data of the first inline button whose title holds a text."""
    for row in (message.reply_markup or {}).get("inline_keyboard", []):
        for b in row:
            if title_part in b["text"]:
                return str(b["callback_data"])
    raise TurnFailed(f"no button {title_part!r} on {message.text!r}")


def has(*parts: str) -> Callable[[str, Sent], bool]:
    """Expect a reply holding every part."""
    return lambda text, _sent: all(p in text for p in parts)


def has_one(*parts: str) -> Callable[[str, Sent], bool]:
    """Expect a reply holding one of the parts."""
    return lambda text, _sent: any(p in text for p in parts)


async def buyer(user: User, rng: random.Random) -> None:
    """Search, order one listing with every slot (buttons where the bot offers them), confirm, check."""
    search = SEARCHES[user.id % len(SEARCHES)]
    found = await user.say(search, lambda t, s: "订购" in " ".join(titles(s)))
    lines = {m[1]: m[0] for m in re.finditer(r"^(\d+)\. .*$", found.text or "", re.MULTILINE)}
    numbers = [n for n, line in lines.items() if STOCK_PRODUCT not in line and f"订购{n}" in titles(found)]
    if not numbers:
        raise TurnFailed(f"user {user.id}: nothing to order in {found.text!r}")
    number = rng.choice(numbers)
    payload = button_data(found, f"订购{number}")
    listing_id = int(json.loads(payload[payload.index("{") :])["listing_id"])
    await user.press(found, f"订购{number}", has("要订多少"))
    said, quantity = rng.choice(QUANTITIES)
    await user.say(said, has("采购单位"))
    await user.say(rng.choice(ORGS), lambda t, s: "电话" in t and bool(s.reply_markup))
    phone = f"1772363{user.id % 10_000:04d}"
    methods_or_summary = has_one("供货方式", "请核对订单")  # no question when the listing offers one method
    if user.id % 2:
        answer = await user.share_phone(phone, methods_or_summary)
    else:
        answer = await user.say(phone, methods_or_summary)
    if "请核对订单" not in (answer.text or ""):
        answer = await user.press(answer, rng.choice(titles(answer)), has("请核对订单"))
    if f"{quantity}斤" not in (answer.text or ""):
        raise TurnFailed(f"user {user.id}: the read-back lost the quantity: {answer.text!r}")
    done = await user.press(answer, "确认下单", has("下单成功"))
    order_no = ORDER_NO.search(done.text or "")
    if order_no is None:
        raise TurnFailed(f"user {user.id}: no order number in {done.text!r}")
    tally = user.driver.tally
    if order_no[0] in tally.orders:
        tally.duplicate_order_nos.append(order_no[0])
    tally.orders[order_no[0]] = (listing_id, Decimal(quantity))
    await user.say("我的订单", has("最近的订单", order_no[0]))


async def contact(user: User, rng: random.Random) -> None:
    """Change a stock by message, confirm it with the button, check the place's orders."""
    readback = await user.say(f"{STOCK_PRODUCT}还剩{STOCK_SET}斤", has("将要修改", f"{STOCK_SET}斤"))
    listing_id = user.driver.stock_listings[user.id]
    await user.press(readback, "确认修改", has("已更新"))
    user.driver.tally.stock_confirmed.add(listing_id)
    await user.say("我的订单", has_one("最近的订单", "还没有订单"))


class Driver:
    """Runs the users on the main thread's event loop, `concurrency` at a time."""

    def __init__(self, fake: LoadFake, stock_listings: dict[int, int], timeout: float, seed: int, think: float) -> None:
        self.fake = fake
        self.think = think  # mean seconds a user takes before each next turn (0: answers at once)
        self.stock_listings = stock_listings  # contact's user id → the listing they change
        self.timeout = timeout
        self.seed = seed
        self.tally = Tally()
        self.problems: list[str] = []
        self._users: dict[int, User] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def _heard(self, chat_id: int, arrived: float, sent: Sent) -> None:
        # On the fake server's thread: hand the message to the user's inbox on the driver's loop.
        user = self._users.get(chat_id)
        if user is not None and self._loop is not None:
            with contextlib.suppress(RuntimeError):  # a late reply after the driver's loop closed
                self._loop.call_soon_threadsafe(user.inbox.put_nowait, (arrived, sent))

    async def run(self, user_ids: list[int], roles: dict[int, str], concurrency: int, phase: Phase) -> float:
        """Run the users' scripts, recording their turns in `phase`; returns the wall time in seconds."""
        self._loop = asyncio.get_running_loop()
        self.fake.listener = self._heard
        gate = asyncio.Semaphore(concurrency)

        async def one(user_id: int) -> None:
            async with gate:
                rng = random.Random(self.seed * 1_000_003 + user_id)
                user = User(self, user_id, phase, rng)
                self._users[user_id] = user
                script = buyer if roles[user_id] == "buyer" else contact
                try:
                    await script(user, rng)
                except TurnFailed as exc:
                    self.tally.aborted += 1
                    self.problems.append(str(exc))
                    if user.turns and not any(t.error for t in user.turns):
                        user.turns[-1].error = "unexpected reply"  # the reply lacked what the script needed

        start = time.monotonic()
        await asyncio.gather(*(one(u) for u in user_ids))
        return time.monotonic() - start


def prepare_database(url: str, contact_ids: list[int]) -> tuple[Any, Any, dict[int, int]]:
    """A migrated database with the demo catalogue and the contacts bound; returns engine, sessions, stock map."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    init_database(engine, sessions)
    with sessions() as session:
        if session.scalar(select(func.count(Listing.id))):
            raise SystemExit(f"{engine.url.render_as_string(hide_password=True)} is not empty: give an empty database")
    if not seed_demo(sessions).ok:
        raise SystemExit("the demo catalogue did not load")
    stock_listings: dict[int, int] = {}
    with sessions() as session, session.begin():
        for user_id, (township, village) in LISTING_CONTACTS.items():
            bind_user(session, sender_of("telegram", user_id), Role.CONTACT, township=township, village=village)
        for index, user_id in enumerate(contact_ids):
            township, village = STOCK_PLACES[index % len(STOCK_PLACES)]
            bound = bind_user(session, sender_of("telegram", user_id), Role.CONTACT, township=township, village=village)
            stock_listings[user_id] = _stock_listing(session, bound.township_id, bound.village_id)
    return engine, sessions, stock_listings


def _stock_listing(session: Any, township_id: int, village_id: int | None) -> int:
    query = select(Listing.id).join(Product).where(Product.name == STOCK_PRODUCT, Listing.township_id == township_id)
    if village_id is not None:
        query = query.where(Listing.village_id == village_id)
    ids = list(session.scalars(query))
    if len(ids) != 1:
        raise SystemExit(f"expected one {STOCK_PRODUCT} listing for a contact, found {ids}")
    return ids[0]


def stock_of(sessions: Any) -> dict[int, Decimal]:
    """Every listing's remaining quantity."""
    with sessions() as session:
        return {lid: Decimal(q) for lid, q in session.execute(select(Listing.id, Listing.remaining_quantity))}


def check_database(
    sessions: Any, tally: Tally, start: dict[int, Decimal], stock_listings: set[int], before: set[str]
) -> list[str]:
    """PASS/FAIL lines: orders recorded exactly once as confirmed, stock = start − orders.

    `before`: order numbers placed before `start` was read (the warm-up), checked only to exist once each.
    """
    with sessions() as session:
        every = session.execute(select(Order.order_no, Order.listing_id, Order.quantity, Order.status)).all()
    earlier = Counter(r.order_no for r in every if r.order_no in before)
    rows = [r for r in every if r.order_no not in before]
    recorded = Counter(r.order_no for r in rows)
    seen = {n: v for n, v in tally.orders.items() if n not in before}
    if any(earlier[n] != 1 for n in before):
        return [f"FAIL orders: the warm-up's orders are not recorded once each: {dict(earlier)}"]
    lines = []
    duplicated = sorted(n for n, c in recorded.items() if c > 1) + tally.duplicate_order_nos
    lost = sorted(set(seen) - set(recorded))
    unknown = sorted(set(recorded) - set(seen))
    wrong = [r.order_no for r in rows if r.order_no in seen and (r.listing_id, Decimal(r.quantity)) != seen[r.order_no]]
    ok = not (duplicated or lost or unknown or wrong) and len(rows) == len(seen)
    lines.append(
        f"{'PASS' if ok else 'FAIL'} orders: {len(seen)} confirmed in the chats, {len(rows)} in the database; "
        f"lost {len(lost)}, duplicated {len(duplicated)}, not confirmed in a chat {len(unknown)}, "
        f"wrong listing/quantity {len(wrong)}"
        + (f" e.g. {(lost + duplicated + unknown + wrong)[:3]}" if not ok else "")
    )
    released = {OrderStatus.CANCELLED.value, OrderStatus.REJECTED.value}
    taken: dict[int, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row.status not in released:
            taken[row.listing_id] += Decimal(row.quantity)
    now = stock_of(sessions)
    bad = []
    for listing_id, at_start in start.items():
        if listing_id in stock_listings:
            expected = STOCK_SET if listing_id in tally.stock_confirmed else at_start
            if taken[listing_id] or now[listing_id] != expected:
                bad.append(
                    f"listing {listing_id}: {now[listing_id]} (contacts set {expected}, ordered {taken[listing_id]})"
                )
        elif now[listing_id] != at_start - taken[listing_id]:
            bad.append(f"listing {listing_id}: {now[listing_id]} ≠ {at_start} − {taken[listing_id]}")
    ordered = sum(1 for lid in start if taken[lid])
    lines.append(
        f"{'PASS' if not bad else 'FAIL'} stock: {len(start)} listings, {ordered} ordered from "
        f"(remaining = start − orders), {len(tally.stock_confirmed)} changed by contacts to {STOCK_SET}"
        + (f"; {len(bad)} wrong, e.g. {bad[:3]}" if bad else "")
    )
    return lines


def figures(samples: list[float], seconds: float | None) -> str:
    """turns/s (when timed) and p50/p95/p99 of latencies in ms."""
    if not samples:
        return "no samples"
    rate = f"{len(samples) / seconds:6.1f} turns/s  " if seconds else ""
    return (
        f"{rate}p50 {statistics.median(samples):6.1f} ms  "
        f"p95 {percentile(samples, 95):6.1f} ms  p99 {percentile(samples, 99):6.1f} ms  max {max(samples):6.1f} ms"
    )


async def bare_parse(assistant: Assistant, inputs: list[str]) -> tuple[list[float], float]:
    """Assistant.parse (agent.parse_message) of every input, one after another: latencies (ms), wall time."""
    for text in inputs[:20]:
        await assistant.parse(text)
    samples = []
    start = time.monotonic()
    for text in inputs:
        began = time.perf_counter()
        await assistant.parse(text)
        samples.append((time.perf_counter() - began) * 1000)
    return samples, time.monotonic() - start


class ErrorCount(logging.Handler):
    """Counts ERROR records (a handler's exception, a failed action) while the bot runs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("tests."):  # the fake server's own failures are counted apart
            self.records.append(f"{record.name}: {record.getMessage()[:200]}")


class TimedDialogue:
    """The assistant as the bot sees it, timing each reply (Rasa's handle_text, with the action calls)."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.samples: list[float] = []

    async def reply(self, sender_id: str, text: str) -> list[Reply]:
        """The assistant's reply, timed."""
        began = time.perf_counter()
        try:
            return await self.assistant.reply(sender_id, text)
        finally:
            self.samples.append((time.perf_counter() - began) * 1000)

    async def close(self) -> None:
        """Close the assistant's connections."""
        await self.assistant.close()


def cpu_seconds(pid: int | None = None) -> float:
    """User and system CPU time of this process (every thread) or of another one (Linux /proc)."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Workers:
    """The bot as N `python -m bot run` processes (polling alone; webhooks behind a balancer when several)."""

    SECRET = "load-bench-secret"

    def __init__(self, fake: LoadFake, database_url: str, count: int, folder: Path) -> None:
        self.fake = fake
        self.database_url = database_url
        self.count = count
        self.folder = folder
        self.processes: list[BotProcess] = []
        self.balancer: RoundRobin | None = None

    def start(self) -> None:
        """Start the workers one after the other (the first migrates) and wait until they take updates."""
        env = {"RATE_LIMIT_BURST": "1000", "RATE_LIMIT_PER_MINUTE": "60000", "PUSH_INTERVAL_SECONDS": "1.0"}
        ports = [free_port() for _ in range(self.count)] if self.count > 1 else []
        if ports:
            self.balancer = RoundRobin([f"http://127.0.0.1:{port}" for port in ports])
            self.balancer.start()
            env |= {
                "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{self.balancer.port}/hook",
                "TELEGRAM_WEBHOOK_SECRET": self.SECRET,
                "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
                "LOCK_STORE_URL": "redis://127.0.0.1:6379/0",
            }
        for index in range(self.count):
            folder = self.folder / f"worker{index + 1}"
            folder.mkdir(parents=True)
            extra = {"TELEGRAM_WEBHOOK_PORT": str(ports[index])} if ports else {}
            worker = BotProcess(self.fake, folder, self.database_url, **env, **extra)
            worker.start(ready=index + 1)
            self.processes.append(worker)
        listening = "setWebhook" if ports else "getUpdates"
        self.fake.wait_for(lambda f: len(f.calls(listening)) >= self.count, timeout=120)

    def cpu_seconds(self) -> float:
        """CPU time of the workers (and any children)."""
        pids = [w.process.pid for w in self.processes if w.process is not None]
        return sum(cpu_seconds(pid) for pid in pids + [c for pid in pids for c in child_pids(pid)])

    def error_lines(self) -> list[str]:
        """ERROR lines in the workers' logs."""
        return [line[:200] for w in self.processes for line in w.output().splitlines() if " ERROR " in line]

    def stop(self) -> None:
        """SIGTERM every worker, then the balancer."""
        for worker in self.processes:
            if worker.process is not None and worker.process.poll() is None:
                worker.terminate()
        if self.balancer is not None:
            self.balancer.stop()
            self.balancer = None


def roles_for(first: int, count: int, contact_every: int) -> dict[int, str]:
    """Every `contact_every`-th user is a supply contact, the others buyers."""
    return {
        first + i: "contact" if contact_every and i % contact_every == contact_every - 1 else "buyer"
        for i in range(count)
    }


def extra_replies(fake: LoadFake, tally: Tally, users: set[int]) -> int:
    """Replies the users' chats got beyond those their turns consumed (pushes aside)."""
    return sum(
        max(0, sum(1 for m in fake.sent_to(u) if m.method == "sendMessage" and not (m.text or "").startswith("新订单"))
            - tally.replies[u])
        for u in users
    )  # fmt: skip


def main() -> int:
    """Set everything up, run the load, check the database, print the report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--sequential", type=int, default=10, help="users run one at a time first (service time)")
    parser.add_argument("--contact-every", type=int, default=5, help="every Nth user is a supply contact (5: 20%%)")
    parser.add_argument("--think", type=float, default=0.0, help="mean seconds a user waits before the next turn")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for one reply")
    parser.add_argument("--workers", type=int, default=0, help="bot processes (0: the bot in this process)")
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temp folder")
    parser.add_argument("--log-level", default="INFO", help="the bot's log level (to a file in the temp folder)")
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (database, logs) and print it")
    args = parser.parse_args()

    model = model_path(Settings.from_env())
    if not model.is_file():
        print(f"no trained model at {model}: run `make train`")
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="fupin-load-"))
    url = args.database_url or f"sqlite:///{tmp / 'load.db'}"
    logs.configure(args.log_level, tmp / "bot.log", also_stderr=False)  # as `python -m bot run` logs
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    import jieba
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.getLogger().level)
    jieba.setLogLevel(logging.WARNING)

    warm_roles = dict(zip(WARM_UP_USERS, ("buyer", "contact"), strict=True))
    sequential_roles = roles_for(FIRST_USER - 1000, args.sequential, args.contact_every)
    roles = roles_for(FIRST_USER, args.users, args.contact_every)
    everyone = {**warm_roles, **sequential_roles, **roles}
    began = time.monotonic()
    engine, sessions, stock_listings = prepare_database(url, [u for u, r in everyone.items() if r == "contact"])
    fake = LoadFake()
    fake.start()
    settings = settings_for(
        fake, url, rate_limit_burst=1000, rate_limit_per_minute=60_000, push_interval_seconds=1.0, log_dir=tmp
    )
    workers: Workers | None = None
    dialogue: TimedDialogue | None = None
    try:
        if args.workers:
            workers = Workers(fake, url, args.workers, tmp)
            workers.start()
            bot: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
            shape = f"{args.workers} bot process{'es' if args.workers > 1 else ''}"
        else:
            services = make_services(sessions)
            dialogue = TimedDialogue(
                Assistant.load(
                    model,
                    InProcessEndpoint(build_executor(services)),
                    tracker_store_for(settings),
                    lock_store_for(settings),
                    catalog_names=services.search.names,
                )
            )
            bot = running_telegram(fake, settings, dialogue, sessions)
            shape = "the bot in this process, actions in process"

        def cpu() -> tuple[float, float]:
            # (the bot: the workers, or this process; the rest)
            if workers is not None:
                return workers.cpu_seconds(), cpu_seconds()
            return cpu_seconds(), 0.0

        print(
            f"set-up: {engine.url.get_backend_name()} database, {shape}, model, fake Bot API in "
            f"{time.monotonic() - began:.0f}s; {args.users} users ({sum(r == 'buyer' for r in roles.values())} buyers, "
            f"{sum(r == 'contact' for r in roles.values())} supply contacts), {args.concurrency} at a time"
        )
        driver = Driver(fake, stock_listings, args.timeout, args.seed, 0.0)
        warm, sequential, load = Phase(), Phase(), Phase()
        with bot:
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(driver.run(list(warm_roles), warm_roles, 2, warm))
                start_stock = stock_of(sessions)  # after the warm-up, which may have changed a stock
                warm_orders = set(driver.tally.orders)
                if dialogue is not None:
                    dialogue.samples = sequential.dialogue_ms
                sequential_wall = loop.run_until_complete(
                    driver.run(list(sequential_roles), sequential_roles, 1, sequential)
                )
                if dialogue is not None:
                    dialogue.samples = load.dialogue_ms
                driver.think = args.think
                load_before, cpu_before = os.getloadavg(), cpu()
                wall = loop.run_until_complete(driver.run(list(roles), roles, args.concurrency, load))
                load_after, cpu_after = os.getloadavg(), cpu()
            finally:
                loop.close()
            fake.wait_idle(quiet=1.0, timeout=120)
        if workers is not None:
            workers.stop()
            errors.records += workers.error_lines()
        assistant = (
            dialogue.assistant
            if dialogue is not None
            else Assistant.load(model, None, catalog_names=CatalogNames(sessions))  # parsing only: no actions
        )
        parse_loop = asyncio.new_event_loop()
        try:
            inputs = [t.what for t in load.turns]
            parse_samples, parse_wall = parse_loop.run_until_complete(bare_parse(assistant, inputs))
        finally:
            parse_loop.close()

        turns = warm.turns + sequential.turns + load.turns
        turn_errors = Counter(t.error for t in turns if t.error)
        extra = extra_replies(fake, driver.tally, set(everyone))
        error_total = sum(turn_errors.values()) + extra + len(fake.errors) + len(errors.records)
        pushes = driver.tally.pushes + sum(len(fake.sent_to(u)) for u in LISTING_CONTACTS)
        samples = load.latencies
        print(
            f"machine: {os.cpu_count()} cores; load average (1 min) {load_before[0]:.2f} before the load, "
            f"{load_after[0]:.2f} after"
        )
        if sequential.turns:
            print(
                f"one user at a time: {len(sequential.turns)} turns of {args.sequential} users in {sequential_wall:.1f}s"
            )
            print(f"  full path   {figures(sequential.latencies, sequential_wall)}")
            if sequential.dialogue_ms:
                print(
                    f"  dialogue    {figures(sequential.dialogue_ms, None)}  (Rasa handle_text with the action calls)"
                )
        print(
            f"load: {len(load.turns)} turns of {args.users} users, {args.concurrency} at a time"
            f"{f', {args.think:g} s think time' if args.think else ''}, in {wall:.1f}s; "
            f"{pushes} new-order pushes to supply contacts"
        )
        print(f"  full path   {figures(samples, wall)}")
        if samples and not args.think:
            rate = len(samples) / wall
            print(
                f"    (no think time: {args.concurrency} turns always in flight, so the mean latency is "
                f"{args.concurrency} / {rate:.1f} turns/s = {args.concurrency / rate:.2f} s, by Little's law)"
            )
        if load.dialogue_ms:
            print(f"  dialogue    {figures(load.dialogue_ms, None)}  (Rasa handle_text with the action calls)")
        print(f"  bare parse  {figures(parse_samples, parse_wall)}  (agent.parse_message of the same inputs in turn)")
        if parse_samples and samples:
            ratio = statistics.median(samples) / statistics.median(parse_samples)
            print(f"  ratio full-path p50 / parse p50 = {ratio:.1f}×")
        if load.turns:
            bot_cpu, rest = (after - before for before, after in zip(cpu_before, cpu_after, strict=True))
            per_turn = 1000 / len(load.turns)
            if workers is not None:
                print(
                    f"  CPU per turn: {bot_cpu * per_turn:.1f} ms in the bot processes, "
                    f"{rest * per_turn:.1f} ms in this one (fake Bot API, users, balancer)"
                )
            else:
                print(
                    f"  CPU per turn: {bot_cpu * per_turn:.1f} ms in the bot's process (PTB, Rasa, the actions, "
                    f"the fake server and driver)"
                )
        print(
            f"errors: {error_total}  (no reply {turn_errors.get('no reply', 0)}, apology {turn_errors.get('apology', 0)}, "
            f"unexpected {turn_errors.get('unexpected reply', 0)}, extra replies {extra}, fake server {len(fake.errors)}, "
            f"bot error logs {len(errors.records)}); users stopped early {driver.tally.aborted}"
        )
        for problem in (driver.problems + errors.records)[:5]:
            print(f"  - {problem}")
        lines = check_database(sessions, driver.tally, start_stock, set(stock_listings.values()), warm_orders)
        for line in lines:
            print(line)
        rate, p95 = (len(samples) / wall if wall else 0.0), (percentile(samples, 95) if samples else float("inf"))
        met = rate >= 50 and p95 <= 150 and error_total == 0 and all(line.startswith("PASS") for line in lines)
        print(
            f"{'PASS' if met else 'FAIL'} targets: ≥ 50 turns/s ({rate:.1f}), p95 ≤ 150 ms ({p95:.1f}), "
            f"zero errors ({error_total}), no lost or duplicated orders"
        )
    finally:
        if workers is not None:
            workers.stop()
        fake.stop()
        engine.dispose()
        if args.keep:
            print(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
