"""`python -m bot users add|revoke|invite`: bind a chat identity to a role or take it back; registration codes."""

from __future__ import annotations

import argparse
import logging
from datetime import timedelta

from bot.cli.context import Commands, Context, print_line
from fupin.outreach.registration import INVITABLE_ROLES, ROLE_LABELS, issue_code, open_codes, revoke_code
from fupin.outreach.users import bind_user, revoke_user
from fupin.parsing import ParseError
from fupin.setup import init_database
from fupin.values import Role

logger = logging.getLogger(__name__)


def _sender_id(user: str) -> str:
    # "telegram:123" as given; a bare id is a console user, as in the console chat.
    return user if ":" in user else f"console:{user}"


def cmd_users_add(ctx: Context, args: argparse.Namespace) -> int:
    """Bind a chat identity to a role (and a contact to a township or village)."""
    init_database(ctx.engine, ctx.sessions)
    try:
        with ctx.sessions() as session, session.begin():
            user = bind_user(
                session,
                _sender_id(args.user),
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


def cmd_users_revoke(ctx: Context, args: argparse.Namespace) -> int:
    """Take a user's roles and places back: they become a buyer."""
    init_database(ctx.engine, ctx.sessions)
    sender_id = _sender_id(args.user)
    with ctx.sessions() as session, session.begin():
        previous = revoke_user(session, sender_id)
    if previous is None:
        print_line(f"没有这个用户：{sender_id}")
        return 1
    print_line(f"已收回 {sender_id} 的{ROLE_LABELS[previous]}角色，现在只是采购方")
    return 0


def cmd_users_invite(ctx: Context, args: argparse.Namespace) -> int:
    """Issue a one-time registration code for a contact, lead unit, market staff or admin; or list or revoke unused codes."""
    init_database(ctx.engine, ctx.sessions)
    if args.list:
        return _list_codes(ctx)
    if args.revoke is not None:
        with ctx.sessions() as session, session.begin():
            revoked = revoke_code(session, args.revoke)
        print_line(f"邀请码 #{args.revoke} 已作废" if revoked else f"没有未使用的邀请码 #{args.revoke}")
        return 0 if revoked else 1
    if args.role is None:
        print_line("请用 --role 指定邀请码的角色，或用 --list 查看、--revoke ID 作废未使用的邀请码")
        return 2
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


def _list_codes(ctx: Context) -> int:
    # Only hashes are stored: a code is named by its id, the only thing --revoke needs.
    with ctx.sessions() as session:
        codes = open_codes(session)
    print_line(f"未使用、未过期的邀请码：{len(codes)}个")
    for code in codes:
        print_line(f"  #{code.id} {code.scope}，{code.expires_at_text}前有效")
    return 0


def register(commands: Commands) -> None:
    """Add `users add|revoke|invite` to the command line's sub-commands."""
    users = commands.add_parser("users", help="用户").add_subparsers(dest="users_command", required=True)
    add = users.add_parser("add", help="登记用户角色")
    add.add_argument("--user", required=True)
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--township")
    add.add_argument("--village")
    add.add_argument("--name")
    add.add_argument("--lead-unit", help="牵头单位联系人（--role lead）所属单位，如 县教委")
    add.set_defaults(handler=cmd_users_add)

    revoke = users.add_parser("revoke", help="收回用户的角色（变为采购方）")
    revoke.add_argument("--user", required=True, help="如 telegram:123456；不带前缀为控制台用户")
    revoke.set_defaults(handler=cmd_users_revoke)

    invite = users.add_parser("invite", help="生成一次性登记邀请码；--list 查看、--revoke 作废未使用的邀请码")
    action = invite.add_mutually_exclusive_group()
    action.add_argument(
        "--role", choices=[r.value for r in INVITABLE_ROLES], help="market = 县市场监管人员（处理质量投诉）"
    )
    action.add_argument("--list", action="store_true", help="列出未使用、未过期的邀请码（只显示编号和范围）")
    action.add_argument("--revoke", type=int, metavar="ID", help="作废一个未使用的邀请码（编号见 --list）")
    invite.add_argument("--township")
    invite.add_argument("--village")
    invite.add_argument("--lead-unit")
    invite.add_argument("--name", help="联系人姓名（可选）")
    invite.add_argument("--days", type=int, default=7, help="有效天数，默认7天")
    invite.set_defaults(handler=cmd_users_invite)
