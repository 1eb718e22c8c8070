"""`python -m bot complaints list`: the county's quality complaints (质量投诉), printed or written to a workbook."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from bot.cli.context import Commands, Context, print_line
from fupin.complaints.queries import complaints_for
from fupin.complaints.states import ComplaintError
from fupin.places import Gazetteer
from fupin.reporting.complaints_workbook import write_complaints_report
from fupin.settings import TIMEZONE
from fupin.setup import init_database

logger = logging.getLogger(__name__)

BAD_INPUT = 2  # exit code of a township the county does not have, as argparse's for bad arguments


def cmd_complaints_list(ctx: Context, args: argparse.Namespace) -> int:
    """Print the complaints (all, or only those not closed; of one township), and write them with -o."""
    init_database(ctx.engine, ctx.sessions)
    with ctx.sessions() as session:
        scope = "全县"
        if args.township is not None:
            township = Gazetteer.load(session).township_named(args.township)
            if township is None:
                print_line(f"云阳县没有叫“{args.township}”的乡镇（街道），请写全称，比如“龙角镇”。")
                return BAD_INPUT
            scope = township.name
        try:
            views = complaints_for(session, open_only=args.open, township=None if scope == "全县" else scope)
        except ComplaintError as exc:
            print_line(str(exc))
            return BAD_INPUT
    which = "未结案的" if args.open else ""
    if not views:
        print_line(f"{scope}没有{which}质量投诉。")
    else:
        print_line(f"{scope}{which}质量投诉{len(views)}件：")
        print_line("投诉编号  订单号  采购单位  供货地  产品  类别  状态  投诉日期  已开天数  处理人  最新答复")
        for v in views:
            print_line(
                f"{v.number}  {v.order_no}  {v.buyer}  {v.township}{v.village}  {v.product}  {v.category.value}  "
                f"{v.status.value}  {v.created.astimezone(TIMEZONE):%Y-%m-%d}  {v.days_open}天  "
                f"{v.handler or '—'}  {v.last_note or '—'}"
            )
    if args.out:
        out = Path(args.out)
        write_complaints_report(out, views)
        print_line(f"已生成：{out}（明细、按乡镇按类别）")
    return 0


def register(commands: Commands) -> None:
    """Add `complaints list` to the command line's sub-commands."""
    complaints = commands.add_parser("complaints", help="质量投诉：列表和汇总表")
    sub = complaints.add_subparsers(dest="complaints_command", required=True)

    listing = sub.add_parser("list", help="列出质量投诉（可只列未结案的、某个乡镇的），可导出 .xlsx")
    listing.add_argument("--open", action="store_true", help="只列未结案的投诉（含已解决待采购方确认的）")
    listing.add_argument("--township", help="乡镇（街道），如 龙角镇：只列这个乡镇供货的订单的投诉")
    listing.add_argument("-o", "--out", metavar="OUT.xlsx", help="同时写入表格：明细、按乡镇按类别")
    listing.set_defaults(handler=cmd_complaints_list)
