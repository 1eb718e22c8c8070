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

`--rate R` adds a paced phase after the saturated one: users arrive at random (Poisson) for `--duration`
seconds, as many as offer R turns/s, each talking as soon as it arrives (an open loop: the offered load does
not wait for the bot), for latency at a given load. With `--duration 600` it is a soak: each bot process's
resident memory, established TCP connections and database file handles, and the tracker store's rows, are
printed after the warm-up and at the end, so a leak shows. `--profile` (with `--workers`) runs the first worker
under cProfile (harness/profiled.py) over the saturated load and prints where its time went
(bench/profile_summary.py).

Targets (issue #15, 2-core machine, `--workers 2`): CPU per turn in the bot processes ≤ 2 × the bare parse p50
of the same run; saturated ≥ 50 turns/s with zero errors and no lost or duplicated orders; one user at a time
p50 ≤ 2 × bare parse p50; paced at 25 turns/s for 60 s or more, p95 ≤ 250 ms; no memory growth over a soak.
Usage: python bench/load_bench.py [--users 200] [--concurrency 50] [--think 0] [--workers 0] [--rate 0]
       [--duration 60] [--profile] [--database-url URL]
(a PostgreSQL database given with --database-url must be empty: the script loads the demo catalogue).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
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
from sqlalchemy import text as sql_text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from actions.common import make_services  # noqa: E402
from bench.catalog_bench import percentile  # noqa: E402
from bench.process_stats import RssSampler, held_by  # noqa: E402
from bench.profile_summary import summarise  # noqa: E402
from bot import logs  # noqa: E402
from bot.dialogue.actions import build_executor  # noqa: E402
from bot.dialogue.assistant import Assistant, Reply, model_path  # noqa: E402
from bot.dialogue.endpoint import InProcessEndpoint  # noqa: E402
from bot.dialogue.stores import lock_store_for, tracker_store_for  # noqa: E402
from bot.telegram import texts  # noqa: E402
from fupin.catalog import ledger  # noqa: E402
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

    async def run(
        self, user_ids: list[int], roles: dict[int, str], concurrency: int, phase: Phase, arrivals: float = 0.0
    ) -> float:
        """Run the users' scripts, recording their turns in `phase`; returns the wall time in seconds.

        Closed loop: `concurrency` users at a time, the next starting when one finishes. Open loop
        (`arrivals` > 0, users per second): users arrive at random (Poisson) whatever the bot's pace, and
        each talks as soon as it arrives, however many are already talking.
        """
        self._loop = asyncio.get_running_loop()
        self.fake.listener = self._heard
        gate: contextlib.AbstractAsyncContextManager[Any] = (
            contextlib.nullcontext() if arrivals else asyncio.Semaphore(concurrency)
        )
        arrival_rng = random.Random(self.seed)
        starts, at = [], 0.0
        for _user in user_ids:
            starts.append(at)
            if arrivals:
                at += arrival_rng.expovariate(arrivals)

        async def one(user_id: int, start: float) -> None:
            await asyncio.sleep(start)
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
        await asyncio.gather(*(one(u, at) for u, at in zip(user_ids, starts, strict=True)))
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


async def bare_parse(assistant: Assistant, inputs: list[str]) -> tuple[list[float], list[float], float]:
    """Assistant.parse (agent.parse_message) of every input, one after another: latencies and CPU times (ms, this
    process, TensorFlow's threads included), wall time (s)."""
    for text in inputs[:20]:
        await assistant.parse(text)
    samples, cpu = [], []
    start = time.monotonic()
    for text in inputs:
        began, began_cpu = time.perf_counter(), time.process_time()
        await assistant.parse(text)
        samples.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    return samples, cpu, time.monotonic() - start


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

    def __init__(
        self,
        fake: LoadFake,
        database_url: str,
        count: int,
        folder: Path,
        profile: bool = False,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.fake = fake
        self.extra_env = extra_env or {}
        self.database_url = database_url
        self.count = count
        self.folder = folder
        self.profile_to = folder / "worker1.prof" if profile else None  # the first worker is profiled
        self.processes: list[BotProcess] = []
        self.balancer: RoundRobin | None = None

    def start(self) -> None:
        """Start the workers one after the other (the first migrates) and wait until they take updates."""
        env = {"RATE_LIMIT_BURST": "1000", "RATE_LIMIT_PER_MINUTE": "60000", "PUSH_INTERVAL_SECONDS": "1.0"}
        env |= self.extra_env
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
            profile_to = self.profile_to if index == 0 else None
            worker = BotProcess(self.fake, folder, self.database_url, profile_to, **env, **extra)
            worker.start()
            self.processes.append(worker)
        listening = "setWebhook" if ports else "getUpdates"
        self.fake.wait_for(lambda f: len(f.calls(listening)) >= self.count, timeout=120)

    def profile(self, on: bool) -> None:
        """Start or stop (and write) the first worker's profile, when profiled."""
        if self.profile_to is not None:
            if not on:
                self.profile_to.unlink(missing_ok=True)
            self.processes[0].profile(on)

    def profile_summary(self, turns: int) -> list[str]:
        """The profile's summary (bench/profile_summary.py), once the worker has written it."""
        if self.profile_to is None:
            return []
        deadline = time.monotonic() + 60
        while not self.profile_to.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # the file is written in one go, but give the worker time to finish writing it
        return summarise(str(self.profile_to), turns)

    def cpu_seconds(self) -> float:
        """CPU time of the workers (and any children)."""
        pids = [w.process.pid for w in self.processes if w.process is not None]
        return sum(cpu_seconds(pid) for pid in pids + [c for pid in pids for c in child_pids(pid)])

    def log_lines(self, part: str) -> list[str]:
        """The workers' log lines holding a text (after they stopped: e.g. the parse cache's counts)."""
        # A line can be both in the process's stderr and in its log file: each once.
        lines = [line.strip()[:200] for w in self.processes for line in w.output().splitlines() if part in line]
        return list(dict.fromkeys(lines))

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


TURNS_PER_USER = 6.6  # buyers 7 or 8 turns, contacts 3, one in five a contact: for sizing the paced phase


@dataclass
class Measured:
    """A timed phase: its turns, wall time, CPU seconds (the bot's, the rest's) and the load average."""

    phase: Phase
    wall: float = 0.0
    bot_cpu: float = 0.0
    rest_cpu: float = 0.0
    load_average: tuple[float, float] = (0.0, 0.0)  # before, after

    def cpu_per_turn(self) -> float:
        """The bot's CPU time per turn, ms."""
        return self.bot_cpu * 1000 / max(len(self.phase.turns), 1)


class Bench:
    """One run: the database, the fake Bot API, the bot (in this process or as workers), and the phases."""

    def __init__(self, args: argparse.Namespace, tmp: Path, errors: ErrorCount) -> None:
        self.args = args
        self.tmp = tmp
        self.errors = errors
        self.url = args.database_url or f"sqlite:///{tmp / 'load.db'}"
        self.model = model_path(Settings.from_env())
        self.warm_roles = dict(zip(WARM_UP_USERS, ("buyer", "contact"), strict=True))
        self.sequential_roles = roles_for(FIRST_USER - 1000, args.sequential, args.contact_every)
        self.roles = roles_for(FIRST_USER, args.users, args.contact_every)
        paced_users = math.ceil(args.rate * args.duration / TURNS_PER_USER) if args.rate else 0
        self.paced_roles = roles_for(FIRST_USER + 100_000, paced_users, args.contact_every)
        self.everyone = {**self.warm_roles, **self.sequential_roles, **self.roles, **self.paced_roles}
        contacts = [u for u, r in self.everyone.items() if r == "contact"]
        self.engine, self.sessions, self.stock_listings = prepare_database(self.url, contacts)
        if self.paced_roles:
            top_up(self.sessions, set(self.stock_listings.values()), paced_users)
        self.fake = LoadFake()
        self.fake.start()
        self.settings = settings_for(
            self.fake, self.url, rate_limit_burst=1000, rate_limit_per_minute=60_000, push_interval_seconds=1.0,
            log_dir=tmp, parse_cache_size=0 if args.no_parse_cache else Settings.parse_cache_size,
        )  # fmt: skip
        self.workers: Workers | None = None
        self.dialogue: TimedDialogue | None = None
        self.driver = Driver(self.fake, self.stock_listings, args.timeout, args.seed, 0.0)

    def start_bot(self) -> tuple[contextlib.AbstractContextManager[Any], str]:
        """Start the bot: workers now, or a context that runs it in this process; and its description."""
        if self.args.workers:
            no_cache = {"PARSE_CACHE_SIZE": "0"} if self.args.no_parse_cache else {}
            self.workers = Workers(
                self.fake, self.url, self.args.workers, self.tmp, profile=self.args.profile, extra_env=no_cache
            )
            self.workers.start()
            return contextlib.nullcontext(), f"{self.args.workers} bot process{'es' if self.args.workers > 1 else ''}"
        services = make_services(self.sessions)
        self.dialogue = TimedDialogue(
            Assistant.load(
                self.model,
                InProcessEndpoint(build_executor(services)),
                tracker_store_for(self.settings),
                lock_store_for(self.settings),
                catalog_names=services.search.names,
                parse_cache_size=self.settings.parse_cache_size,
            )
        )
        bot = running_telegram(self.fake, self.settings, self.dialogue, self.sessions)
        return bot, "the bot in this process, actions in process"

    def cpu(self) -> tuple[float, float]:
        """CPU seconds so far: the bot's (the workers, or this process) and the rest's."""
        if self.workers is not None:
            return self.workers.cpu_seconds(), cpu_seconds()
        return cpu_seconds(), 0.0

    def pids(self) -> list[int]:
        """The bot's processes."""
        if self.workers is not None:
            return [w.process.pid for w in self.workers.processes if w.process is not None]
        return [os.getpid()]

    def held(self) -> list[str]:
        """Per bot process: memory, connections, database files; and the tracker store's rows."""
        database_file = make_url(self.url).database if self.url.startswith("sqlite") else None
        lines = [f"    process {pid}: {held_by(pid, database_file)}" for pid in self.pids()]
        with self.sessions() as session:
            rows = session.scalar(sql_text("SELECT count(*) FROM events"))
        return [*lines, f"    tracker store: {rows} rows in events"]

    def measure(
        self, loop: asyncio.AbstractEventLoop, roles: dict[int, str], concurrency: int, arrivals: float = 0.0
    ) -> Measured:
        """Run one phase of users and measure it."""
        measured = Measured(Phase())
        if self.dialogue is not None:
            self.dialogue.samples = measured.phase.dialogue_ms
        load_before, (bot_before, rest_before) = os.getloadavg()[0], self.cpu()
        measured.wall = loop.run_until_complete(
            self.driver.run(list(roles), roles, concurrency, measured.phase, arrivals)
        )
        load_after, (bot_after, rest_after) = os.getloadavg()[0], self.cpu()
        measured.bot_cpu, measured.rest_cpu = bot_after - bot_before, rest_after - rest_before
        measured.load_average = (load_before, load_after)
        return measured


def top_up(sessions: Any, contacts_listings: set[int], buyers: int) -> None:
    """Give every listing buyers may order from enough stock for a long paced run (a NEW_BATCH move)."""
    with sessions() as session, session.begin():
        for listing_id in session.scalars(select(Listing.id)):
            if listing_id not in contacts_listings:
                ledger.new_batch(session, listing_id, Decimal(40 * buyers), None, "load bench: paced run")


def cpu_line(measured: Measured, workers: bool) -> str:
    """The CPU per turn of a phase."""
    turns = max(len(measured.phase.turns), 1)
    if workers:
        return (
            f"  CPU per turn: {measured.cpu_per_turn():.1f} ms in the bot processes, "
            f"{measured.rest_cpu * 1000 / turns:.1f} ms in this one (fake Bot API, users, balancer)"
        )
    return f"  CPU per turn: {measured.cpu_per_turn():.1f} ms in the bot's process (PTB, Rasa, actions, fake server, driver)"


def main() -> int:
    """Set everything up, run the phases, check the database, print the report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=200, help="users of the saturated (closed) load; 0: none")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--sequential", type=int, default=10, help="users run one at a time first (service time)")
    parser.add_argument("--contact-every", type=int, default=5, help="every Nth user is a supply contact (5: 20%%)")
    parser.add_argument("--think", type=float, default=0.0, help="mean seconds a user waits before the next turn")
    parser.add_argument("--rate", type=float, default=0.0, help="then a paced (open) load offering this many turns/s")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of the paced load (600: a soak)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for one reply")
    parser.add_argument("--workers", type=int, default=0, help="bot processes (0: the bot in this process)")
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temp folder")
    parser.add_argument("--log-level", default="INFO", help="the bot's log level (to a file in the temp folder)")
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (database, logs) and print it")
    parser.add_argument(
        "--no-parse-cache", action="store_true", help="keep no parses of repeated texts (PARSE_CACHE_SIZE=0)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the first worker over the saturated load")
    args = parser.parse_args()

    if not model_path(Settings.from_env()).is_file():
        print(f"no trained model at {model_path(Settings.from_env())}: run `make train`")
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="fupin-load-"))
    logs.configure(args.log_level, tmp / "bot.log", also_stderr=False)  # as `python -m bot run` logs
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    import jieba
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.getLogger().level)
    jieba.setLogLevel(logging.WARNING)

    began = time.monotonic()
    bench = Bench(args, tmp, errors)
    try:
        return run(bench, began)
    finally:
        if bench.workers is not None:
            bench.workers.stop()
        bench.fake.stop()
        bench.engine.dispose()
        if args.keep:
            print(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run(bench: Bench, began: float) -> int:
    """The phases and the report."""
    args, driver, fake = bench.args, bench.driver, bench.fake
    bot, shape = bench.start_bot()
    buyers = sum(r == "buyer" for r in bench.roles.values())
    print(
        f"set-up: {bench.engine.url.get_backend_name()} database, {shape}, model, fake Bot API in "
        f"{time.monotonic() - began:.0f}s; saturated load: {args.users} users ({buyers} buyers, "
        f"{args.users - buyers} supply contacts), {args.concurrency} at a time"
        + (f"; then paced: {args.rate:g} turns/s offered for {args.duration:g}s ({len(bench.paced_roles)} users)"
           if args.rate else "")
    )  # fmt: skip
    held_start: list[str] = []
    with bot:
        loop = asyncio.new_event_loop()
        try:
            warm = bench.measure(loop, bench.warm_roles, 2)
            start_stock = stock_of(bench.sessions)  # after the warm-up, which may have changed a stock
            warm_orders = set(driver.tally.orders)
            held_start = bench.held()
            sequential = bench.measure(loop, bench.sequential_roles, 1)
            driver.think = args.think
            if bench.workers is not None:
                bench.workers.profile(True)
            load = bench.measure(loop, bench.roles, args.concurrency)
            if bench.workers is not None:
                bench.workers.profile(False)
            driver.think = 0.0
            paced = None
            rss = RssSampler(bench.pids(), every=args.duration / 10)
            if bench.paced_roles:
                with rss:
                    paced = bench.measure(loop, bench.paced_roles, 0, arrivals=len(bench.paced_roles) / args.duration)
        finally:
            loop.close()
        fake.wait_idle(quiet=1.0, timeout=120)
        held_end = bench.held()
    profile_lines: list[str] = []
    if bench.workers is not None:
        # The balancer alternates strictly, so the first worker took its share of the load's turns.
        profile_lines = bench.workers.profile_summary(len(load.phase.turns) // args.workers)
        bench.workers.stop()
        bench.errors.records += bench.workers.error_lines()
        profile_lines += [
            f"worker log: {line[line.index('parse cache:') :]}" for line in bench.workers.log_lines("parse cache:")
        ]
    assistant = (
        bench.dialogue.assistant
        if bench.dialogue is not None
        else Assistant.load(bench.model, None, catalog_names=CatalogNames(bench.sessions))  # parsing only
    )
    parse_loop = asyncio.new_event_loop()
    try:
        inputs = [t.what for t in (load.phase.turns or (paced.phase.turns if paced else []))]
        parse_samples, parse_cpu, parse_wall = parse_loop.run_until_complete(bare_parse(assistant, inputs))
    finally:
        parse_loop.close()
    parse_p50 = statistics.median(parse_samples) if parse_samples else float("nan")
    # The same parses' CPU time: on a machine shared with other work, wall time also holds the waits for a core.
    parse_cpu_p50 = statistics.median(parse_cpu) if parse_cpu else float("nan")

    phases = [warm, sequential, load] + ([paced] if paced else [])
    turns = [t for m in phases for t in m.phase.turns]
    turn_errors = Counter(t.error for t in turns if t.error)
    extra = extra_replies(fake, driver.tally, set(bench.everyone))
    error_total = sum(turn_errors.values()) + extra + len(fake.errors) + len(bench.errors.records)
    pushes = driver.tally.pushes + sum(len(fake.sent_to(u)) for u in LISTING_CONTACTS)
    workers = bench.workers is not None
    print(
        f"machine: {os.cpu_count()} cores; load average (1 min) {load.load_average[0]:.2f} before the saturated "
        f"load, {load.load_average[1]:.2f} after"
    )
    one_p50 = statistics.median(sequential.phase.latencies) if sequential.phase.latencies else float("nan")
    if sequential.phase.turns:
        print(
            f"one user at a time: {len(sequential.phase.turns)} turns of {args.sequential} users in {sequential.wall:.1f}s"
        )
        print(f"  full path   {figures(sequential.phase.latencies, sequential.wall)}")
        if sequential.phase.dialogue_ms:
            print(f"  dialogue    {figures(sequential.phase.dialogue_ms, None)}  (Rasa handle_text with the actions)")
        print(f"  p50 / bare parse p50 = {one_p50 / parse_p50:.1f}×")
    rate = len(load.phase.latencies) / load.wall if load.wall else 0.0
    if load.phase.turns:
        print(
            f"saturated load: {len(load.phase.turns)} turns of {args.users} users, {args.concurrency} at a time"
            f"{f', {args.think:g} s think time' if args.think else ''}, in {load.wall:.1f}s; "
            f"{pushes} new-order pushes to supply contacts"
        )
        print(f"  full path   {figures(load.phase.latencies, load.wall)}")
        if not args.think:
            print(
                f"    (no think time: {args.concurrency} turns always in flight, so the mean latency is "
                f"{args.concurrency} / {rate:.1f} turns/s = {args.concurrency / max(rate, 1e-9):.2f} s, by Little's law)"
            )
        if load.phase.dialogue_ms:
            print(f"  dialogue    {figures(load.phase.dialogue_ms, None)}  (Rasa handle_text with the actions)")
        print(cpu_line(load, workers))
    print(f"  bare parse  {figures(parse_samples, parse_wall)}  (agent.parse_message of the same inputs in turn)")
    print(f"              CPU p50 {parse_cpu_p50:6.1f} ms")
    if load.phase.turns:
        print(f"  CPU per turn / bare parse p50 = {load.cpu_per_turn():.1f} / {parse_p50:.1f} ms = "
              f"{load.cpu_per_turn() / parse_p50:.2f}× (against the parse's CPU p50: "
              f"{load.cpu_per_turn() / parse_cpu_p50:.2f}×)")  # fmt: skip
    paced_p95 = float("nan")
    if paced is not None:
        offered = len(paced.phase.turns) / args.duration
        paced_p95 = percentile(paced.phase.latencies, 95) if paced.phase.latencies else float("inf")
        print(
            f"paced load: {len(paced.phase.turns)} turns of {len(bench.paced_roles)} users arriving at random over "
            f"{args.duration:g}s ({offered:.1f} turns/s offered), done in {paced.wall:.1f}s; load average "
            f"{paced.load_average[0]:.2f} → {paced.load_average[1]:.2f}"
        )
        print(f"  full path   {figures(paced.phase.latencies, paced.wall)}")
        print(cpu_line(paced, workers))
        print("  RSS of the bot's processes, at the start of the paced load, each tenth of it, and its end:")
        print("\n".join(rss.lines()))
    print("held by the bot (after the warm-up → at the end):")
    for before, after in zip(held_start, held_end, strict=True):
        print(f"{before}\n  → {after.strip()}")
    print(
        f"errors: {error_total}  (no reply {turn_errors.get('no reply', 0)}, apology {turn_errors.get('apology', 0)}, "
        f"unexpected {turn_errors.get('unexpected reply', 0)}, extra replies {extra}, fake server {len(fake.errors)}, "
        f"bot error logs {len(bench.errors.records)}); users stopped early {driver.tally.aborted}"
    )
    for problem in (driver.problems + bench.errors.records)[:5]:
        print(f"  - {problem}")
    for line in profile_lines:
        print(line)
    lines = check_database(bench.sessions, driver.tally, start_stock, set(bench.stock_listings.values()), warm_orders)
    for line in lines:
        print(line)
    correct = error_total == 0 and all(line.startswith("PASS") for line in lines)
    targets = [(one_p50 <= 2 * parse_p50, f"one user at a time p50 ≤ 2 × bare parse p50 ({one_p50 / parse_p50:.1f}×)")]
    if load.phase.turns:  # the saturated load's targets; a soak (--users 0) has none
        targets[:0] = [
            (load.cpu_per_turn() <= 2 * parse_p50, f"CPU per turn ≤ 2 × bare parse p50 ({load.cpu_per_turn() / parse_p50:.2f}×)"),
            (rate >= 50 and correct, f"saturated ≥ 50 turns/s ({rate:.1f}), 0 errors ({error_total}), no lost or duplicated orders"),
        ]  # fmt: skip
    else:
        targets.append((correct, f"0 errors ({error_total}), no lost or duplicated orders"))
    if paced is not None:
        targets.append((paced_p95 <= 250, f"paced p95 ≤ 250 ms ({paced_p95:.0f} ms at {len(paced.phase.turns) / args.duration:.1f} turns/s)"))  # fmt: skip
    for met, label in targets:
        print(f"{'PASS' if met else 'FAIL'} target: {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
