"""Command line of the bot: `python -m bot run|chat|users|complaints|db|catalog|nlu|report|reminders …`.

Each command group is a module of bot.cli with a `register(commands)` that adds its parsers, each with
`set_defaults(handler=...)`: a function `(Context, argparse.Namespace) -> int` returning the exit code.
A new group is such a module, added to COMMAND_GROUPS.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable, Sequence

from bot import logs
from bot.cli import (
    actions,
    buyers,
    catalog,
    complaints,
    db,
    logistics,
    nlu,
    pairing,
    privacy,
    reminders,
    reports,
    run,
    stock,
    unions,
    users,
    web,
)
from bot.cli.context import Commands, Context, Handler
from fupin.settings import Settings

logger = logging.getLogger(__name__)

# In the order `python -m bot --help` lists them.
COMMAND_GROUPS: tuple[Callable[[Commands], None], ...] = (
    run.register,
    users.register,
    buyers.register,
    pairing.register,
    unions.register,
    logistics.register,
    complaints.register,
    db.register,
    catalog.register,
    nlu.register,
    reports.register,
    reminders.register,
    stock.register,
    actions.register,
    web.register,
    privacy.register,
)
# Commands that start the assistant, with the dialogue engine's logging.
ASSISTANT_COMMANDS = ("run", "chat")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="云阳县消费扶贫助手")
    commands = parser.add_subparsers(dest="command", required=True)
    for register in COMMAND_GROUPS:
        register(commands)
    return parser


def configure_logging(settings: Settings, command: str) -> None:
    """Log to stderr for a one-off command; to the log file (and stderr for the Telegram bot) for the assistant."""
    secrets = (settings.telegram_bot_token, settings.telegram_webhook_secret, settings.action_server_token)
    if command in ASSISTANT_COMMANDS:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        # The console conversation owns the terminal, so its logs go to the file only;
        # the Telegram bot is a service: the file and stderr.
        telegram = command == "run" and bool(settings.telegram_bot_token)
        logs.configure(settings.log_level, settings.log_dir / "bot.log", also_stderr=telegram, secrets=secrets)
    else:
        logs.configure(settings.log_level, None, also_stderr=True, secrets=secrets)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: read the settings, configure logging, run one command, release resources."""
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    configure_logging(settings, args.command)
    ctx = Context(settings)
    handler: Handler = args.handler
    try:
        return int(handler(ctx, args))
    finally:
        ctx.close()
