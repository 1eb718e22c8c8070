"""`python -m bot buyers lift-hold`: the hold on new orders of buying units with long-unpaid orders."""

from __future__ import annotations

import argparse
import logging

from bot.cli.context import Commands, Context, print_line
from fupin.models import utcnow
from fupin.orders.overdue import OverdueError, lift_hold
from fupin.settings import TIMEZONE
from fupin.setup import init_database

logger = logging.getLogger(__name__)


def cmd_buyers_lift_hold(ctx: Context, args: argparse.Namespace) -> int:
    """Let a buying unit order again for a while despite orders unpaid past the hold (an admin's decision)."""
    init_database(ctx.engine, ctx.sessions)
    try:
        with ctx.sessions() as session, session.begin():
            lift = lift_hold(session, args.unit, "cli", args.reason, args.days, utcnow())
            until = lift.expires_at.astimezone(TIMEZONE)
            print_line(f"已解除{lift.buyer.name}的欠款限制，{until:%Y-%m-%d %H:%M}前可以继续下单。原因：{lift.reason}")
    except OverdueError as exc:
        print_line(str(exc))
        return 1
    return 0


def register(commands: Commands) -> None:
    """Add `buyers lift-hold` to the command line's sub-commands."""
    buyers = commands.add_parser("buyers", help="采购单位：解除拖欠货款的下单限制")
    sub = buyers.add_subparsers(dest="buyers_command", required=True)

    lift = sub.add_parser("lift-hold", help="解除采购单位因拖欠货款不能下新订单的限制（一段时间内）")
    lift.add_argument("unit", metavar="采购单位")
    lift.add_argument("--days", type=int, default=30, help="解除多少天，默认30")
    lift.add_argument("--reason", required=True, help="解除原因，会记录在案")
    lift.set_defaults(handler=cmd_buyers_lift_hold)
