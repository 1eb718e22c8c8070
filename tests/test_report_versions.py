"""Issue #20: 附件2 imports as versions, who may replace a township's report and when, history and restore."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from fupin.catalog.search import CatalogSearch
from fupin.db import make_engine, make_session_factory, upgrade
from fupin.models import ReportVersion, SaleRecord
from fupin.outreach.users import Identity, bind_user, identify
from fupin.periods import Period, quarter_of, today
from fupin.reporting.attachment2 import seed_date
from fupin.reporting.documents import ReportInputError
from fupin.reporting.form_writers import write_sales_form
from fupin.reporting.kinds import ReportKind, SubmissionSource
from fupin.reporting.locks import ReportRefused, check_open, reopen_report
from fupin.reporting.overview import overview
from fupin.reporting.quarter import township_report
from fupin.reporting.sales import SaleDraft, SaleError, draft_sale, progress, record_sale
from fupin.reporting.sales_import import ImportResult, import_sales_report
from fupin.reporting.submissions import submit_report
from fupin.reporting.versions import report_history, restore_version
from fupin.setup import seed_demo
from fupin.values import JIN, Quantity, Role
from tests.conftest import Cli, Database
from tests.test_reports import GOOD_ROWS, Q3, SALES, add_sales, cli_db, filled_xlsx, records, township_id  # noqa: F401 (cli_db: fixture)

CURRENT = quarter_of(today())
TODAY = seed_date(today())
CORRECTED: list[tuple[object, ...]] = [
    ("县人民医院食堂", "2019.9.3", "云阳县龙角镇张家村", "王某某", "土豆", "60斤", "90元", ""),
]
# This quarter's rows of 龙角镇: one of 张家村, one of 永富村.
ZHANGJIA = ("县人民医院食堂", TODAY, "云阳县龙角镇张家村", "王某某", "土豆", "50斤", "75元", "")
YONGFU = ("县第一中学", TODAY, "云阳县龙角镇永富村", "陈某某", "腊肉", "20斤", "900元", "")
ZHANGJIA_MORE = ("县第一中学", TODAY, "云阳县龙角镇张家村", "王某某", "白菜", "40斤", "60元", "")


@pytest.fixture
def sales(db: Database) -> Database:
    """The demo catalogue, test_reports' purchase records, and people of every role."""
    assert seed_demo(db.sessions).ok
    add_sales(db, SALES)
    with db.sessions() as session, session.begin():
        bind_user(session, "console:lj", Role.CONTACT, township="龙角镇", display_name="李xx")
        bind_user(session, "console:zj", Role.CONTACT, township="龙角镇", village="张家村", display_name="张村")
        bind_user(session, "console:nx", Role.CONTACT, township="泥溪镇", display_name="泥溪")
        bind_user(session, "console:admin", Role.ADMIN, display_name="县商务委")
    return db


def who(db: Database, sender: str) -> Identity:
    with db.sessions() as session:
        return identify(session, sender)


def send(
    db: Database,
    tmp_path: Path,
    rows: Sequence[tuple[object, ...]],
    sender: Identity | None,
    period: Period = CURRENT,
    name: str = "lj.xlsx",
) -> ImportResult:
    """Import rows as 龙角镇's 附件2 sent by someone (None: the command line)."""
    path = filled_xlsx(tmp_path / name, rows)
    return import_sales_report(db.sessions, path, period, township_id(db, "龙角镇"), sender)


def order_records(db: Database) -> list[tuple[object, ...]]:
    """Every record of a delivered order, with its id: no import or restore may touch one."""
    with db.sessions() as session:
        rows = session.scalars(select(SaleRecord).where(SaleRecord.source == "order").order_by(SaleRecord.id))
        return [
            (r.id, r.township_id, r.product_name, r.quantity, r.amount_fen, r.sold_on, r.report_version_id)
            for r in rows
        ]


def total(db: Database, township: str, period: Period = Q3) -> int:
    with db.sessions() as session:
        return township_report(session, period, township_id(db, township)).total_fen


# ------------------------------------------------------------------------------- chat sales are kept


def test_importing_an_attachment2_keeps_the_sales_told_in_chat(sales: Database, tmp_path: Path) -> None:
    contact = who(sales, "console:lj")
    with sales.sessions() as session, session.begin():
        record_sale(session, contact, SaleDraft("县第一中学", "白菜", Quantity(Decimal(10), JIN), 3000, today()))
    result = send(sales, tmp_path, [ZHANGJIA], contact)
    assert result.ok, result.lines()
    assert (result.version, result.added, result.replaced) == (1, 1, 0)
    assert ("report", "县第一中学", "白菜", 10, JIN, 3000, today()) in records(sales, "龙角镇", CURRENT)
    assert total(sales, "龙角镇", CURRENT) == 3000 + 7500
    # A second file that repeats the chat sale does not count it twice, and still does not remove it.
    again = send(
        sales, tmp_path, [ZHANGJIA, ("县第一中学", TODAY, "云阳县龙角镇", "", "白菜", "10斤", "30元", "")], contact
    )
    assert again.ok and (again.version, again.added, again.matched_reports, again.replaced) == (2, 1, 1, 1)
    assert total(sales, "龙角镇", CURRENT) == 3000 + 7500
    assert "已导入第2版" in again.lines()[1] and "第1版的1条不再计入" in again.lines()[1]


# ------------------------------------------------------------------------------------------- rights


def test_a_village_contact_cannot_replace_the_townships_report(sales: Database, tmp_path: Path) -> None:
    first = send(sales, tmp_path, [ZHANGJIA, YONGFU], who(sales, "console:lj"))
    assert first.ok and first.version == 1
    village = who(sales, "console:zj")
    # Another village's row is refused with its row and column, and nothing of the file is imported.
    refused = send(sales, tmp_path, [ZHANGJIA_MORE, YONGFU], village, name="zj.xlsx")
    assert not refused.ok and not refused.applied
    assert [str(i) for i in refused.issues] == [
        "zj.xlsx 第6行，D列“地区”：地区“云阳县龙角镇永富村”不是龙角镇张家村，村（社区）供货联系人只能报送本村（社区）的销售"
    ]
    # Its own village's rows are a version of that village only: the township's version 1 still counts.
    added = send(sales, tmp_path, [ZHANGJIA, ZHANGJIA_MORE], village, name="zj.xlsx")
    assert added.ok, added.lines()
    assert (added.version, added.village, added.added, added.matched_reports, added.superseded) == (
        2, "龙角镇张家村", 1, 1, []
    )  # fmt: skip
    assert "已导入第2版（仅龙角镇张家村的销售）" in added.lines()[1]
    assert total(sales, "龙角镇", CURRENT) == 7500 + 90000 + 6000
    with sales.sessions() as session:
        history = report_history(session, ReportKind.SALES, CURRENT, "龙角镇")
    assert [(e.number, e.current, e.village) for e in history] == [(1, True, None), (2, True, "张家村")]
    # The township's next file is its full statement: it supersedes both.
    full = send(sales, tmp_path, [YONGFU], who(sales, "console:lj"))
    assert full.ok and full.superseded == [1, 2] and total(sales, "龙角镇", CURRENT) == 90000


@pytest.mark.parametrize("sender", ["console:nx", "console:buyer"])
def test_only_the_townships_contacts_and_the_county_may_send_its_report(
    sales: Database, tmp_path: Path, sender: str
) -> None:
    result = send(sales, tmp_path, [ZHANGJIA], who(sales, sender))
    assert not result.applied
    assert result.error == "lj.xlsx：只有龙角镇的乡镇级供货联系人或县级管理员可以报送、更正龙角镇的附件2。"
    assert ("report", "县人民医院食堂", "土豆", 50, JIN, 7500, today()) not in records(sales, "龙角镇", CURRENT)


# -------------------------------------------------------------------------------------------- locks


def test_a_confirmed_quarter_is_locked_until_an_admin_reopens_it(sales: Database, tmp_path: Path) -> None:
    contact, admin = who(sales, "console:lj"), who(sales, "console:admin")
    assert send(sales, tmp_path, [ZHANGJIA], contact).ok
    longjiao = township_id(sales, "龙角镇")
    with sales.sessions() as session, session.begin():
        submit_report(
            session, kind=ReportKind.SALES, period=CURRENT, reporter="龙角镇", township_id=longjiao,
            user_id=contact.user_id, source=SubmissionSource.CHAT, rows=1, amount_fen=7500,
        )  # fmt: skip
    for sender in (contact, admin, None):
        locked = send(sales, tmp_path, [YONGFU], sender)
        assert not locked.applied and locked.error is not None
        assert "已锁定，不能再更改。如需更正，请联系县级管理员重新开放" in locked.error
    with sales.sessions() as session, pytest.raises(ReportRefused, match="已锁定"):
        restore_version(session, CURRENT, longjiao, 1, admin)
    with sales.sessions() as session, pytest.raises(ReportRefused, match="只有县级管理员可以重新开放"):
        reopen_report(session, ReportKind.SALES, CURRENT, "龙角镇", contact)
    assert total(sales, "龙角镇", CURRENT) == 7500

    with sales.sessions() as session, session.begin():
        reopen_report(session, ReportKind.SALES, CURRENT, "龙角镇", admin)
    reopened = send(sales, tmp_path, [YONGFU], contact)
    assert reopened.ok and reopened.version == 2 and total(sales, "龙角镇", CURRENT) == 90000
    with sales.sessions() as session, pytest.raises(ReportRefused, match="没有锁定"):
        reopen_report(session, ReportKind.SALES, CURRENT, "龙角镇", None)
    # Confirming again locks it again.
    with sales.sessions() as session, session.begin():
        submit_report(
            session, kind=ReportKind.SALES, period=CURRENT, reporter="龙角镇", township_id=longjiao,
            user_id=contact.user_id, source=SubmissionSource.CHAT, rows=1, amount_fen=90000,
        )  # fmt: skip
    assert "已锁定" in (send(sales, tmp_path, [ZHANGJIA], admin).error or "")


def test_past_the_deadline_and_grace_a_contact_is_refused_but_not_an_admin(sales: Database, tmp_path: Path) -> None:
    late = send(sales, tmp_path, GOOD_ROWS, who(sales, "console:lj"), Q3)
    assert not late.applied
    assert late.error == (
        "lj.xlsx：龙角镇2019年第3季度附件2的报送截止日期是2019年9月30日，更正期限已于2019年10月15日结束，"
        "不能再更改。如需更正，请联系县级管理员。"
    )
    assert total(sales, "龙角镇") == 18000
    admin = send(sales, tmp_path, GOOD_ROWS, who(sales, "console:admin"), Q3)
    assert admin.ok and admin.version == 1
    # The grace days count from the deadline, as the setting says.
    contact = who(sales, "console:lj")
    with sales.sessions() as session:
        check_open(session, ReportKind.SALES, Q3, "龙角镇", contact, grace_days=15, day=date(2019, 10, 15))
        with pytest.raises(ReportRefused, match="更正期限已于2019年10月5日结束"):
            check_open(session, ReportKind.SALES, Q3, "龙角镇", contact, grace_days=5, day=date(2019, 10, 6))


def test_a_quarter_that_has_not_started_is_refused(sales: Database, tmp_path: Path) -> None:
    future = Period(today().year + 1, 1)
    for sender in (who(sales, "console:admin"), None):
        result = send(sales, tmp_path, GOOD_ROWS, sender, future)
        assert result.error == f"lj.xlsx：{future.label}还没有开始，不能报送或更改附件2。"
    with sales.sessions() as session, pytest.raises(ReportRefused, match="还没有开始"):
        check_open(session, ReportKind.SALES, CURRENT, "龙角镇", None, day=CURRENT.start - timedelta(days=1))


# ---------------------------------------------------------------------------- versions and figures


def test_reimport_history_and_restore(sales: Database, tmp_path: Path) -> None:
    orders = order_records(sales)
    longjiao = township_id(sales, "龙角镇")
    first = send(sales, tmp_path, GOOD_ROWS, None, Q3, name="a.xlsx")
    assert first.ok and first.version == 1
    after_first = records(sales, "龙角镇")
    second = send(sales, tmp_path, CORRECTED, None, Q3, name="b.xlsx")
    assert second.ok and (second.version, second.superseded, second.replaced) == (2, [1], 3)

    # The forms, the quarter's report, the progress and the overview show version 2's figures.
    expected = 9000 + 9000 + 9000  # the order's 土豆, the chat 白菜, version 2's 土豆
    assert total(sales, "龙角镇") == expected
    with sales.sessions() as session:
        assert progress(session, Q3, longjiao).total_fen == expected
        figures = overview(session, Q3)
        out = write_sales_form(session, Q3, longjiao, tmp_path / "form.xlsx")
    assert {t.name: t.quarter_fen for t in figures.townships}["龙角镇"] == expected
    assert figures.total.quarter_fen == 498000 - 18000 + expected
    assert {u.name: u.quarter_fen for u in figures.lead_units}["县卫生健康委"] == 9000 + 9000
    sheet = load_workbook(out).active
    assert [sheet.cell(row=r, column=8).value for r in (5, 6, 7)] == [90, 90, 90]
    assert sheet["A8"].value == "合计" and sheet["H8"].value == 270

    with sales.sessions() as session:
        history = report_history(session, ReportKind.SALES, Q3, "龙角镇")
    assert [(e.number, e.file_name, e.rows, e.amount_fen, e.current, e.superseded_by) for e in history] == [
        (1, "a.xlsx", 3, 97860, False, 2),
        (2, "b.xlsx", 1, 9000, True, None),
    ]
    assert history[1].line().endswith("1条，合计90.00元 【当前】") and "命令行（县级）" in history[1].line()
    assert history[0].line().endswith("（已被第2版取代）")

    # Restoring version 1 is version 3 with version 1's rows; versions 1 and 2 stay readable.
    with sales.sessions() as session, pytest.raises(ReportRefused, match="只有县级管理员可以恢复"):
        restore_version(session, Q3, longjiao, 1, who(sales, "console:lj"))
    with sales.sessions() as session, session.begin():
        restored = restore_version(session, Q3, longjiao, 1, who(sales, "console:admin"))
    assert (restored.number, restored.added, restored.superseded) == (3, 3, [2])
    assert records(sales, "龙角镇") == after_first
    with sales.sessions() as session:
        history = report_history(session, ReportKind.SALES, Q3, "龙角镇")
        kept = session.scalars(select(ReportVersion).order_by(ReportVersion.number)).all()
        assert [
            len(session.scalars(select(SaleRecord).where(SaleRecord.report_version_id == v.id)).all()) for v in kept
        ] == [3, 1, 3]
    assert [(e.number, e.current, e.restored_from, e.who) for e in history] == [
        (1, False, None, "命令行（县级）"), (2, False, None, "命令行（县级）"), (3, True, 1, "县商务委")
    ]  # fmt: skip
    assert "恢复第1版" in history[2].line()
    with sales.sessions() as session, pytest.raises(ReportInputError, match="龙角镇2019年第3季度附件2没有第9版"):
        restore_version(session, Q3, longjiao, 9, None)
    assert order_records(sales) == orders  # order-generated records untouched through all of it


# --------------------------------------------------------------------------------------- migration


def test_the_migration_makes_version_1_of_files_imported_before(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0002")
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO townships (id, code, name, kind, deep_poverty) VALUES (1, '1', '龙角镇', '镇', 0)")
        )
        conn.execute(
            text(
                "INSERT INTO report_submissions (kind, period, reporter, township_id, source, rows, amount_fen, "
                "submitted_at) VALUES ('sales', '2019Q3', '龙角镇', 1, 'file', 2, 300, '2019-09-28 02:00:00.000100')"
            )
        )
        for number, (source, created) in enumerate(
            [
                ("report", "2019-09-28 02:00:00.500000"),
                ("report", "2019-09-28 02:00:00"),
                ("order", "2019-09-28 02:00:00"),
                ("report", "2019-09-29 08:00:00"),
            ]
        ):
            conn.execute(
                text(
                    "INSERT INTO sale_records (township_id, household_name, buyer_name, product_name, quantity, unit, "
                    "amount_fen, sold_on, remarks, source, created_at) VALUES (1, '', '县第一中学', '土豆', 1000, '斤', "
                    ":fen, '2019-08-01', '', :source, :created)"
                ),
                {"fen": 100 + number, "source": source, "created": created},
            )
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        (version,) = session.scalars(select(ReportVersion)).all()
        assert (version.number, version.reporter, version.rows, version.amount_fen, version.source) == (
            1, "龙角镇", 2, 300, "file"
        )  # fmt: skip
        linked = dict(session.execute(select(SaleRecord.amount_fen, SaleRecord.report_version_id)).all())
        # The import's two rows are version 1's; the order's record and the later chat sale are no version's.
        assert linked == {100: version.id, 101: version.id, 102: None, 103: None}
    engine.dispose()


# ------------------------------------------------------------------------------------- command line


def test_cli_history_restore_and_reopen(cli: Cli, cli_db: Database, tmp_path: Path) -> None:  # noqa: F811 (fixture)
    for name, rows in (("a.xlsx", GOOD_ROWS), ("b.xlsx", CORRECTED)):
        path = filled_xlsx(tmp_path / name, rows)
        result = cli("report", "import", str(path), "--quarter", "2019Q3", "--township", "龙角镇")
        assert result.returncode == 0, result.stderr + result.stdout
    assert "已导入第2版" in result.stdout and "第1版的3条不再计入" in result.stdout
    result = cli("report", "history", "--quarter", "2019Q3", "--township", "龙角镇")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "龙角镇2019年第3季度附件2的版本（共2版）："
    assert (
        "第1版" in lines[1]
        and "文件a.xlsx" in lines[1]
        and "3条，合计978.60元" in lines[1]
        and "已被第2版取代" in lines[1]
    )
    assert "第2版" in lines[2] and "【当前】" in lines[2]
    result = cli("report", "restore", "--quarter", "2019Q3", "--township", "龙角镇", "--version", "1")
    assert result.returncode == 0, result.stderr + result.stdout
    assert "已恢复龙角镇2019年第3季度附件2第1版，作为第3版" in result.stdout
    result = cli("report", "reopen", "--quarter", "2019Q3", "--township", "龙角镇")
    assert result.returncode == 1 and "没有锁定" in result.stdout and "Traceback" not in result.stderr


def _longjiao_potato(db: Database) -> int:
    return CatalogSearch(db.sessions).search(product="土豆", place="龙角镇").listings[0].listing_id


def test_a_sale_told_in_chat_respects_the_lock_and_the_deadline(sales: Database) -> None:
    contact, admin = who(sales, "console:lj"), who(sales, "console:admin")
    cabbage = SaleDraft("县第一中学", "白菜", Quantity(Decimal(10), JIN), 3000, today())
    with sales.sessions() as session, session.begin():
        submit_report(
            session, kind=ReportKind.SALES, period=CURRENT, reporter="龙角镇", township_id=township_id(sales, "龙角镇"),
            user_id=contact.user_id, source=SubmissionSource.CHAT, rows=0, amount_fen=0,
        )  # fmt: skip
    before = records(sales, "龙角镇", CURRENT)
    with sales.sessions() as session, pytest.raises(SaleError, match="已锁定"):
        draft_sale(
            session, contact, buyer_name="县第一中学", product="白菜", quantity=Quantity(Decimal(10), JIN),
            amount_fen=3000, unit_price_fen=None, sold_on=today(),
        )  # fmt: skip
    with sales.sessions() as session, pytest.raises(SaleError, match="已锁定"):
        record_sale(session, contact, cabbage)  # locked after the read-back: refused at confirmation too
    # An admin's sale of one of 龙角镇's listings is a row of the same locked report.
    potato = SaleDraft("县第一中学", "土豆", Quantity(Decimal(10), JIN), 1500, today(), _longjiao_potato(sales))
    with sales.sessions() as session, pytest.raises(SaleError, match="已锁定"):
        record_sale(session, admin, potato)
    assert records(sales, "龙角镇", CURRENT) == before
    with sales.sessions() as session, session.begin():
        reopen_report(session, ReportKind.SALES, CURRENT, "龙角镇", admin)
    with sales.sessions() as session, session.begin():
        record_sale(session, contact, cabbage)
    assert ("report", "县第一中学", "白菜", 10, JIN, 3000, today()) in records(sales, "龙角镇", CURRENT)

    # A sale of a quarter past its deadline and grace: refused for a contact, recorded for an admin.
    old = SaleDraft("县第一中学", "土豆", Quantity(Decimal(5), JIN), 750, date(2019, 9, 3), _longjiao_potato(sales))
    with sales.sessions() as session, pytest.raises(SaleError, match="更正期限已于2019年10月15日结束"):
        record_sale(session, contact, old)
    with sales.sessions() as session, session.begin():
        record_sale(session, admin, old)
    assert ("report", "县第一中学", "土豆", 5, JIN, 750, date(2019, 9, 3)) in records(sales, "龙角镇", Q3)
