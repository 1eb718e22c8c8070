"""The command line as a county clerk uses it, in a real process on a real SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

from fupin.settings import PROJECT_ROOT
from tests.helpers import GOOD_ROW, row, write_xlsx


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "PYTHONPATH": str(PROJECT_ROOT),
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def test_run_prepares_database_and_prints_summary(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "run")
    assert result.returncode == 0, result.stderr
    assert "已载入演示目录" in result.stdout
    assert "供应目录：28条" in result.stdout and "泥溪镇：5条" in result.stdout
    again = run_cli(tmp_path, "run")
    assert "已载入演示目录" not in again.stdout and "供应目录：28条" in again.stdout


def test_import_export_and_exit_codes(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "db", "init").returncode == 0
    good = write_xlsx(tmp_path / "good.xlsx", [GOOD_ROW])
    ok = run_cli(tmp_path, "catalog", "import", str(good))
    assert ok.returncode == 0 and "新增1条" in ok.stdout
    bad = write_xlsx(tmp_path / "bad.xlsx", [row(product="红薯"), row(price="面议")])
    rejected = run_cli(tmp_path, "catalog", "import", str(bad))
    assert rejected.returncode == 1
    assert "bad.xlsx 第6行，F列“销售价格（元）”：无法识别的价格“面议”" in rejected.stdout
    out = tmp_path / "export.xlsx"
    exported = run_cli(tmp_path, "catalog", "export", str(out))
    assert exported.returncode == 0 and "已导出2条" in exported.stdout
    assert load_workbook(out).active.max_row >= 5
    found = run_cli(tmp_path, "catalog", "search", "--product", "洋芋")
    assert "龙角镇张家村 土豆" in found.stdout and "李xx 17723635558" in found.stdout


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "catalog", "import", str(tmp_path / "nope.xlsx"))
    assert result.returncode == 1 and "找不到文件" in result.stdout
