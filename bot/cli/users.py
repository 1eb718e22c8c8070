"""`python -m bot users add|invite`: bind a chat identity to a role, or issue a one-time registration code."""

from __future__ import annotations

import argparse
import logging
from datetime import timedelta

from bot.cli.context import Commands, Context, print_line
from fupin.outreach.registration import issue_code
from fupin.outreach.users import bind_user
from fupin.parsing import ParseError
from fupin.setup import init_database
from fupin.values import Role

logger = logging.getLogger(__name__)


def cmd_users_add(ctx: Context, args: argparse.Namespace) -> int:
    """Bind a chat identity to a role (and a contact to a township or village)."""
    init_database(ctx.engine, ctx.sessions)
    try:
        with ctx.sessions() as session, session.begin():
            user = bind_user(
                session,
                args.user if ":" in args.user else f"console:{args.user}",
                Role(args.role),
                township=args.township,
                village=args.village,
                display_name=args.name or "",
                lead_unit=args.lead_unit,
            )
            print_line(f"已登记：{user.channel}:{user.external_id} → {args.role}")
    except ParseError as exc:
        print_line(f"登记失败：{exc}")
        return 1
    return 0


def cmd_users_invite(ctx: Context, args: argparse.Namespace) -> int:
    """Issue a one-time registration code for a contact, lead unit or admin."""
    init_database(ctx.engine, ctx.sessions)
    try:
        with ctx.sessions() as session, session.begin():
            invitation = issue_code(
                session,
                Role(args.role),
                township=args.township,
                village=args.village,
                lead_unit=args.lead_unit,
                display_name=args.name or "",
                ttl=timedelta(days=args.days),
            )
    except ParseError as exc:
        print_line(f"无法生成邀请码：{exc}")
        return 1
    print_line(f"邀请码：{invitation.code}（{invitation.scope}，一次有效，{invitation.expires_at_text}前使用）")
    print_line(f"请对方在 Telegram 上向助手发送：/register {invitation.code}")
    return 0


def register(commands: Commands) -> None:
    """Add `users add|invite` to the command line's sub-commands."""
    users = commands.add_parser("users", help="用户").add_subparsers(dest="users_command", required=True)
    add = users.add_parser("add", help="登记用户角色")
    add.add_argument("--user", required=True)
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--township")
    add.add_argument("--village")
    add.add_argument("--name")
    add.add_argument("--lead-unit", help="牵头单位联系人（--role lead）所属单位，如 县教委")
    add.set_defaults(handler=cmd_users_add)

    invite = users.add_parser("invite", help="生成一次性登记邀请码")
    invite.add_argument("--role", required=True, choices=[Role.CONTACT.value, Role.LEAD.value, Role.ADMIN.value])
    invite.add_argument("--township")
    invite.add_argument("--village")
    invite.add_argument("--lead-unit")
    invite.add_argument("--name", help="联系人姓名（可选）")
    invite.add_argument("--days", type=int, default=7, help="有效天数，默认7天")
    invite.set_defaults(handler=cmd_users_invite)
