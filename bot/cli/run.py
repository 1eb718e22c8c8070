"""`python -m bot run|chat`: start the bot (Telegram, or the console chat without a token), or chat locally."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.cli.catalog import print_summary
from bot.cli.context import Commands, Context, prepare, print_line
from bot.console import chat
from bot.dialogue.assistant import model_path
from bot.dialogue.engine_logs import follow_root_logging
from bot.dialogue.runtime import DialogueRuntime

logger = logging.getLogger(__name__)


def cmd_chat(ctx: Context, args: argparse.Namespace) -> int:
    """Console chat: load the agent (with the actions in process), then read one message per line."""
    follow_root_logging()  # Rasa's structured logs follow ours, into the log file

    prepare(ctx)
    model = model_path(ctx.settings)
    if not model.is_file():
        print_line("还没有训练好的模型，请先运行 make train（或 make run）。")
        return 1
    interactive = sys.stdin.isatty()
    if interactive:
        print_line("正在启动助手（加载模型约需十几秒）…")
    runtime = DialogueRuntime.start(ctx.settings)
    try:
        if interactive:
            print_line("助手已就绪。输入消息开始对话，输入按钮前的数字可选择按钮，Ctrl-D 或“退出”结束。")
        sender = args.user if ":" in args.user else f"console:{args.user}"
        asyncio.run(_chat(runtime, sender, "你：" if interactive else ""))
    finally:
        asyncio.run(runtime.close())
    return 0


async def _chat(runtime: DialogueRuntime, sender: str, prompt: str) -> None:
    await chat(runtime.dialogue, sender, sys.stdin.readline, prompt=prompt)


def cmd_run(ctx: Context, args: argparse.Namespace) -> int:
    """Prepare the database and start the bot (the console chat when no Telegram token is set)."""
    prepare(ctx)
    print_summary(ctx)
    if ctx.settings.telegram_bot_token:
        return cmd_run_telegram(ctx)
    args.user = "console:local"
    return cmd_chat(ctx, args)


def cmd_run_telegram(ctx: Context) -> int:
    """Run the Telegram bot (long polling, or webhook when configured) until Ctrl-C or SIGTERM."""
    # Imported here only for start-up time: python-telegram-bot and its HTTP stack would add most of a
    # second to every other command. There is no circle to avoid: bot.telegram never imports bot.cli.
    from bot.telegram.app import run

    follow_root_logging()
    if not model_path(ctx.settings).is_file():
        print_line("还没有训练好的模型，请先运行 make train（或 make run）。")
        return 1
    mode = "webhook" if ctx.settings.telegram_webhook_url else "长轮询"
    print_line(f"正在启动 Telegram 机器人（{mode}，加载模型约需十几秒），Ctrl-C 停止。")
    run(ctx.settings)
    return 0


def register(commands: Commands) -> None:
    """Add `run` and `chat` to the command line's sub-commands."""
    commands.add_parser("run", help="准备数据库并启动助手").set_defaults(handler=cmd_run)
    chat_parser = commands.add_parser("chat", help="本地对话（每行一条消息）")
    chat_parser.add_argument("--user", default="local", help="对话身份，默认 local；也可写 telegram:123")
    chat_parser.set_defaults(handler=cmd_chat)
