"""Beyond one machine: two bot workers in webhook mode sharing PostgreSQL (application data and Rasa's
tracker store) and Redis (Rasa's lock store), behind a round-robin balancer; reminders run in exactly one.

Also the database going away and coming back: the workers reach PostgreSQL through a proxy that can cut
every connection and refuse new ones, as a stopped server does, without stopping the server other tests use.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import redis
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from fupin.db import make_engine, make_session_factory
from fupin.models import Lease, Listing, Notification, Order, Township, User, utcnow
from fupin.outreach.registration import issue_code
from fupin.values import Role
from harness.bot_process import BotProcess, listening_sockets
from harness.fake_telegram import FakeTelegram
from harness.netproxy import RoundRobin, TcpProxy, free_port
from tests.conftest import TEST_DATABASE_URL
from tests.telegram_chat import messages, press_one, say_one

CONTACT = 61001
BUYER = 62001
SECRET = "scale-out-secret_123"


def _redis_up() -> bool:
    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping())
    except redis.RedisError:
        return False


pytestmark = [
    pytest.mark.process,
    pytest.mark.xdist_group("scale_out"),  # one cluster for the module's tests: on one worker (make test)
    pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set: PostgreSQL tests not run"),
]


@dataclass
class Cluster:
    """Two workers, their balancer, the database proxy and the fake Telegram."""

    fake: FakeTelegram
    proxy: TcpProxy
    balancer: RoundRobin
    workers: list[BotProcess]
    sessions: sessionmaker[Session]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Start everything on a PostgreSQL schema of its own; the workers one after the other (migrations)."""
    if not _redis_up():
        pytest.skip("Redis is not running at 127.0.0.1:6379")
    base = make_url(TEST_DATABASE_URL)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(TEST_DATABASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    proxy = TcpProxy(base.host or "127.0.0.1", base.port or 5432)
    proxy.start()
    proxied = base.set(host="127.0.0.1", port=proxy.port, query={"options": f"-csearch_path={schema}"})
    direct = make_engine(TEST_DATABASE_URL, connect_args={"options": f"-csearch_path={schema}"})
    ports = [free_port(), free_port()]
    balancer = RoundRobin([f"http://127.0.0.1:{port}" for port in ports])
    balancer.start()
    workdir = tmp_path_factory.mktemp("cluster")
    workers: list[BotProcess] = []
    with FakeTelegram() as fake:
        try:
            for index, port in enumerate(ports):
                folder = workdir / f"worker{index + 1}"
                folder.mkdir()
                worker = BotProcess(
                    fake,
                    folder,
                    proxied.render_as_string(hide_password=False),
                    TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{balancer.port}/hook",
                    TELEGRAM_WEBHOOK_SECRET=SECRET,
                    TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
                    TELEGRAM_WEBHOOK_PORT=str(port),
                    LOCK_STORE_URL="redis://127.0.0.1:6379/0",
                    REMINDERS_ENABLED="1",
                    REMINDER_CHECK_SECONDS="1",
                    REMINDER_LEASE_SECONDS="4",
                )
                worker.start()
                workers.append(worker)
            yield Cluster(fake, proxy, balancer, workers, make_session_factory(direct))
        finally:
            for worker in workers:
                worker.terminate()
            balancer.stop()
            proxy.stop()
            direct.dispose()
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def test_two_workers_share_conversations_pushes_and_one_scheduler(cluster: Cluster) -> None:
    fake, sessions = cluster.fake, cluster.sessions
    with sessions() as session, session.begin():
        code = issue_code(session, Role.CONTACT, township="龙角镇").code
    assert "登记成功" in (say_one(fake, CONTACT, f"/register {code}").text or "")
    # 龙角镇's catalogue has not been updated for 40 days: today's 09:00 catalogue reminder is due for its contact.
    with sessions() as session, session.begin():
        township_id = session.scalar(select(Township.id).where(Township.name == "龙角镇"))
        session.execute(
            update(Listing).where(Listing.township_id == township_id).values(updated_at=utcnow() - timedelta(days=40))
        )

    # One buyer's order, turn by turn, alternating between the two workers.
    say_one(fake, BUYER, "我要买龙角镇的土豆")
    say_one(fake, BUYER, "30斤")
    say_one(fake, BUYER, "县人民医院食堂")
    methods = say_one(fake, BUYER, "17723635558")
    summary = press_one(fake, BUYER, methods, "送货上门")
    done = press_one(fake, BUYER, summary, "确认下单")
    assert "下单成功" in (done.text or ""), done.text
    order_no = re.search(r"XF\d{6}[0-9A-F]{6}", done.text or "")
    assert order_no
    served = {target for target in cluster.balancer.forwarded}
    assert len(served) == 2, "both workers took part in the conversation"

    # Both workers send pushes from the one outbox, and reminders run in the lease holder only.
    fake.wait_for(lambda f: any(order_no[0] in (m.text or "") for m in messages(f, CONTACT)), timeout=30)
    fake.wait_for(lambda f: any("目录更新提醒" in (m.text or "") for m in messages(f, CONTACT)), timeout=60)
    time.sleep(6)  # several more scheduler ticks and push rounds in both workers
    contact_texts = [m.text or "" for m in messages(fake, CONTACT)]
    assert sum(order_no[0] in t for t in contact_texts) == 1, contact_texts
    assert sum("目录更新提醒" in t for t in contact_texts) == 1, contact_texts
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        assert len(session.scalars(select(Lease)).all()) == 1
        contact = session.scalars(select(User).where(User.external_id == str(CONTACT))).one()
        kinds = session.scalars(select(Notification.kind).where(Notification.user_id == contact.id)).all()
    assert sorted(kinds) == ["new_order", "reminder_catalogue"]


def test_database_outage_gets_clear_replies_and_recovers_without_restart(cluster: Cluster) -> None:
    fake = cluster.fake
    user = 62002
    assert "土豆" in (say_one(fake, user, "哪里有土豆").text or "")
    cluster.proxy.cut()
    try:
        for _ in range(2):  # both workers, whichever the balancer picks
            answer = say_one(fake, user, "哪里有蜂蜜").text or ""
            assert "系统繁忙" in answer, answer
    finally:
        cluster.proxy.restore()
    # Back: within a couple of messages (stale pooled connections are dropped), answers are normal again.
    answers = [say_one(fake, user, "哪里有土豆").text or "" for _ in range(4)]
    assert "土豆" in answers[-1] and "土豆" in answers[-2], answers
    assert all(worker.process is not None and worker.process.poll() is None for worker in cluster.workers)


def test_webhook_requests_without_the_secret_are_refused(cluster: Cluster) -> None:
    import urllib.error
    import urllib.request

    target = cluster.balancer.targets[0] + "/hook"
    request = urllib.request.Request(
        target, data=b'{"update_id": 1}', headers={"Content-Type": "application/json"}, method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403


def test_a_worker_listens_on_its_webhook_port_only(cluster: Cluster) -> None:
    # The actions run inside each worker: the webhook is the one port a worker opens.
    for worker, target in zip(cluster.workers, cluster.balancer.targets, strict=True):
        assert worker.process is not None
        port = int(target.rsplit(":", 1)[1])
        assert listening_sockets(worker.process.pid) == [("127.0.0.1", port)]
