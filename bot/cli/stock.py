"""Command line of the stock ledger: `python -m bot stock history|correct|check`."""

from __future__ import annotations

import argparse
import logging
from decimal import Decimal, InvalidOperation

from bot.cli.context import Commands, Context, print_line
from fupin.catalog import ledger
from fupin.catalog.stock_history import listings_of, stock_history
from fupin.setup import init_database

logger = logging.getLogger(__name__)


def _quantity(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(f"数量应为数字：{text}") from exc


def cmd_stock_history(ctx: Context, args: argparse.Namespace) -> int:
    """Print every stock movement of a listing (or of a township's product) with running balances."""
    init_database(ctx.engine, ctx.sessions)
    with ctx.sessions() as session:
        if args.listing is not None:
            ids = [args.listing]
        elif args.township and args.product:
            ids = listings_of(session, args.township, args.product)
        else:
            print_line("请用 --listing 编号，或同时给出 --township 和 --product")
            return 2
        if not ids:
            print_line("没有找到这条供货信息")
            return 1
        for number, listing_id in enumerate(ids):
            history = stock_history(session, listing_id)
            if history is None:
                print_line(f"没有编号为{listing_id}的供货信息")
                return 1
            if number:
                print_line()
            print_line(history.text(last=args.last))
    return 0


def cmd_stock_correct(ctx: Context, args: argparse.Namespace) -> int:
    """Set a listing's available quantity, with a reason, as a CORRECTION move."""
    init_database(ctx.engine, ctx.sessions)
    try:
        with ctx.sessions() as session, session.begin():
            change = ledger.correct(session, args.listing, args.available, None, f"管理员更正：{args.reason}")
    except ledger.LedgerError as exc:
        print_line(str(exc))
        return 1
    print_line(f"已更正：可售数量变化{change:+}，原因：{args.reason}")
    return 0


def cmd_stock_check(ctx: Context, _args: argparse.Namespace) -> int:
    """Check that every listing's figures equal the sums of its ledger; lists those that do not."""
    init_database(ctx.engine, ctx.sessions)
    with ctx.sessions() as session:
        found = ledger.mismatches(session)
    for row in found:
        print_line(
            f"#{row.listing_id}：可售{row.available}（台账{row.ledger_available}），"
            f"计划{row.planned}（台账{row.ledger_planned}），已预订{row.held}（台账{row.ledger_held}）"
        )
    print_line("库存台账一致" if not found else f"共{len(found)}条不一致")
    return 1 if found else 0


def register(subparsers: Commands) -> None:
    """Add the `stock` command group."""
    stock = subparsers.add_parser("stock", help="库存台账").add_subparsers(dest="stock_command", required=True)
    history = stock.add_parser("history", help="查看一条供货信息的库存记录")
    history.add_argument("--listing", type=int, help="供货信息编号")
    history.add_argument("--township", help="乡镇（街道），如 龙角镇")
    history.add_argument("--product", help="产品，如 土豆")
    history.add_argument("--last", type=int, default=None, help="只显示最近几条")
    history.set_defaults(handler=cmd_stock_history)
    correct = stock.add_parser("correct", help="更正可售数量（记一笔更正）")
    correct.add_argument("--listing", type=int, required=True, help="供货信息编号")
    correct.add_argument("--available", type=_quantity, required=True, help="更正后的可售数量")
    correct.add_argument("--reason", required=True, help="更正原因")
    correct.set_defaults(handler=cmd_stock_correct)
    stock.add_parser("check", help="核对库存与台账是否一致").set_defaults(handler=cmd_stock_check)
