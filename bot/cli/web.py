"""`python -m bot web [--port N]` serves the county office's console; `web link --user ID` prints a sign-in link."""

from __future__ import annotations

import argparse
import logging

from bot.cli.context import Commands, Context, prepare, print_line
from fupin.outreach.web_links import LINK_TTL, SignInError, find_user, issue_link
from fupin.setup import init_database

logger = logging.getLogger(__name__)


def cmd_web(ctx: Context, args: argparse.Namespace) -> int:
    """Prepare the database and serve the web console until Ctrl-C."""
    from web.server import serve  # aiohttp and Jinja2 only for this command

    prepare(ctx)
    print_line(f"网页管理台：{ctx.settings.web_base_url(args.port)}（Ctrl-C 停止）")
    serve(ctx.settings, ctx.sessions, port=args.port)
    return 0


def cmd_web_link(ctx: Context, args: argparse.Namespace) -> int:
    """Print a one-time sign-in link (15 minutes) for an admin or lead-unit user."""
    init_database(ctx.engine, ctx.sessions)
    sender = args.user if ":" in args.user else f"console:{args.user}"
    try:
        with ctx.sessions() as session, session.begin():
            user = find_user(session, sender)
            if user is None:
                raise SignInError(f"没有登记过的用户 {sender}（先用 users add 或 /register 登记）")
            token = issue_link(session, user.id)
    except SignInError as exc:
        print_line(str(exc))
        return 1
    minutes = int(LINK_TTL.total_seconds() // 60)
    print_line(f"{ctx.settings.web_base_url()}/login/{token}")
    print_line(f"（一次有效，{minutes}分钟内打开）")
    return 0


def register(commands: Commands) -> None:
    """Add `web` and `web link` to the command line's sub-commands."""
    web = commands.add_parser("web", help="网页管理台（县商务委、农业农村委使用）")
    web.add_argument("--port", type=int, default=None, help="端口，默认 WEB_PORT 或 8080")
    web.set_defaults(handler=cmd_web)
    sub = web.add_subparsers(dest="web_command")
    link = sub.add_parser("link", help="生成一次性登录链接（15分钟内有效）")
    link.add_argument("--user", required=True, help="用户，如 telegram:123456（与 users add 相同）")
    link.set_defaults(handler=cmd_web_link)
