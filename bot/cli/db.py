"""`python -m bot db init|seed-demo|backup|restore`: the schema, reference data, demo catalogue, backups."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from bot.cli.context import Commands, Context, print_line
from fupin.maintenance.backup import BackupError, backup, restore
from fupin.setup import init_database, seed_demo

logger = logging.getLogger(__name__)


def cmd_db_init(ctx: Context, _args: argparse.Namespace) -> int:
    """Create or upgrade the schema and load the county's places and product aliases."""
    result = init_database(ctx.engine, ctx.sessions)
    print_line(f"数据库已就绪：新增乡镇{result.townships}个、村（社区）{result.villages}个、产品别名{result.aliases}个")
    return 0


def cmd_db_seed_demo(ctx: Context, _args: argparse.Namespace) -> int:
    """Prepare the database and load the demo catalogue."""
    init_database(ctx.engine, ctx.sessions)
    report = seed_demo(ctx.sessions)
    print_line(f"演示目录：新增{report.created}条，更新{report.updated}条")
    for issue in report.issues:
        print_line(f"  - {issue}")
    return 0 if report.ok else 1


def cmd_db_backup(ctx: Context, args: argparse.Namespace) -> int:
    """Write a consistent backup of the database to OUT, while the bot may keep running."""
    try:
        out = backup(ctx.settings.database_url, Path(args.out))
    except BackupError as exc:
        print_line(f"备份失败：{exc}")
        return 1
    print_line(f"已备份到 {out}（{out.stat().st_size / 1024:.0f} KB）")
    return 0


def cmd_db_restore(ctx: Context, args: argparse.Namespace) -> int:
    """Replace the database with a backup; refuses without --yes, since everything since the backup is lost."""
    if not args.yes:
        print_line(
            f"恢复会用 {args.source} 覆盖当前数据库，备份之后的订单和修改都会丢失。确认请加 --yes。\n"
            "Restore overwrites the current database; add --yes to confirm."
        )
        return 1
    # Our own pooled connections would hold the old file open (SQLite) or block pg_restore's DROPs.
    ctx.engine.dispose()
    try:
        restore(ctx.settings.database_url, Path(args.source))
    except BackupError as exc:
        print_line(f"恢复失败：{exc}")
        return 1
    print_line(f"已从 {args.source} 恢复数据库。请重启正在运行的助手。")
    return 0


def register(commands: Commands) -> None:
    """Add `db init|seed-demo|backup|restore` to the command line's sub-commands."""
    db = commands.add_parser("db", help="数据库").add_subparsers(dest="db_command", required=True)
    db.add_parser("init", help="创建或升级数据库并载入乡镇村和产品别名").set_defaults(handler=cmd_db_init)
    db.add_parser("seed-demo", help="载入演示供应目录").set_defaults(handler=cmd_db_seed_demo)
    save = db.add_parser("backup", help="备份数据库（运行中也可，SQLite 在线备份 / pg_dump）")
    save.add_argument("out", metavar="OUT")
    save.set_defaults(handler=cmd_db_backup)
    load = db.add_parser("restore", help="从备份恢复数据库（覆盖当前数据，需加 --yes）")
    load.add_argument("source", metavar="IN")
    load.add_argument("--yes", action="store_true", help="确认覆盖当前数据库")
    load.set_defaults(handler=cmd_db_restore)
