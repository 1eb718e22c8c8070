"""The rules for what people send about reports (fupin.reporting.documents), without any chat or command line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from fupin.models import Township
from fupin.outreach.users import Identity
from fupin.periods import Period
from fupin.places import Gazetteer
from fupin.reporting.attachment2 import SEED_HEADERS as HEADERS2
from fupin.reporting.documents import (
    FileQuarter,
    NoTownshipForFile,
    ReportInputError,
    SalesFile,
    detect_sales_file,
    file_quarter,
    file_township,
    lead_unit_named,
    parse_quarter,
    sales_form_unit,
    township_in,
    township_named,
)
from fupin.reporting.kinds import ReportKind, SubmissionSource
from fupin.values import Role
from tests.conftest import Database
from tests.helpers import GOOD_ROW, write_xlsx

DAY = date(2026, 11, 5)  # in 2026Q4


def attachment2(path: Path, unit: str = "龙角镇") -> Path:
    """A 附件2 workbook with the seed's header row and one sale."""
    book = Workbook()
    sheet = book.active
    sheet.append(["乡镇（街道）贫困户产品销售情况表"])
    sheet.append([f"填报单位：{unit}    供货联系人姓名：张某    联系方式：023-55123456    填报时间：2026.11.1"])
    sheet.append(HEADERS2)
    sheet.append([1, "县第一中学", "2026.10.8", "云阳县龙角镇", "王某某", "土豆", "30斤", "90元", ""])
    book.save(path)
    return path


@pytest.fixture
def gazetteer(sqlite_db: Database) -> Gazetteer:
    """The county's townships and villages from the reference data."""
    with sqlite_db.sessions() as session:
        return Gazetteer.load(session)


def township_id(db: Database, name: str) -> int:
    """A township's id by its name."""
    with db.sessions() as session:
        found = session.scalar(select(Township.id).where(Township.name == name))
    assert found is not None
    return found


# ------------------------------------------------------------------------------------------ kinds


def test_report_kinds_keep_their_stored_values_and_form_names() -> None:
    assert [k.value for k in ReportKind] == ["sales", "purchases"]
    assert ReportKind.SALES == "sales" and str(ReportKind.PURCHASES) == "purchases"
    assert (ReportKind.SALES.form_name, ReportKind.PURCHASES.form_name) == ("附件2", "附件3")
    assert [(s.value, s.label) for s in SubmissionSource] == [("chat", "对话"), ("file", "文件")]
    assert ReportKind.parse("purchases") is ReportKind.PURCHASES
    with pytest.raises(ValueError, match="unknown report kind 'catalog'"):
        ReportKind.parse("catalog")
    with pytest.raises(ValueError, match="unknown submission source 'email'"):
        SubmissionSource.parse("email")


# --------------------------------------------------------------------------------- which form


def test_a_file_with_attachment2_headers_is_a_sales_file_with_its_unit(tmp_path: Path) -> None:
    path = attachment2(tmp_path / "a2.xlsx", unit="泥溪镇")
    assert sales_form_unit(path) == "泥溪镇"
    assert detect_sales_file(path, "") == SalesFile("泥溪镇")
    assert detect_sales_file(path, "2026Q3") == SalesFile("泥溪镇")


def test_a_catalogue_caption_wins_over_the_headers(tmp_path: Path) -> None:
    path = attachment2(tmp_path / "a2.xlsx")
    assert detect_sales_file(path, "附件1") is None
    assert detect_sales_file(path, "附件 一") is None
    assert detect_sales_file(path, "龙角镇目录") is None


def test_a_catalogue_file_is_a_sales_file_only_when_its_caption_says_so(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a1.xlsx", [GOOD_ROW])
    assert sales_form_unit(path) is None
    assert detect_sales_file(path, "") is None
    assert detect_sales_file(path, "龙角镇") is None
    # Its import then says what is wrong with it, rather than importing it as a catalogue.
    assert detect_sales_file(path, "附件2") == SalesFile("")
    assert detect_sales_file(path, "附件 二 2026Q4") == SalesFile("")
    assert detect_sales_file(path, "第三季度销售") == SalesFile("")


# ------------------------------------------------------------------------------------ which quarter


def test_a_caption_names_a_quarter_or_the_current_one_is_taken() -> None:
    assert file_quarter("", DAY) == FileQuarter(Period(2026, 4), False)
    assert file_quarter("龙角镇", DAY) == FileQuarter(Period(2026, 4), False)
    assert file_quarter("附件2 2026Q3", DAY) == FileQuarter(Period(2026, 3), True)
    assert file_quarter("龙角镇 2025 q 2 的销售", DAY) == FileQuarter(Period(2025, 2), True)
    assert file_quarter("2026年第1季度", DAY) == FileQuarter(Period(2026, 1), True)
    assert file_quarter("上季度", DAY) == FileQuarter(Period(2026, 3), True)


def test_a_caption_naming_a_year_is_refused_with_an_example() -> None:
    with pytest.raises(ReportInputError) as raised:
        file_quarter("2026年", DAY)
    assert str(raised.value) == "文件说明中的“2026年”不是一个季度，文件未导入。请写明季度，如 2026Q3。"


def test_a_request_names_a_quarter_or_means_the_current_one() -> None:
    assert parse_quarter("", DAY) == Period(2026, 4)
    assert parse_quarter("2019Q3", DAY) == Period(2019, 3)
    assert parse_quarter("上季度", DAY) == Period(2026, 3)
    for bad in ("2026Q5", "2026年", "明年"):
        with pytest.raises(ReportInputError, match=f"^无法识别的季度“{bad}”。$"):
            parse_quarter(bad, DAY)


# ----------------------------------------------------------------------------------- which township


def test_the_county_sends_for_the_captions_township_else_the_forms_unit(
    sqlite_db: Database, gazetteer: Gazetteer
) -> None:
    admin = Identity("telegram", "1", user_id=1, role=Role.ADMIN)
    assert file_township(gazetteer, admin, "泥溪镇 2026Q3", "龙角镇").name == "泥溪镇"
    assert file_township(gazetteer, admin, "2026Q3", "龙角镇").name == "龙角镇"
    assert file_township(gazetteer, None, "", "云阳县泥溪镇人民政府").name == "泥溪镇"
    with pytest.raises(NoTownshipForFile) as raised:
        file_township(gazetteer, admin, "2026Q3", "", DAY)
    assert "如“龙角镇 2026Q4”" in str(raised.value) and "或在表中填写填报单位" in str(raised.value)


def test_a_contact_sends_only_for_their_own_township(sqlite_db: Database, gazetteer: Gazetteer) -> None:
    longjiao = township_id(sqlite_db, "龙角镇")
    contact = Identity("telegram", "2", user_id=2, role=Role.CONTACT, township_id=longjiao)
    # The form's 填报单位 does not decide for a contact: the import checks it against the township.
    assert file_township(gazetteer, contact, "", "泥溪镇").id == longjiao
    assert file_township(gazetteer, contact, "龙角镇 上季度", "").id == longjiao
    with pytest.raises(ReportInputError) as raised:
        file_township(gazetteer, contact, "泥溪镇 2026Q3", "")
    assert str(raised.value) == "您是龙角镇的供货联系人，只能报送龙角镇的附件2（文件说明写的是泥溪镇）。"
    assert not isinstance(raised.value, NoTownshipForFile)
    lead = Identity("telegram", "3", user_id=3, role=Role.LEAD, lead_unit="县教委")
    with pytest.raises(ValueError, match="contact or the county"):
        file_township(gazetteer, lead, "", "龙角镇")


def test_townships_and_lead_units_are_named_or_refused(sqlite_db: Database, gazetteer: Gazetteer) -> None:
    assert township_named(gazetteer, "龙角").name == "龙角镇"
    assert township_in(gazetteer, "这是泥溪镇的表") is not None
    assert township_in(gazetteer, "") is None
    with pytest.raises(ReportInputError, match=r"^云阳县没有叫“火星镇”的乡镇（街道）。$"):
        township_named(gazetteer, "火星镇")
    with sqlite_db.sessions() as session:
        assert lead_unit_named(session, "县教委") == "县教委"
        with pytest.raises(ReportInputError, match=r"^未知的牵头单位“县火星委”，可选：县") as raised:
            lead_unit_named(session, "县火星委")
    assert "县教委" in str(raised.value) and str(raised.value).endswith("。")
