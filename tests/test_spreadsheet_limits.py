"""Spreadsheets over a size limit are refused before they are parsed, with a Chinese reason, importing nothing."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from fupin.catalog.files import import_catalog_files
from fupin.models import Listing, SaleRecord, Township
from fupin.periods import Period
from fupin.reporting.sales_import import import_sales_report
from fupin.spreadsheets import grid, limits
from tests.conftest import Database
from tests.helpers import GOOD_ROW, row, write_csv, write_xlsx


def _listings(db: Database) -> int:
    with db.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Listing)) or 0)


def _refused(db: Database, path: Path, *words: str) -> str:
    # Imported through the same entry point the CLI and Telegram use, and nothing written.
    report = import_catalog_files(db.sessions, [path])
    (file,) = report.files
    assert file.error is not None, file
    for word in words:
        assert word in file.error, file.error
    assert "未导入任何内容" in "\n".join(report.lines())
    assert _listings(db) == 0
    return file.error


def test_a_good_file_is_still_imported(sqlite_db: Database, tmp_path: Path) -> None:
    """The limits leave a real 附件1 alone."""
    report = import_catalog_files(sqlite_db.sessions, [write_xlsx(tmp_path / "ok.xlsx", [GOOD_ROW])])
    assert report.ok, report.lines()
    assert _listings(sqlite_db) == 1


def _add_member(path: Path, name: str, size: int) -> Path:
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, b"\0" * size)
    return path


def test_a_zip_bomb_member_is_refused_before_reading(sqlite_db: Database, tmp_path: Path) -> None:
    """A member that inflates past the per-member limit: refused from its declared size alone."""
    path = _add_member(write_xlsx(tmp_path / "bomb.xlsx", [GOOD_ROW]), "xl/media/bomb.bin", limits.MAX_MEMBER_BYTES + 1)
    assert path.stat().st_size < limits.MAX_FILE_BYTES // 10  # small on disk: only the declared size gives it away
    _refused(sqlite_db, path, "bomb.xlsx", "解压后过大", "xl/media/bomb.bin", "50MB")


def test_a_member_compressed_a_thousandfold_is_refused(sqlite_db: Database, tmp_path: Path) -> None:
    """Under the size limit but compressed like a bomb (5 MB of zeros in a few KB)."""
    path = _add_member(write_xlsx(tmp_path / "ratio.xlsx", [GOOD_ROW]), "xl/sharedStrings2.xml", 5 * 1024 * 1024)
    _refused(sqlite_db, path, "压缩比异常", "上限500倍")


def test_members_over_the_total_are_refused(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Members each under the limit, together over it."""
    monkeypatch.setattr(grid, "MAX_UNCOMPRESSED_BYTES", 1024)
    _refused(sqlite_db, write_xlsx(tmp_path / "total.xlsx", [GOOD_ROW]), "解压后过大", "共")


def test_too_many_cells_are_refused(sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the cell limit (lowered here: two million real cells take a minute to write) in .xlsx and CSV."""
    monkeypatch.setattr(grid, "MAX_CELLS", 100)
    rows = [row(household=f"王{i}") for i in range(20)]
    _refused(sqlite_db, write_xlsx(tmp_path / "cells.xlsx", rows), "单元格过多", "超过100个", "“Sheet”表")
    _refused(sqlite_db, write_csv(tmp_path / "cells.csv", rows), "单元格过多", "超过100个")


def test_too_many_merged_ranges_are_refused(sqlite_db: Database, tmp_path: Path) -> None:
    """More merged ranges than any form has (the title is merged too), each cheap, together a long copy."""
    # Written into the sheet's XML directly: openpyxl takes minutes to merge ten thousand ranges.
    plain = write_xlsx(tmp_path / "plain.xlsx", [GOOD_ROW])
    extra = "".join(f'<mergeCell ref="K{i}:L{i}"/>' for i in range(10, 10 + limits.MAX_MERGED_RANGES))
    path = tmp_path / "merges.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</mergeCells>", extra.encode() + b"</mergeCells>")
            target.writestr(member, data)
    # The title's merge and ten thousand more.
    _refused(sqlite_db, path, "合并单元格过多", f"{limits.MAX_MERGED_RANGES + 1}处", "“Sheet”表")


def test_a_megabyte_cell_is_refused_with_its_row_and_column(sqlite_db: Database, tmp_path: Path) -> None:
    """One 1 MB cell in an .xlsx: the row and column are named."""
    path = write_xlsx(tmp_path / "long.xlsx", [row(remarks="长" * 1024 * 1024)])
    # Title, meta, header, then the first data row: row 5; 备注 is the tenth column, J.
    _refused(sqlite_db, path, "单元格内容过长", "第5行", "J列", f"{limits.MAX_CELL_CHARS}个字符")


def test_a_huge_csv_cell_is_refused_with_its_row(sqlite_db: Database, tmp_path: Path) -> None:
    """A CSV cell past the csv module's own field limit, and one just past ours: both the same clear refusal."""
    _refused(sqlite_db, write_csv(tmp_path / "huge.csv", [row(remarks="长" * 1024 * 1024)]), "单元格内容过长", "第4行")
    long = "长" * (limits.MAX_CELL_CHARS + 1)
    _refused(sqlite_db, write_csv(tmp_path / "long.csv", [row(remarks=long)]), "单元格内容过长", "第4行", "J列")


def test_a_cell_at_the_limit_is_read(tmp_path: Path) -> None:
    """Exactly MAX_CELL_CHARS characters is allowed."""
    path = write_csv(tmp_path / "edge.csv", [row(remarks="长" * limits.MAX_CELL_CHARS)])
    ((_, frame),) = grid.read_sheets(path)
    assert frame.loc[4].tolist()[-1] == "长" * limits.MAX_CELL_CHARS


def test_sales_import_is_refused_the_same_way(db: Database, tmp_path: Path) -> None:
    """附件2 goes through the same reader: a bomb is refused and no sales record is written."""
    book = Workbook()
    book.active.append(["附件2"])
    path = tmp_path / "sales.xlsx"
    book.save(path)
    _add_member(path, "xl/media/bomb.bin", limits.MAX_MEMBER_BYTES + 1)
    with db.sessions() as session:
        township_id = session.scalar(select(Township.id).where(Township.name == "龙角镇"))
    assert township_id is not None
    result = import_sales_report(db.sessions, path, Period(2019, 3), township_id, None)
    assert result.error is not None and "解压后过大" in result.error
    assert not result.applied
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SaleRecord)) == 0
