"""`python -m bot nlu export`: the NLU's vocabulary (lookup tables, jieba dictionary) from the database."""

from __future__ import annotations

import argparse
import logging

from bot.cli.context import Commands, Context, print_line
from fupin.setup import catalogue_is_empty, init_database, seed_demo
from nlu.export import export

logger = logging.getLogger(__name__)


def cmd_nlu_export(ctx: Context, _args: argparse.Namespace) -> int:
    """Write the NLU's lookup tables and jieba dictionary from the database."""
    init_database(ctx.engine, ctx.sessions)
    if catalogue_is_empty(ctx.sessions):
        seed_demo(ctx.sessions)
    with ctx.sessions() as session:
        changed = export(session)
    print_line("NLU 词表已更新" if changed else "NLU 词表无变化")
    return 0


def register(commands: Commands) -> None:
    """Add `nlu export` to the command line's sub-commands."""
    nlu = commands.add_parser("nlu", help="自然语言理解").add_subparsers(dest="nlu_command", required=True)
    nlu.add_parser("export", help="从数据库生成词典和查找表").set_defaults(handler=cmd_nlu_export)
