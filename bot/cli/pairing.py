"""`python -m bot pairing import|add|end|list` (百企帮百村: firms and unions paired with villages), and
`python -m bot report pairing --year 2019 -o OUT.xlsx`."""

from __future__ import annotations

import argparse
import logging
from datetime import date
from pathlib import Path

from bot.cli.context import Commands, Context, print_line
from fupin.pairing.importing import import_pairing_file
from fupin.pairing.register import PairingError, add_pairing, end_pairing, pairing_views
from fupin.pairing.workbook import write_pairing_report
from fupin.parsing import parse_day
from fupin.periods import YEARS, today
from fupin.reporting.formatting import yuan
from fupin.setup import init_database
from fupin.spreadsheets.grid import SpreadsheetError
from fupin.values import PairingSource

logger = logging.getLogger(__name__)


def _day(text: str | None, what: str) -> date:
    if not text:
        return today()
    day = parse_day(text)
    if day is None:
        raise PairingError(f"无法识别的{what}“{text}”，请写成 2019-09-01 这样")
    return day


def cmd_pairing_import(ctx: Context, args: argparse.Namespace) -> int:
    """Import a pairing register; 1 when the file or any row was rejected."""
    init_database(ctx.engine, ctx.sessions)
    path = Path(args.file)
    try:
        with ctx.sessions() as session, session.begin():
            report = import_pairing_file(session, path, today(), strict=args.strict)
    except SpreadsheetError as exc:
        print_line(f"✗ {exc}（未导入任何内容）")
        return 1
    for line in report.lines():
        print_line(line)
    return 0 if report.ok else 1


def cmd_pairing_add(ctx: Context, args: argparse.Namespace) -> int:
    """Pair a firm (registered as 爱心企业 when new) with a village."""
    init_database(ctx.engine, ctx.sessions)
    try:
        started = _day(args.since, "结对时间")
        with ctx.sessions() as session, session.begin():
            change = add_pairing(session, args.buyer, args.village, started, PairingSource.COMMAND)
            buyer, village = change.pairing.buyer.name, change.pairing.village.short_name
            township = change.pairing.village.township.name
    except PairingError as exc:
        print_line(f"✗ {exc}")
        return 1
    if change.buyer_created:
        print_line(f"已登记爱心企业：{buyer}")
    done = "已结对" if change.opened else "已在册，无需重复登记"
    print_line(f"{buyer} — {township}{village}：{done}（{started:%Y-%m-%d}起）")
    return 0


def cmd_pairing_end(ctx: Context, args: argparse.Namespace) -> int:
    """End a pairing on a day (today by default): purchases from then on no longer count toward it."""
    init_database(ctx.engine, ctx.sessions)
    try:
        ended = _day(args.on, "结束日期")
        with ctx.sessions() as session, session.begin():
            pairing = end_pairing(session, args.buyer, args.village, ended)
            said = f"{pairing.buyer.name} — {pairing.village.township.name}{pairing.village.short_name}"
    except PairingError as exc:
        print_line(f"✗ {exc}")
        return 1
    print_line(f"{said}：结对于{ended:%Y-%m-%d}结束")
    return 0


def cmd_pairing_list(ctx: Context, args: argparse.Namespace) -> int:
    """List the pairings in force today (every pairing with --all)."""
    init_database(ctx.engine, ctx.sessions)
    with ctx.sessions() as session:
        views = pairing_views(session, on=None if args.all else today())
    if not views:
        print_line("还没有登记结对帮扶。" if args.all else "目前没有在册的结对帮扶。")
        return 0
    print_line(f"结对帮扶{len(views)}对：")
    for view in views:
        print_line(f"  {view.line()}")
    return 0


def cmd_report_pairing(ctx: Context, args: argparse.Namespace) -> int:
    """Write the year's 百企帮百村 workbook: each firm's pairing with its purchases there by quarter."""
    if args.year not in YEARS:
        print_line(f"年份{args.year}不对，请写成 2019 这样")
        return 1
    init_database(ctx.engine, ctx.sessions)
    out = Path(args.out)
    with ctx.sessions() as session:
        lines = write_pairing_report(session, args.year, out)
    total = sum(line.amount_fen for line in lines)
    print_line(f"已生成{args.year}年百企帮百村结对采购情况：{out}（结对{len(lines)}对，从结对村采购{yuan(total)}）")
    return 0


def register(commands: Commands) -> None:
    """Add `pairing import|add|end|list` to the command line's sub-commands."""
    pairing = commands.add_parser("pairing", help="百企帮百村：企业（工会）与村的结对帮扶名单")
    sub = pairing.add_subparsers(dest="pairing_command", required=True)

    imported = sub.add_parser("import", help="导入结对名单（.xlsx/.csv：企业名称、乡镇、村、结对时间）")
    imported.add_argument("file", metavar="FILE")
    imported.add_argument("--strict", action="store_true", help="有任何错误行时整份文件不导入")
    imported.set_defaults(handler=cmd_pairing_import)

    add = sub.add_parser("add", help="登记一对结对帮扶（企业未登记时按爱心企业登记）")
    add.add_argument("--buyer", required=True, help="企业（工会）名称")
    add.add_argument("--village", required=True, help="结对的村，如 龙角镇张家村")
    add.add_argument("--since", help="结对时间，如 2019-09-01，默认今天")
    add.set_defaults(handler=cmd_pairing_add)

    end = sub.add_parser("end", help="结束一对结对帮扶")
    end.add_argument("--buyer", required=True, help="企业（工会）名称")
    end.add_argument("--village", required=True, help="结对的村，如 龙角镇张家村")
    end.add_argument("--on", help="结束日期，如 2020-01-01，默认今天")
    end.set_defaults(handler=cmd_pairing_end)

    listed = sub.add_parser("list", help="列出在册的结对帮扶")
    listed.add_argument("--all", action="store_true", help="包括已结束的")
    listed.set_defaults(handler=cmd_pairing_list)


def register_report(report: Commands) -> None:
    """Add `report pairing --year` to the `report` sub-commands."""
    yearly = report.add_parser("pairing", help="生成百企帮百村结对采购情况（按季度）")
    yearly.add_argument("--year", required=True, type=int, help="年份，如 2019")
    yearly.add_argument("-o", "--out", required=True, metavar="OUT.xlsx")
    yearly.set_defaults(handler=cmd_report_pairing)
