"""`python -m bot actions`: the optional separate action server (the bot runs its actions itself by default)."""

from __future__ import annotations

import argparse
import logging

from bot.cli.context import Commands, Context

logger = logging.getLogger(__name__)


def cmd_actions(ctx: Context, args: argparse.Namespace) -> int:
    """Serve the custom actions over HTTP for a bot started with ACTION_ENDPOINT_URL; needs ACTION_SERVER_TOKEN."""
    from actions.common import make_services
    from bot.dialogue.action_server import run
    from bot.dialogue.actions import build_executor
    from fupin.orders.rules import OrderRules

    settings = ctx.settings
    if not settings.action_server_token:
        print("未设置 ACTION_SERVER_TOKEN：动作服务器必须有共享密钥才能启动。", flush=True)
        return 2
    host = args.host or settings.action_server_host
    port = args.port or settings.action_server_port
    print(f"动作服务器在 {host}:{port} 监听，Ctrl-C 停止。", flush=True)
    services = make_services(
        ctx.sessions,
        OrderRules.from_settings(settings),
        settings.report_grace_days,
        settings.union_budget_per_member_fen,
    )
    run(build_executor(services), settings.action_server_token, host, port)
    return 0


def register(commands: Commands) -> None:
    """Add the `actions` command to the command line's sub-commands."""
    parser = commands.add_parser("actions", help="单独启动动作服务器（默认不需要：助手在自己的进程里运行动作）")
    parser.add_argument("--host", help="监听地址，默认 ACTION_SERVER_HOST（127.0.0.1）")
    parser.add_argument("--port", type=int, help="端口，默认 ACTION_SERVER_PORT（5055）")
    parser.set_defaults(handler=cmd_actions)
