"""The command line as a county clerk uses it, in process (bot.cli.main.main) on a real SQLite file."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import run as cli_run
from bot.cli.context import Context
from tests.conftest import Cli
from tests.helpers import GOOD_ROW, row, write_xlsx


def test_run_prepares_database_and_prints_summary(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without a Telegram token `run` hands over to the console chat; the chat itself (model, dialogue) is
    # tested in test_dialogue.py and a real `python -m bot run` in test_bot_process.py.
    chats: list[str] = []

    def console_chat(_ctx: Context, args: argparse.Namespace) -> int:
        chats.append(args.user)
        return 0

    monkeypatch.setattr(cli_run, "cmd_chat", console_chat)
    result = cli("run")
    assert result.returncode == 0, result.stderr
    assert "已载入演示目录" in result.stdout
    assert "供应目录：28条" in result.stdout and "泥溪镇：5条" in result.stdout
    again = cli("run")
    assert "已载入演示目录" not in again.stdout and "供应目录：28条" in again.stdout
    assert chats == ["console:local", "console:local"]


def test_import_export_and_exit_codes(cli: Cli, tmp_path: Path) -> None:
    assert cli("db", "init").returncode == 0
    good = write_xlsx(tmp_path / "good.xlsx", [GOOD_ROW])
    ok = cli("catalog", "import", str(good))
    assert ok.returncode == 0 and "新增1条" in ok.stdout
    bad = write_xlsx(tmp_path / "bad.xlsx", [row(product="红薯"), row(price="面议")])
    rejected = cli("catalog", "import", str(bad))
    assert rejected.returncode == 1
    assert "bad.xlsx 第6行，F列“销售价格（元）”：无法识别的价格“面议”" in rejected.stdout
    out = tmp_path / "export.xlsx"
    exported = cli("catalog", "export", str(out))
    assert exported.returncode == 0 and "已导出2条" in exported.stdout
    assert load_workbook(out).active.max_row >= 5
    found = cli("catalog", "search", "--product", "洋芋")
    assert "龙角镇张家村 土豆" in found.stdout and "李xx 17723635558" in found.stdout


def test_missing_file_is_a_clear_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("catalog", "import", str(tmp_path / "nope.xlsx"))
    assert result.returncode == 1 and "找不到文件" in result.stdout
