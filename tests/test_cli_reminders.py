"""`python -m bot reminders …` in process (bot.cli.main.main) on a real SQLite file."""

from __future__ import annotations

from tests.conftest import Cli


def test_reminders_list_and_run_due(cli: Cli) -> None:
    assert cli("db", "init").returncode == 0
    for args in (
        ("--user", "c1", "--role", "contact", "--township", "龙角镇", "--name", "李某"),
        ("--user", "l1", "--role", "lead", "--lead-unit", "县教委", "--name", "张某"),
    ):
        added = cli("users", "add", *args)
        assert added.returncode == 0, added.stdout + added.stderr
    listed = cli("reminders", "list", "--from", "2019-09-15", "--days", "30")
    assert listed.returncode == 0, listed.stderr
    out = listed.stdout
    assert "2019-09-15 至 2019-10-14 的提醒" in out
    assert "2019-09-20 09:00 附件2销售表报送提醒（2019Q3，截止前10天）：1人\n    - 龙角镇 李某（console:c1）" in out
    assert "2019-09-29 09:00 附件3采购表报送提醒（2019Q3，截止前1天）：1人\n    - 县教委 张某（console:l1）" in out
    assert "2019-10-10 09:00 季度消费扶贫情况通报（2019Q3）：无待提醒对象" in out

    first = cli("reminders", "run-due", "--now", "2019-09-20T09:00")
    assert first.returncode == 0, first.stderr
    assert "已写入提醒2条，此前已写入（不重复发送）0条" in first.stdout
    again = cli("reminders", "run-due", "--now", "2019-09-20T09:30")
    assert "已写入提醒0条，此前已写入（不重复发送）2条" in again.stdout
    late = cli("reminders", "run-due", "--now", "2019-09-28T10:00")
    assert "已写入提醒0条" in late.stdout
    assert "超过补发时限，未发送：2019-09-27 09:00 附件2销售表报送提醒（2019Q3）1人" in late.stdout
    after = cli("reminders", "list", "--from", "2019-09-20", "--days", "1")
    assert "2019-09-20 09:00 附件2销售表报送提醒（2019Q3，截止前10天）：无待提醒对象" in after.stdout


def test_a_bad_date_is_a_clear_error(cli: Cli) -> None:
    result = cli("reminders", "list", "--from", "9月20日")
    assert result.returncode == 2 and "日期格式应为 2027-03-20" in result.stderr
