"""`python -m bot privacy purge --before DATE`: remove old conversations and closed orders' buyer phones."""

from __future__ import annotations

import argparse
import logging
from datetime import date

from bot.cli.context import Commands, Context, print_line
from fupin.maintenance.privacy import purge_database, start_of
from fupin.setup import init_database

logger = logging.getLogger(__name__)


def cmd_privacy_purge(ctx: Context, args: argparse.Namespace) -> int:
    """Purge personal data older than a date (Asia/Shanghai midnight), keeping every figure."""
    init_database(ctx.engine, ctx.sessions)
    before = start_of(args.before)
    result = purge_database(ctx.settings, before)
    print_line(f"已清除{before:%Y-%m-%d}之前的个人信息：")
    for line in result.lines():
        print_line(f"  {line}")
    return 0


def register(commands: Commands) -> None:
    """Add `privacy purge` to the command line's sub-commands."""
    privacy = commands.add_parser("privacy", help="个人信息").add_subparsers(dest="privacy_command", required=True)
    purge = privacy.add_parser("purge", help="删除早于某日的对话记录和已结束订单的采购方电话（报表数字不变）")
    purge.add_argument("--before", required=True, type=date.fromisoformat, metavar="YYYY-MM-DD")
    purge.set_defaults(handler=cmd_privacy_purge)
