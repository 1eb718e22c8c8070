"""Command line of the bot: `python -m bot run|db|catalog …`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import logs
from bot.cli.reminders import register as register_reminder_commands
from bot.cli.reports import register as register_report_commands
from bot.cli.stock import register as register_stock_commands
from bot.dialogue.assistant import DialogueRuntime, model_path
from fupin.catalog.files import export_catalog, import_catalog_files
from fupin.catalog.listings import catalog_summary
from fupin.catalog.search import CatalogSearch
from fupin.db import make_engine, make_session_factory
from fupin.outreach.registration import issue_code
from fupin.outreach.users import bind_user
from fupin.parsing import ParseError
from fupin.settings import Settings
from fupin.setup import catalogue_is_empty, init_database, seed_demo
from fupin.values import Role, format_yuan

logger = logging.getLogger(__name__)


class Context:
    """What every command needs: settings, engine and session factory (created once, disposed at exit)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: Engine = make_engine(settings.database_url)
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


def _print(line: str = "") -> None:
    print(line, flush=True)


def cmd_db_init(ctx: Context, _args: argparse.Namespace) -> int:
    """Create or upgrade the schema and load the county's places and product aliases."""
    result = init_database(ctx.engine, ctx.sessions)
    _print(f"数据库已就绪：新增乡镇{result.townships}个、村（社区）{result.villages}个、产品别名{result.aliases}个")
    return 0


def cmd_db_seed_demo(ctx: Context, _args: argparse.Namespace) -> int:
    """Prepare the database and load the demo catalogue."""
    init_database(ctx.engine, ctx.sessions)
    report = seed_demo(ctx.sessions)
    _print(f"演示目录：新增{report.created}条，更新{report.updated}条")
    for issue in report.issues:
        _print(f"  - {issue}")
    return 0 if report.ok else 1


def cmd_catalog_import(ctx: Context, args: argparse.Namespace) -> int:
    """Import 附件1 files; exits 1 when any file or row was rejected."""
    report = import_catalog_files(ctx.sessions, [Path(p) for p in args.files], strict=args.strict)
    for line in report.lines():
        _print(line)
    return 0 if report.ok else 1


def cmd_catalog_export(ctx: Context, args: argparse.Namespace) -> int:
    """Write the county 供应目录 spreadsheet."""
    with ctx.sessions() as session:
        count = export_catalog(session, Path(args.out))
    _print(f"已导出{count}条目录到 {args.out}")
    return 0


def print_summary(ctx: Context) -> None:
    """Print the catalogue figures, county-wide and by township."""
    with ctx.sessions() as session:
        summary = catalog_summary(session)
    _print(
        f"供应目录：{summary.listings}条，有货{summary.in_stock}条，产品{summary.products}种，覆盖乡镇{len(summary.townships)}个"
    )
    for township in summary.townships:
        _print(f"  {township.township}：{township.listings}条（有货{township.in_stock}条）")


def cmd_catalog_summary(ctx: Context, _args: argparse.Namespace) -> int:
    """Print the catalogue summary."""
    print_summary(ctx)
    return 0


def cmd_catalog_search(ctx: Context, args: argparse.Namespace) -> int:
    """Search the catalogue by product and/or place."""
    search = CatalogSearch(ctx.sessions)
    if args.text:
        result = search.search_text(args.text, limit=args.limit)
    else:
        result = search.search(product=args.product, place=args.place, limit=args.limit)
    if result.unknown_product:
        _print(f"目录里没有“{args.product}”")
    if result.unknown_place:
        _print(f"云阳县没有叫“{args.place}”的乡镇或村")
    for match in result.products:
        if match.how != "exact":
            _print(f"（按“{match.product}”查找）")
    _print(f"共{result.total}条")
    for view in result.listings or result.alternatives:
        _print(
            f"- {view.place} {view.product}{('（' + view.variety + '）') if view.variety else ''}："
            f"剩{view.remaining}，{format_yuan(view.price.fen)}元/{view.price.unit}，"
            f"{'、'.join(view.supply_methods)}；联系人 {view.contact_name} {view.contact_phone}"
        )
    return 0


def cmd_nlu_export(ctx: Context, _args: argparse.Namespace) -> int:
    """Write the NLU's lookup tables and jieba dictionary from the database."""
    from nlu.export import export  # the NLU side is only needed by this command

    init_database(ctx.engine, ctx.sessions)
    if catalogue_is_empty(ctx.sessions):
        seed_demo(ctx.sessions)
    with ctx.sessions() as session:
        changed = export(session)
    _print("NLU 词表已更新" if changed else "NLU 词表无变化")
    return 0


def prepare(ctx: Context) -> None:
    """Schema, reference data, and the demo catalogue when the catalogue is empty."""
    init_database(ctx.engine, ctx.sessions)
    if catalogue_is_empty(ctx.sessions):
        report = seed_demo(ctx.sessions)
        _print(f"已载入演示目录（{report.created}条）")


def cmd_chat(ctx: Context, args: argparse.Namespace) -> int:
    """Console chat: start the action server and the agent, then read one message per line."""
    import jieba
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.getLogger().level)  # Rasa's structured logs follow ours, into the log file
    jieba.setLogLevel(logging.WARNING)

    prepare(ctx)
    model = model_path(ctx.settings)
    if not model.is_file():
        _print("还没有训练好的模型，请先运行 make train（或 make run）。")
        return 1
    interactive = sys.stdin.isatty()
    if interactive:
        _print("正在启动助手（加载模型约需半分钟）…")
    runtime = DialogueRuntime.start(ctx.settings)
    try:
        if interactive:
            _print("助手已就绪。输入消息开始对话，输入按钮前的数字可选择按钮，Ctrl-D 或“退出”结束。")
        sender = args.user if ":" in args.user else f"console:{args.user}"
        asyncio.run(_chat(runtime, sender, "你：" if interactive else ""))
    finally:
        asyncio.run(runtime.close())
    return 0


async def _chat(runtime: DialogueRuntime, sender: str, prompt: str) -> None:
    from bot.console import chat

    await chat(runtime.dialogue, sender, sys.stdin.readline, prompt=prompt)


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
            _print(f"已登记：{user.channel}:{user.external_id} → {args.role}")
    except ParseError as exc:
        _print(f"登记失败：{exc}")
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
        _print(f"无法生成邀请码：{exc}")
        return 1
    _print(f"邀请码：{invitation.code}（{invitation.scope}，一次有效，{invitation.expires_at_text}前使用）")
    _print(f"请对方在 Telegram 上向助手发送：/register {invitation.code}")
    return 0


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
    import jieba
    from rasa.utils.log_utils import configure_structlog

    from bot.telegram.app import run

    configure_structlog(logging.getLogger().level)
    jieba.setLogLevel(logging.WARNING)
    if not model_path(ctx.settings).is_file():
        _print("还没有训练好的模型，请先运行 make train（或 make run）。")
        return 1
    mode = "webhook" if ctx.settings.telegram_webhook_url else "长轮询"
    _print(f"正在启动 Telegram 机器人（{mode}，加载模型约需半分钟），Ctrl-C 停止。")
    run(ctx.settings)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="云阳县消费扶贫助手")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("run", help="准备数据库并启动助手").set_defaults(handler=cmd_run)
    chat_parser = commands.add_parser("chat", help="本地对话（每行一条消息）")
    chat_parser.add_argument("--user", default="local", help="对话身份，默认 local；也可写 telegram:123")
    chat_parser.set_defaults(handler=cmd_chat)

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

    db = commands.add_parser("db", help="数据库").add_subparsers(dest="db_command", required=True)
    db.add_parser("init", help="创建或升级数据库并载入乡镇村和产品别名").set_defaults(handler=cmd_db_init)
    db.add_parser("seed-demo", help="载入演示供应目录").set_defaults(handler=cmd_db_seed_demo)

    catalog = commands.add_parser("catalog", help="供应目录").add_subparsers(dest="catalog_command", required=True)
    imp = catalog.add_parser("import", help="导入附件1表格（.xlsx/.csv）")
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.add_argument("--strict", action="store_true", help="任何一行有错时整份文件都不导入")
    imp.set_defaults(handler=cmd_catalog_import)
    exp = catalog.add_parser("export", help="导出全县供应目录")
    exp.add_argument("out", metavar="OUT.xlsx")
    exp.set_defaults(handler=cmd_catalog_export)
    catalog.add_parser("summary", help="目录概况").set_defaults(handler=cmd_catalog_summary)
    search = catalog.add_parser("search", help="查找产品")
    search.add_argument("--product")
    search.add_argument("--place")
    search.add_argument("--text", help="一句话查找，如“龙角镇有什么特产”")
    search.add_argument("--limit", type=int, default=5)
    search.set_defaults(handler=cmd_catalog_search)
    nlu = commands.add_parser("nlu", help="自然语言理解").add_subparsers(dest="nlu_command", required=True)
    nlu.add_parser("export", help="从数据库生成词典和查找表").set_defaults(handler=cmd_nlu_export)
    register_report_commands(commands)
    register_reminder_commands(commands)
    register_stock_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: configure logging, run one command, release resources."""
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    secrets = (settings.telegram_bot_token, settings.telegram_webhook_secret)
    if args.command in ("run", "chat"):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        # The console conversation owns the terminal, so its logs go to the file only;
        # the Telegram bot is a service: the file and stderr.
        telegram = args.command == "run" and bool(settings.telegram_bot_token)
        logs.configure(settings.log_level, settings.log_dir / "bot.log", also_stderr=telegram, secrets=secrets)
    else:
        logs.configure(settings.log_level, None, also_stderr=True, secrets=secrets)
    ctx = Context(settings)
    try:
        return int(args.handler(ctx, args))
    finally:
        ctx.close()
