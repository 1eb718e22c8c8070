"""Quarterly reports by chat end to end: /report, its buttons, 附件2 files, admins' files (fake Bot API)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from fupin.models import ReportSubmission, SaleRecord, Township
from fupin.outreach.users import identify, sender_of
from fupin.periods import Period, quarter_of, today
from fupin.reporting.attachment2 import NOTES as NOTES2
from fupin.reporting.attachment2 import SEED_HEADERS as HEADERS2
from fupin.reporting.attachment2 import seed_date
from fupin.reporting.attachment3 import ATTACHMENT3
from fupin.reporting.quarter import lead_unit_report, township_report
from fupin.reporting.sales import SaleDraft, record_sale
from fupin.reporting.submissions import submitted
from fupin.values import JIN, Quantity
from harness.fake_telegram import FakeTelegram, Sent
from harness.telegram_app import ADMIN_ID, RunningBot
from tests.e2e import Bot
from tests.helpers import GOOD_ROW, write_xlsx
from tests.telegram_chat import button_data, press, press_data, say, send_file, titles, with_bot

# Telegram user ids of this module only: the database is shared by the whole test session.
CONTACT = 20001  # 龙角镇's contact, registered with a code
# A village without listings: a village contact gets its listings' order pushes instead of the township's.
VILLAGE_CONTACT = 20002  # 龙角镇新立村's contact
LEAD = 20003  # 县教委's contact
STRANGER = 20004

CURRENT = quarter_of(today())
PREVIOUS = CURRENT.previous()
HEADERS3 = [c.header for c in ATTACHMENT3.columns]


@pytest.fixture(scope="module")
def telegram(bot: Bot, fake: FakeTelegram) -> Iterator[RunningBot]:
    """The bot by long polling; the flood limit (tested elsewhere) is raised for the admin's many requests."""
    with with_bot(bot, fake, rate_limit_burst=1000, rate_limit_per_minute=6000) as running:
        yield running


# ------------------------------------------------------------------------------------------ helpers


def _user_id(bot: Bot, telegram_id: int) -> int | None:
    with bot.sessions() as session:
        return identify(session, sender_of("telegram", telegram_id)).user_id


def _register(fake: FakeTelegram, bot: Bot, user: int, invite: str, scope: str) -> None:
    """Register a Telegram user with a code from the admin, unless an earlier test did."""
    if _user_id(bot, user) is not None:
        return
    (invited,) = say(fake, ADMIN_ID, f"/invite {invite}")
    code = re.search(r"邀请码：([0-9A-Z]{10})", invited.text or "")
    assert code, invited.text
    (done,) = say(fake, user, f"/register {code[1]}")
    assert "登记成功" in (done.text or "") and scope in (done.text or ""), done.text


def _township_id(bot: Bot, name: str) -> int:
    with bot.sessions() as session:
        return session.scalars(select(Township.id).where(Township.name == name)).one()


def _submission(bot: Bot, kind: str, period: Period, reporter: str) -> ReportSubmission | None:
    with bot.sessions() as session:
        return session.scalars(
            select(ReportSubmission).where(
                ReportSubmission.kind == kind,
                ReportSubmission.period == period.code,
                ReportSubmission.reporter == reporter,
            )
        ).one_or_none()


def _records(bot: Bot, township: str, period: Period) -> list[tuple[object, ...]]:
    with bot.sessions() as session:
        rows = session.scalars(
            select(SaleRecord)
            .join(Township, SaleRecord.township_id == Township.id)
            .where(Township.name == township, SaleRecord.sold_on >= period.start, SaleRecord.sold_on < period.end)
        ).all()
        return sorted((r.source, r.buyer_name, r.product_name, r.quantity, r.amount_fen, r.sold_on) for r in rows)


def _workbook(document: Sent):  # type: ignore[no-untyped-def]
    assert document.method == "sendDocument" and document.document_bytes, document
    return load_workbook(io.BytesIO(document.document_bytes))


def _attachment2(path: Path, rows: Sequence[tuple[object, ...]], unit: str = "龙角镇") -> Path:
    """A township's filled 附件2 as it sends it: label, title, meta row, seed headers, numbered rows, notes."""
    book = Workbook()
    sheet = book.active
    sheet.append(["附件2"])
    sheet.append(["乡镇（街道）贫困户产品销售情况表"])
    sheet.append(
        [f"填报单位：{unit}        供货联系人姓名：李xx        联系方式：17723635558        填报时间：2026.1.1"]
    )
    sheet.append(HEADERS2)
    for number, row in enumerate(rows, start=1):
        sheet.append([number, *row])
    sheet.append([])
    sheet.append([NOTES2])
    book.save(path)
    return path


def _sold_today() -> str:
    return seed_date(today())


# -------------------------------------------------------------------------------- a township's 附件2


def test_contact_reviews_and_submits_the_townships_report(telegram: RunningBot, fake: FakeTelegram, bot: Bot) -> None:
    _register(fake, bot, CONTACT, "contact 龙角镇", "龙角镇供货联系人")
    # The contact's menu gains /report (set just after the registration answer).
    fake.wait_for(lambda f: "report" in {c["command"] for c in f.my_commands({"type": "chat", "chat_id": CONTACT})})
    assert _submission(bot, "sales", PREVIOUS, "龙角镇") is None
    with bot.sessions() as session, session.begin():
        contact = identify(session, sender_of("telegram", CONTACT))
        draft = SaleDraft(
            "县人民医院食堂", "土豆", Quantity(Decimal(40), JIN), 6000, PREVIOUS.start + timedelta(days=4)
        )
        # Told in chat while the quarter was still open (it is past its deadline and grace days today).
        record_sale(session, contact, draft, grace_days=366)
    with bot.sessions() as session:
        expected = township_report(session, PREVIOUS, _township_id(bot, "龙角镇"))

    (review,) = say(fake, CONTACT, "/report 上季度")
    text = review.text or ""
    assert expected.summary_lines()[0] in text  # 龙角镇…：共N条，合计X元。
    assert "按产品：" in text and "· 土豆：" in text and "附件2尚未报送" in text
    assert titles(review) == ["确认报送", "下载附件2"]
    assert button_data(review, "确认报送") == f"rpt:submit:{PREVIOUS.code}"
    assert button_data(review, "下载附件2") == f"rpt:file:{PREVIOUS.code}"

    (done,) = press(fake, CONTACT, review, "确认报送")
    amount = f"{Decimal(expected.total_fen) / 100:,.2f}元"
    assert f"✓ 已报送龙角镇{PREVIOUS.label}附件2：{len(expected.rows)}条，合计{amount}" in (done.text or "")
    edit = fake.calls("editMessageText")[-1]
    assert edit.params["message_id"] == review.message_id and "👉 确认报送" in edit.params["text"]
    row = _submission(bot, "sales", PREVIOUS, "龙角镇")
    assert row is not None
    assert (row.source, row.rows, row.amount_fen) == ("chat", len(expected.rows), expected.total_fen)
    assert (row.user_id, row.township_id) == (_user_id(bot, CONTACT), _township_id(bot, "龙角镇"))
    with bot.sessions() as session:
        assert "龙角镇" in submitted(session, "sales", PREVIOUS)

    # A second press (the stale keyboard) says it was submitted before and updates the one submission.
    (again,) = press_data(fake, CONTACT, review, f"rpt:submit:{PREVIOUS.code}")
    assert "此前已于" in (again.text or "") and "通过对话报送" in (again.text or "")
    assert "已按现在的记录更新报送" in (again.text or "")
    with bot.sessions() as session:
        count = session.scalar(
            select(func.count(ReportSubmission.id)).where(
                ReportSubmission.kind == "sales",
                ReportSubmission.period == PREVIOUS.code,
                ReportSubmission.reporter == "龙角镇",
            )
        )
        assert count == 1
    (reviewed,) = say(fake, CONTACT, f"/report {PREVIOUS.code}")
    assert "附件2已于" in (reviewed.text or "") and "通过对话报送" in (reviewed.text or "")


def test_contact_downloads_the_attachment2(telegram: RunningBot, fake: FakeTelegram, bot: Bot) -> None:
    _register(fake, bot, CONTACT, "contact 龙角镇", "龙角镇供货联系人")
    (review,) = say(fake, CONTACT, "/report")
    assert (review.text or "").startswith(f"龙角镇{CURRENT.label}")  # the current quarter by default
    (document,) = press(fake, CONTACT, review, "下载附件2")
    assert document.document_name == f"龙角镇{CURRENT.code}附件2.xlsx"
    assert f"龙角镇{CURRENT.label}" in (document.text or "")  # the caption
    sheet = _workbook(document).active
    assert sheet["A1"].value == "附件2" and sheet["A2"].value == "乡镇（街道）贫困户产品销售情况表"
    assert "填报单位：龙角镇" in str(sheet["A3"].value)
    assert [c.value for c in sheet[4]] == HEADERS2


def test_contact_sends_a_filled_attachment2(telegram: RunningBot, fake: FakeTelegram, bot: Bot, tmp_path: Path) -> None:
    _register(fake, bot, CONTACT, "contact 龙角镇", "龙角镇供货联系人")
    good = [
        ("县人民医院食堂", _sold_today(), "云阳县龙角镇张家村", "王某某", "洋芋", "50斤", "75元", ""),
        ("县第一中学", _sold_today(), "云阳县龙角镇永富村", "陈某某", "腊肉", "20斤", "900", ""),
    ]
    records_before = _records(bot, "龙角镇", CURRENT)
    submission_before = _submission(bot, "sales", CURRENT, "龙角镇")

    # A bad row: its row and column are reported and nothing of the file is imported.
    bad = _attachment2(tmp_path / "错误.xlsx", [good[0], (*good[1][:5], "若干", *good[1][6:])])
    received, answer = send_file(fake, CONTACT, bad)
    assert "正在导入" in (received.text or "")
    text = answer.text or ""
    assert f"按本季度导入：{CURRENT.label}" in text
    assert "✗ 错误.xlsx：有1行填写有误，整份文件未导入" in text
    assert "第6行，G列“销售数量”" in text and "若干" in text
    assert _records(bot, "龙角镇", CURRENT) == records_before
    after = _submission(bot, "sales", CURRENT, "龙角镇")
    assert (after.submitted_at if after else None) == (submission_before.submitted_at if submission_before else None)

    # Another township's form is refused, for the quarter the caption names.
    other = _attachment2(tmp_path / "泥溪.xlsx", good, unit="泥溪镇")
    answer = send_file(fake, CONTACT, other, caption=f"附件2 {PREVIOUS.code}")[-1]
    assert f"按文件说明中的季度导入：{PREVIOUS.label}" in (answer.text or "")
    assert "填报单位是泥溪镇，不是龙角镇" in (answer.text or "")

    # The good file, without a caption: detected by its headers, imported for this quarter, submitted.
    path = _attachment2(tmp_path / "龙角镇附件2.xlsx", good)
    answer = send_file(fake, CONTACT, path)[-1]
    text = answer.text or ""
    assert f"✓ 龙角镇附件2.xlsx：已导入龙角镇{CURRENT.label}贫困户产品销售情况（附件2），共2条，合计975.00元" in text
    assert re.search(r"已导入第\d+版", text), text  # the version the file became (issue #20)
    assert f"龙角镇{CURRENT.label}附件2已报送" in text
    records = _records(bot, "龙角镇", CURRENT)
    assert ("report", "县人民医院食堂", "土豆", 50, 7500, today()) in records  # 洋芋 is 土豆
    assert ("report", "县第一中学", "腊肉", 20, 90000, today()) in records
    row = _submission(bot, "sales", CURRENT, "龙角镇")
    assert row is not None and (row.source, row.rows, row.amount_fen) == ("file", 2, 97500)
    assert row.user_id == _user_id(bot, CONTACT)
    with bot.sessions() as session:
        assert "龙角镇" in submitted(session, "sales", CURRENT)

    # A 附件1 still goes to the catalogue import (and its scope check).
    catalogue = write_xlsx(tmp_path / "目录.xlsx", [("云阳县泥溪镇", *GOOD_ROW[1:])])
    answer = send_file(fake, CONTACT, catalogue)[-1]
    assert "不在您负责的范围内" in (answer.text or "")


def test_admin_sends_a_townships_attachment2(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot, tmp_path: Path
) -> None:
    row = ("县人民医院食堂", _sold_today(), "云阳县故陵镇红椿村", "魏某某", "脐橙", "100斤", "350元", "")
    # The township from the form's 填报单位.
    answer = send_file(fake, ADMIN_ID, _attachment2(tmp_path / "故陵.xlsx", [row], unit="故陵镇"))[-1]
    assert "已导入故陵镇" in (answer.text or ""), answer.text
    assert ("report", "县人民医院食堂", "脐橙", 100, 35000, today()) in _records(bot, "故陵镇", CURRENT)
    with bot.sessions() as session:
        assert "故陵镇" in submitted(session, "sales", CURRENT)
    # Neither caption nor 填报单位 names it: the admin is asked which township.
    answer = send_file(fake, ADMIN_ID, _attachment2(tmp_path / "无单位.xlsx", [row], unit=""))[-1]
    assert "写明是哪个乡镇" in (answer.text or "")


# ------------------------------------------------------------------------------- a lead unit's 附件3


def test_lead_unit_reviews_downloads_and_submits_attachment3(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot
) -> None:
    _register(fake, bot, LEAD, "lead 县教委", "县教委牵头单位联系人")
    with bot.sessions() as session:
        expected = lead_unit_report(session, CURRENT, "县教委")
    (review,) = say(fake, LEAD, "/report")
    assert expected.summary_lines()[0] in (review.text or "") and "附件3" in (review.text or "")
    assert titles(review) == ["确认报送", "下载附件3"]
    (document,) = press(fake, LEAD, review, "下载附件3")
    assert document.document_name == f"县教委{CURRENT.code}附件3.xlsx"
    assert [c.value for c in _workbook(document).active[4]] == HEADERS3
    # The file carries the submit button the pressed keyboard lost.
    assert titles(document) == ["确认报送"]
    (done,) = press(fake, LEAD, document, "确认报送")
    assert f"✓ 已报送县教委{CURRENT.label}附件3" in (done.text or "")
    row = _submission(bot, "purchases", CURRENT, "县教委")
    assert row is not None and (row.source, row.township_id) == ("chat", None)
    assert (row.rows, row.amount_fen) == (len(expected.rows), expected.total_fen)


# ----------------------------------------------------------------------------------- admins' files


def test_admin_requests_forms_and_overview(telegram: RunningBot, fake: FakeTelegram) -> None:
    (document,) = say(fake, ADMIN_ID, f"/report sales {CURRENT.code} 龙角镇")
    assert document.document_name == f"龙角镇{CURRENT.code}附件2.xlsx"
    sheet = _workbook(document).active
    assert sheet["A2"].value == "乡镇（街道）贫困户产品销售情况表" and [c.value for c in sheet[4]] == HEADERS2
    assert f"龙角镇{CURRENT.label}" in (document.text or "")

    (everyone,) = say(fake, ADMIN_ID, f"/report sales {CURRENT.code}")
    assert everyone.document_name == f"云阳县各乡镇{CURRENT.code}附件2.xlsx"
    assert [c.value for c in _workbook(everyone).worksheets[0][4]] == HEADERS2

    (purchases,) = say(fake, ADMIN_ID, f"/report purchases {CURRENT.code} 县教委")
    assert purchases.document_name == f"县教委{CURRENT.code}附件3.xlsx"
    assert [c.value for c in _workbook(purchases).active[4]] == HEADERS3

    summary, *files = say(fake, ADMIN_ID, f"/report overview {CURRENT.code}", expect=4)
    assert f"云阳县{CURRENT.label}消费扶贫总体情况" in (summary.text or "")
    names = [f.document_name or "" for f in files]
    assert names[0] == f"{CURRENT.code}消费扶贫总体情况.xlsx"
    assert {"总体情况", "各乡镇", "牵头单位"} <= set(_workbook(files[0]).sheetnames)
    pngs = [f for f in files if (f.document_name or "").endswith(".png")]
    assert len(pngs) == 2 and all((f.document_bytes or b"")[:4] == b"\x89PNG" for f in pngs)


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/report", "/report sales 季度 [乡镇]"),
        ("/report sales 2026Q5", "无法识别的季度“2026Q5”"),
        ("/report overview 2026年", "无法识别的季度“2026年”"),
        (f"/report sales {CURRENT.code} 火星镇", "云阳县没有叫“火星镇”的乡镇（街道）"),
        (f"/report purchases {CURRENT.code} 县火星委", "未知的牵头单位“县火星委”，可选：县机关事务服务中心"),
    ],
)
def test_admin_bad_requests_are_answered_in_chinese(
    telegram: RunningBot, fake: FakeTelegram, command: str, answer: str
) -> None:
    (reply,) = say(fake, ADMIN_ID, command)
    assert reply.method == "sendMessage" and answer in (reply.text or ""), reply.text


# ------------------------------------------------------------------------------------- permissions


def test_village_contact_reports_for_the_township_and_a_bad_quarter_is_explained(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot
) -> None:
    _register(fake, bot, VILLAGE_CONTACT, "contact 龙角镇 新立村", "龙角镇新立村供货联系人")
    (review,) = say(fake, VILLAGE_CONTACT, "/report")
    assert (review.text or "").startswith(f"龙角镇{CURRENT.label}贫困户产品销售情况（附件2）")
    (bad,) = say(fake, VILLAGE_CONTACT, "/report 2026Q7")
    assert "无法识别的季度“2026Q7”" in (bad.text or "") and "/report 上季度" in (bad.text or "")


def test_a_village_contact_cannot_send_other_villages_rows(
    telegram: RunningBot, fake: FakeTelegram, bot: Bot, tmp_path: Path
) -> None:
    _register(fake, bot, VILLAGE_CONTACT, "contact 龙角镇 新立村", "龙角镇新立村供货联系人")
    before = _records(bot, "龙角镇", CURRENT)
    row = ("县人民医院食堂", _sold_today(), "云阳县龙角镇张家村", "王某某", "土豆", "10斤", "15元", "")
    answer = send_file(fake, VILLAGE_CONTACT, _attachment2(tmp_path / "新立村.xlsx", [row]))[-1]
    text = answer.text or ""
    assert "✗ 新立村.xlsx：有1行填写有误，整份文件未导入" in text, text
    assert "第5行，D列“地区”：地区“云阳县龙角镇张家村”不是龙角镇新立村" in text
    assert _records(bot, "龙角镇", CURRENT) == before


def test_a_stranger_is_refused(telegram: RunningBot, fake: FakeTelegram, bot: Bot, tmp_path: Path) -> None:
    (refused,) = say(fake, STRANGER, "/report")
    assert "季度报表只对" in (refused.text or "") and refused.reply_markup is None
    with bot.sessions() as session:
        before = session.scalar(select(func.count(ReportSubmission.id)))
    # A forged button press is checked too.
    (pressed,) = press_data(fake, STRANGER, refused, f"rpt:submit:{PREVIOUS.code}")
    assert "季度报表只对" in (pressed.text or "")
    (stale,) = press_data(fake, STRANGER, refused, "rpt:submit:latest")
    assert "按钮已失效" in (stale.text or "")
    row = ("县人民医院食堂", _sold_today(), "云阳县龙角镇张家村", "王某某", "土豆", "10斤", "15元", "")
    (answer,) = send_file(fake, STRANGER, _attachment2(tmp_path / "x.xlsx", [row]), expect=1)
    assert "供货联系人和县级管理员" in (answer.text or "")
    with bot.sessions() as session:
        assert session.scalar(select(func.count(ReportSubmission.id))) == before
