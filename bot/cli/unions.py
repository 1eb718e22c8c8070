"""`python -m bot unions set-members|list`: unions' (工会) member counts and their yearly budgets."""

from __future__ import annotations

import argparse
import logging

from bot.cli.context import Commands, Context, print_line
from fupin.periods import today
from fupin.setup import init_database
from fupin.unions.budget import union_budget, union_budgets
from fupin.unions.members import UnionError, find_union, latest_members, set_members
from fupin.unions.wording import completion_line, members_reply

logger = logging.getLogger(__name__)


def cmd_unions_set_members(ctx: Context, args: argparse.Namespace) -> int:
    """Register a union's member count (a new union of category 家庭/工会 when the name says 工会)."""
    init_database(ctx.engine, ctx.sessions)
    try:
        with ctx.sessions() as session, session.begin():
            union = find_union(session, args.union, register=True)
            previous = latest_members(session, union.id)
            set_members(session, union, args.members)
            budget = union_budget(session, union.id, today().year, per_member=ctx.settings.union_budget_per_member_fen)
            print_line(members_reply(budget, previous.members if previous else None).splitlines()[0])
    except UnionError as exc:
        print_line(str(exc))
        return 1
    return 0


def cmd_unions_list(ctx: Context, args: argparse.Namespace) -> int:
    """Print every union's budget and what counts towards it in a year."""
    init_database(ctx.engine, ctx.sessions)
    year = args.year or today().year
    with ctx.sessions() as session:
        budgets = union_budgets(session, year, per_member=ctx.settings.union_budget_per_member_fen)
    if not budgets:
        print_line(f"{year}年还没有工会登记会员人数或购买贫困户产品。")
        return 0
    per_member = ctx.settings.union_budget_per_member_yuan
    print_line(
        f"{year}年工会消费扶贫额度（每名会员{per_member}元；已用为结对帮扶村和深度贫困镇村的产品）共{len(budgets)}个："
    )
    print_line("工会：已用 / 年度额度 / 完成率")
    for budget in budgets:
        suffix = "（未过半）" if budget.below_half else ""
        print_line(completion_line(budget).removeprefix("· ") + suffix)
    return 0


def register(commands: Commands) -> None:
    """Add `unions set-members` and `unions list` to the command line's sub-commands."""
    unions = commands.add_parser("unions", help="工会：会员人数和人均消费扶贫额度")
    sub = unions.add_subparsers(dest="unions_command", required=True)

    members = sub.add_parser("set-members", help="登记工会会员人数（每次登记都保留记录，以最新一次为准）")
    members.add_argument("union", metavar="工会名称")
    members.add_argument("members", metavar="会员人数")
    members.set_defaults(handler=cmd_unions_set_members)

    listing = sub.add_parser("list", help="各工会本年的额度完成情况")
    listing.add_argument("--year", type=int, help="年份，默认今年")
    listing.set_defaults(handler=cmd_unions_list)
