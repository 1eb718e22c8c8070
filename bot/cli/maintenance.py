"""`python -m bot db backup OUT` and `db restore IN --yes`: the database's backups from the command line."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from fupin.maintenance.backup import BackupError, backup, restore

logger = logging.getLogger(__name__)


class _Settings(Protocol):
    database_url: str


class DatabaseContext(Protocol):
    """What these commands need of the command line's context: the database URL and the open engine."""

    @property
    def settings(self) -> _Settings: ...

    @property
    def engine(self) -> Engine: ...


def _print(line: str = "") -> None:
    print(line, flush=True)


def cmd_db_backup(ctx: DatabaseContext, args: argparse.Namespace) -> int:
    """Write a consistent backup of the database to OUT, while the bot may keep running."""
    try:
        out = backup(ctx.settings.database_url, Path(args.out))
    except BackupError as exc:
        _print(f"备份失败：{exc}")
        return 1
    _print(f"已备份到 {out}（{out.stat().st_size / 1024:.0f} KB）")
    return 0


def cmd_db_restore(ctx: DatabaseContext, args: argparse.Namespace) -> int:
    """Replace the database with a backup; refuses without --yes, since everything since the backup is lost."""
    if not args.yes:
        _print(
            f"恢复会用 {args.source} 覆盖当前数据库，备份之后的订单和修改都会丢失。确认请加 --yes。\n"
            "Restore overwrites the current database; add --yes to confirm."
        )
        return 1
    # Our own pooled connections would hold the old file open (SQLite) or block pg_restore's DROPs.
    ctx.engine.dispose()
    try:
        restore(ctx.settings.database_url, Path(args.source))
    except BackupError as exc:
        _print(f"恢复失败：{exc}")
        return 1
    _print(f"已从 {args.source} 恢复数据库。请重启正在运行的助手。")
    return 0


def register(db_commands: argparse._SubParsersAction[Any]) -> None:
    """Add `backup OUT` and `restore IN [--yes]` to the `db` command group."""
    save = db_commands.add_parser("backup", help="备份数据库（运行中也可，SQLite 在线备份 / pg_dump）")
    save.add_argument("out", metavar="OUT")
    save.set_defaults(handler=cmd_db_backup)
    load = db_commands.add_parser("restore", help="从备份恢复数据库（覆盖当前数据，需加 --yes）")
    load.add_argument("source", metavar="IN")
    load.add_argument("--yes", action="store_true", help="确认覆盖当前数据库")
    load.set_defaults(handler=cmd_db_restore)
