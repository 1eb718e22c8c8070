"""`python -m bot db init|seed-demo`: the schema, the county's reference data, the demo catalogue."""

from __future__ import annotations

import argparse
import logging

from bot.cli.context import Commands, Context, print_line
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


def register(commands: Commands) -> None:
    """Add `db init|seed-demo` to the command line's sub-commands."""
    db = commands.add_parser("db", help="数据库").add_subparsers(dest="db_command", required=True)
    db.add_parser("init", help="创建或升级数据库并载入乡镇村和产品别名").set_defaults(handler=cmd_db_init)
    db.add_parser("seed-demo", help="载入演示供应目录").set_defaults(handler=cmd_db_seed_demo)
