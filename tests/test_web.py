"""The web console through aiohttp's test client: sign-in, pages per role, CSRF, admin actions, downloads."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from fupin.models import AdminAction, RegistrationCode, Village, utcnow
from fupin.outreach.web_links import SignInError, current_user, issue_link, redeem_link
from fupin.periods import Period
from fupin.reporting.kinds import ReportKind, SubmissionSource
from fupin.reporting.locks import is_locked_quarter
from fupin.reporting.submissions import submit_report, submitted
from fupin.settings import Settings
from tests.conftest import Cli, Database, sqlite_copy
from tests.web_data import ADMIN, BUYER, CONTACT, LEAD, link_for, seed_console, sign_in, with_client

Q3 = "2019Q3"
ADMIN_PAGES = ["/?quarter=2019Q3", "/catalog", "/catalog?q=洋芋", "/orders", "/downloads", "/admin"]


@pytest.fixture
def console(db: Database) -> tuple[Database, dict[str, int]]:
    """A seeded database and its users' ids."""
    return db, seed_console(db)


def test_a_valid_link_signs_in_once_with_a_strict_httponly_cookie(console: tuple[Database, dict[str, int]]) -> None:
    db, users = console
    token = link_for(db, users[ADMIN])

    async def test(client: TestClient) -> None:
        page = await client.get(f"/login/{token}")
        assert page.status == 200 and 'id="sign-in"' in await page.text()
        response = await client.post("/login", data={"token": token}, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/"
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
        home = await client.get("/?quarter=2019Q3")
        assert home.status == 200 and "4,980.00元" in await home.text()
        again = await client.post("/login", data={"token": token}, allow_redirects=False)
        assert again.status == 403 and "已经用过" in await again.text()

    with_client(db, test)


def test_expired_forged_and_empty_links_are_refused(console: tuple[Database, dict[str, int]]) -> None:
    db, users = console
    with db.sessions() as session, session.begin():
        expired = issue_link(session, users[ADMIN], ttl=timedelta(minutes=-1))

    async def test(client: TestClient) -> None:
        for token, words in ((expired, "已过期"), ("forged-" + "x" * 40, "无效"), ("", "无效")):
            response = await client.post("/login", data={"token": token}, allow_redirects=False)
            assert response.status == 403 and words in await response.text()
            assert "Set-Cookie" not in response.headers
        assert (await client.get("/", allow_redirects=False)).headers["Location"] == "/login"

    with_client(db, test)


def test_only_admins_and_lead_units_get_links(console: tuple[Database, dict[str, int]]) -> None:
    db, users = console
    with db.sessions() as session, session.begin():
        for sender in (CONTACT, BUYER):
            with pytest.raises(SignInError):
                issue_link(session, users[sender])
        assert issue_link(session, users[LEAD])


def test_tokens_are_stored_only_as_hashes_and_sessions_expire_after_8_idle_hours(
    console: tuple[Database, dict[str, int]],
) -> None:
    db, users = console
    token = link_for(db, users[ADMIN])
    with db.sessions() as session, session.begin():
        opened = redeem_link(session, token)
    with db.sessions() as session, session.begin():
        from fupin.models import WebLink, WebSession

        assert token not in {row.token_hash for row in session.scalars(select(WebLink))}
        assert opened.cookie not in {row.token_hash for row in session.scalars(select(WebSession))}
        assert current_user(session, opened.cookie, now=utcnow() + timedelta(hours=7)) is not None
    with db.sessions() as session, session.begin():
        assert current_user(session, opened.cookie, now=utcnow() + timedelta(hours=15, minutes=1)) is None
    with db.sessions() as session:
        assert current_user(session, opened.cookie) is None  # ended, not revived


def test_strangers_are_sent_to_sign_in_from_every_page(console: tuple[Database, dict[str, int]]) -> None:
    db, _users = console

    async def test(client: TestClient) -> None:
        for path in [*ADMIN_PAGES, "/downloads/catalog.xlsx", "/catalog/1"]:
            response = await client.get(path, allow_redirects=False)
            assert response.status == 302 and response.headers["Location"] == "/login", path
        forged = await client.get("/orders", cookies={"fupin_console": "made-up"}, allow_redirects=False)
        assert forged.status == 302
        login = await client.get("/login")
        assert "/web" in await login.text()
        assert "default-src 'none'" in login.headers["Content-Security-Policy"]

    with_client(db, test)


def test_every_page_for_an_admin(console: tuple[Database, dict[str, int]]) -> None:
    db, users = console
    token = link_for(db, users[ADMIN])

    async def test(client: TestClient) -> None:
        await sign_in(client, token)
        for path in ADMIN_PAGES:
            response = await client.get(path)
            assert response.status == 200, path
            html = await response.text()
            assert "http://" not in html.replace("http://www.w3.org", "") or path.startswith("/catalog"), path
            assert "Content-Security-Policy" in response.headers
        catalogue = await (await client.get("/catalog?q=洋芋")).text()
        assert "土豆" in catalogue and "/catalog/" in catalogue
        listing_id = catalogue.split('href="/catalog/')[1].split('"')[0]
        listing = await client.get(f"/catalog/{listing_id}")
        assert listing.status == 200 and "库存记录" in await listing.text()
        orders = await (await client.get("/orders?township=龙角镇")).text()
        assert "县第一中学" in orders and "共 1 个订单" in orders
        assert "共 0 个订单" in await (await client.get("/orders?township=泥溪镇")).text()
        assert (await client.get("/catalog/999999")).status == 404

    with_client(db, test)


def test_a_lead_unit_reads_its_own_system_only(console: tuple[Database, dict[str, int]]) -> None:
    db, users = console
    token = link_for(db, users[LEAD])

    async def test(client: TestClient) -> None:
        response = await client.post("/login", data={"token": token}, allow_redirects=False)
        assert response.headers["Location"] == "/orders"
        assert (await client.get("/", allow_redirects=False)).headers["Location"] == "/orders"
        for path in ("/orders", "/catalog?q=土豆", "/downloads"):
            assert (await client.get(path)).status == 200, path
        orders = await (await client.get("/orders")).text()
        assert "县第一中学" in orders  # 县第一中学 is a school: 县教委's system
        for path in ("/admin", "/downloads/catalog.xlsx", "/downloads/sales.xlsx?quarter=2019Q3"):
            assert (await client.get(path)).status == 403, path
        own = await client.get("/downloads/purchases.xlsx?quarter=2019Q3&lead_unit=县教委")
        assert own.status == 200
        other = await client.get("/downloads/purchases.xlsx?quarter=2019Q3&lead_unit=县卫健委")
        assert other.status == 403
        csrf = (await (await client.get("/orders")).text()).split('name="csrf" value="')[1].split('"')[0]
        refused = await client.post("/admin/village", data={"csrf": csrf, "place": "龙角镇张家村", "deep": "1"})
        assert refused.status == 403

    with_client(db, test)


def test_posts_without_the_sessions_csrf_token_are_refused(console: tuple[Database, dict[str, int]]) -> None:
    db, users = console
    token = link_for(db, users[ADMIN])

    async def test(client: TestClient) -> None:
        await sign_in(client, token)
        for data in ({}, {"csrf": "wrong"}):
            response = await client.post(
                "/admin/village", data={**data, "place": "龙角镇张家村", "deep": "1", "confirm": "1"}
            )
            assert response.status == 403
        assert (await client.post("/logout", data={})).status == 403

    with_client(db, test)
    with db.sessions() as session:
        village = session.scalars(select(Village).where(Village.short_name == "张家村")).one()
        assert not village.deep_poverty


def test_admin_actions_ask_first_then_act_and_are_audited(console: tuple[Database, dict[str, int]]) -> None:
    db, users = console
    token = link_for(db, users[ADMIN])
    with db.sessions() as session, session.begin():
        submit_report(
            session, kind=ReportKind.SALES, period=Period(2019, 3), reporter="龙角镇", township_id=None,
            user_id=None, source=SubmissionSource.CHAT, rows=2, amount_fen=18000,
        )  # fmt: skip  # 确认报送 in chat: the quarter is locked until an admin reopens it

    async def test(client: TestClient) -> None:
        csrf = await sign_in(client, token)
        asked = await client.post("/admin/village", data={"csrf": csrf, "place": "龙角镇张家村", "deep": "1"})
        assert asked.status == 200 and 'id="confirm"' in await asked.text()
        with db.sessions() as session:
            assert not session.scalars(select(Village).where(Village.short_name == "张家村")).one().deep_poverty
        done = await client.post(
            "/admin/village", data={"csrf": csrf, "place": "龙角镇张家村", "deep": "1", "confirm": "1"}
        )
        assert done.status == 200 and "已标记为深度贫困村" in await done.text()
        reopen = {"csrf": csrf, "kind": "sales", "quarter": Q3, "reporter": "龙角镇", "confirm": "1"}
        assert "已重新打开" in await (await client.post("/admin/reopen", data=reopen)).text()
        assert "无需重新打开" in await (await client.post("/admin/reopen", data=reopen)).text()
        invite = {"csrf": csrf, "role": "contact", "township": "龙角镇", "village": "张家村", "confirm": "1"}
        assert "邀请码：" in await (await client.post("/admin/invite", data=invite)).text()
        bad = {**invite, "township": "火星镇"}
        assert (await client.post("/admin/invite", data=bad)).status == 400
        trail = await (await client.get("/admin")).text()
        assert "village_deep_poverty" in trail and "县商务委张三" in trail

    with_client(db, test)
    with db.sessions() as session:
        assert session.scalars(select(Village).where(Village.short_name == "张家村")).one().deep_poverty
        # Reopened: still submitted (its figures stay), but no longer locked against a corrected file.
        assert submitted(session, ReportKind.SALES, Period(2019, 3)) == {"龙角镇"}
        assert not is_locked_quarter(session, ReportKind.SALES, Period(2019, 3), "龙角镇")
        assert session.scalar(select(RegistrationCode).where(RegistrationCode.created_by == users[ADMIN]))
        actions = [a.action for a in session.scalars(select(AdminAction).order_by(AdminAction.id))]
        assert actions == ["sign_in", "village_deep_poverty", "reopen_submission", "invite"]


def test_secure_cookie_behind_https(console: tuple[Database, dict[str, int]]) -> None:
    db, users = console
    token = link_for(db, users[ADMIN])

    async def test(client: TestClient) -> None:
        response = await client.post("/login", data={"token": token}, allow_redirects=False)
        assert "Secure" in response.headers["Set-Cookie"]

    with_client(db, test, Settings(database_url=db.url, web_public_url="https://fupin.example.cn"))


def _sheets(path: Path) -> dict[str, pd.DataFrame]:
    # The overview workbook says when it was made, to the minute: the only cell allowed to differ.
    sheets = pd.read_excel(path, sheet_name=None, header=None)
    return {name: frame.replace(r"生成时间：\S+ \S+", "生成时间", regex=True) for name, frame in sheets.items()}


def test_downloads_equal_the_command_lines_files(cli: Cli, sqlite_template: Path, tmp_path: Path) -> None:
    with sqlite_copy(sqlite_template, tmp_path / "cli.db") as db:
        users = seed_console(db)
        token = link_for(db, users[ADMIN])
        cases = [
            ("/downloads/catalog.xlsx", ("catalog", "export", "a1.xlsx")),
            ("/downloads/sales.xlsx?quarter=2019Q3&township=龙角镇", ("report", "sales", "--quarter", Q3, "--township", "龙角镇", "-o", "a2.xlsx")),
            ("/downloads/sales.xlsx?quarter=2019Q3", ("report", "sales", "--quarter", Q3, "-o", "a2all.xlsx")),
            ("/downloads/purchases.xlsx?quarter=2019Q3&lead_unit=县教委", ("report", "purchases", "--quarter", Q3, "--lead-unit", "县教委", "-o", "a3.xlsx")),
            ("/downloads/overview.xlsx?quarter=2019Q3", ("report", "overview", "--quarter", Q3, "-o", "ov")),
        ]  # fmt: skip

        async def test(client: TestClient) -> list[bytes]:
            await sign_in(client, token)
            bodies = []
            for url, _args in cases:
                response = await client.get(url)
                assert response.status == 200, url
                assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
                bodies.append(await response.read())
            return bodies

        bodies = with_client(db, test)
        for (_url, args), body in zip(cases, bodies, strict=True):
            result = cli(*args)
            assert result.returncode == 0, result.stdout + result.stderr
            cli_file = tmp_path / args[-1]
            if cli_file.is_dir():
                cli_file = cli_file / "2019Q3消费扶贫总体情况.xlsx"
            web_file = tmp_path / f"web-{cli_file.name}"
            web_file.write_bytes(body)
            web, ours = _sheets(web_file), _sheets(cli_file)
            assert web.keys() == ours.keys()
            for name in web:
                pd.testing.assert_frame_equal(web[name], ours[name], check_dtype=False)
        overview = cli("report", "overview", "--quarter", Q3, "-o", "ov2")
        assert "全县销售4,980.00元" in overview.stdout
