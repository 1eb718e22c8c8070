"""`python -m bot report …`: the quarterly forms (附件2, 附件3), the overview, importing a township's 附件2, its versions."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from bot.cli.context import Context, print_line
from bot.cli.pairing import register_report as register_pairing_report
from fupin.models import utcnow
from fupin.orders.overdue import overdue_orders
from fupin.periods import YEARS, Period
from fupin.places import Gazetteer, TownshipEntry
from fupin.reporting.documents import (
    NoTownshipForFile,
    ReportInputError,
    file_township,
    parse_quarter,
    sales_form_unit,
)
from fupin.reporting.form_writers import write_purchases_form, write_sales_form
from fupin.reporting.formatting import yuan
from fupin.reporting.households import household_report
from fupin.reporting.households_workbook import write_household_workbook
from fupin.reporting.kinds import ReportKind
from fupin.reporting.locks import reopen_report
from fupin.reporting.overdue_workbook import write_overdue_report
from fupin.reporting.overview import overview
from fupin.reporting.overview_workbook import write_overview_files
from fupin.reporting.quarter import known_lead_units, lead_unit_report, township_report
from fupin.reporting.sales_import import import_sales_report
from fupin.reporting.versions import report_history, restore_version
from fupin.setup import init_database
from fupin.values import format_yuan

logger = logging.getLogger(__name__)


class InputError(Exception):
    """Bad command-line input; the message is a Chinese explanation for the clerk."""


def _quarter(text: str) -> Period:
    # Always named on the command line: an empty --quarter is an error here, not the current quarter.
    try:
        period = parse_quarter(text) if text.strip() else None
    except ReportInputError:
        period = None  # answered below with the command line's own hint
    if period is None:
        raise InputError(f"无法识别的季度“{text}”，请写成 2019Q3 这样（年份加 Q 加季度 1-4）")
    return period


def _township(session: Session, name: str) -> TownshipEntry:
    township = Gazetteer.load(session).township_named(name)
    if township is None:
        raise InputError(f"云阳县没有叫“{name}”的乡镇（街道）")
    return township


def _lead_unit(session: Session, name: str) -> str:
    units = known_lead_units(session)
    if name not in units:
        raise InputError(f"未知的牵头单位“{name}”，可选：{'、'.join(units)}")
    return name


Handler = Callable[["Context", argparse.Namespace], int]


def _guarded(handler: Handler) -> Handler:
    # Bad input is the clerk's to fix: say what is wrong in Chinese and exit 1, without a traceback.
    def run(ctx: Context, args: argparse.Namespace) -> int:
        try:
            return int(handler(ctx, args))
        except InputError as exc:
            print_line(str(exc))
            return 1

    run.__doc__ = handler.__doc__
    return run


def cmd_report_sales(ctx: Context, args: argparse.Namespace) -> int:
    """Write 附件2 for one township, or for every township with sales in the quarter."""
    period = _quarter(args.quarter)
    init_database(ctx.engine, ctx.sessions)
    out = Path(args.out)
    with ctx.sessions() as session:
        if args.township:
            township = _township(session, args.township)
            write_sales_form(session, period, township.id, out)
            report = township_report(session, period, township.id)
            print_line(
                f"已生成{township.name}{period.label}附件2：{out}（{len(report.rows)}条，合计{yuan(report.total_fen)}）"
            )
        else:
            write_sales_form(session, period, None, out)
            print_line(f"已生成全县各乡镇（街道）{period.label}附件2：{out}（每个有销售的乡镇一个工作表）")
    return 0


def cmd_report_purchases(ctx: Context, args: argparse.Namespace) -> int:
    """Write 附件3 for one lead unit, or for every lead unit with purchases in the quarter."""
    period = _quarter(args.quarter)
    init_database(ctx.engine, ctx.sessions)
    out = Path(args.out)
    with ctx.sessions() as session:
        if args.lead_unit:
            unit = _lead_unit(session, args.lead_unit)
            write_purchases_form(session, period, unit, out)
            report = lead_unit_report(session, period, unit)
            print_line(f"已生成{unit}{period.label}附件3：{out}（{len(report.rows)}条，合计{yuan(report.total_fen)}）")
        else:
            write_purchases_form(session, period, None, out)
            print_line(f"已生成各牵头单位{period.label}附件3：{out}（每个有采购的牵头单位一个工作表）")
    return 0


def cmd_report_overview(ctx: Context, args: argparse.Namespace) -> int:
    """Write the quarter's overview workbook and charts into a folder, and print its summary."""
    period = _quarter(args.quarter)
    init_database(ctx.engine, ctx.sessions)
    with ctx.sessions() as session:
        view = overview(session, period, union_per_member_fen=ctx.settings.union_budget_per_member_fen)
        paths = write_overview_files(view, Path(args.out))
        for line in view.summary_lines():
            print_line(line)
    print_line("已生成：")
    for path in paths:
        print_line(f"  {path}")
    return 0


def cmd_report_import(ctx: Context, args: argparse.Namespace) -> int:
    """Import a township's filled 附件2 for a quarter; exits 1 when the file or any row was rejected."""
    period = _quarter(args.quarter)
    init_database(ctx.engine, ctx.sessions)
    path = Path(args.file)
    with ctx.sessions() as session:
        if args.township:
            township = _township(session, args.township)
        else:
            # Without --township the file is taken as the county's: its 填报单位 names the township.
            try:
                township = file_township(Gazetteer.load(session), None, "", sales_form_unit(path) or "")
            except NoTownshipForFile as exc:
                raise InputError(
                    f"{path.name}：表中没有填写填报单位，请用 --township 写明是哪个乡镇（街道）的附件2"
                ) from exc
    result = import_sales_report(
        ctx.sessions, path, period, township.id, None, grace_days=ctx.settings.report_grace_days
    )
    for line in result.lines():
        print_line(line)
    return 0 if result.ok else 1


def cmd_report_history(ctx: Context, args: argparse.Namespace) -> int:
    """List every version of a township's 附件2 for a quarter: number, when, who, source, rows, total, current."""
    period = _quarter(args.quarter)
    init_database(ctx.engine, ctx.sessions)
    with ctx.sessions() as session:
        township = _township(session, args.township)
        entries = report_history(session, ReportKind.SALES, period, township.name)
    if not entries:
        print_line(f"{township.name}{period.label}附件2还没有导入过文件，没有历史版本。")
        return 0
    print_line(f"{township.name}{period.label}附件2的版本（共{len(entries)}版）：")
    for entry in entries:
        print_line(f"  {entry.line()}")
    return 0


def cmd_report_restore(ctx: Context, args: argparse.Namespace) -> int:
    """Make an older version of a township's 附件2 current again, as a new version (nothing is deleted)."""
    period = _quarter(args.quarter)
    init_database(ctx.engine, ctx.sessions)
    with ctx.sessions() as session, session.begin():
        township = _township(session, args.township)
        try:
            applied = restore_version(
                session, period, township.id, args.version, None, grace_days=ctx.settings.report_grace_days
            )
        except ReportInputError as exc:
            raise InputError(str(exc)) from exc
    print_line(
        f"已恢复{township.name}{period.label}附件2第{args.version}版，作为第{applied.number}版"
        f"（新增{applied.added}条；此前的版本仍保留，可用 history 查看）"
    )
    return 0


def cmd_report_reopen(ctx: Context, args: argparse.Namespace) -> int:
    """Reopen a township's 附件2 quarter that was confirmed with 确认报送, so it can be corrected."""
    period = _quarter(args.quarter)
    init_database(ctx.engine, ctx.sessions)
    with ctx.sessions() as session, session.begin():
        township = _township(session, args.township)
        try:
            reopen_report(session, ReportKind.SALES, period, township.name, None)
        except ReportInputError as exc:
            raise InputError(str(exc)) from exc
    print_line(f"已重新开放{township.name}{period.label}附件2，可重新导入或恢复版本；再次确认报送后重新锁定。")
    return 0


def cmd_report_overdue(ctx: Context, args: argparse.Namespace) -> int:
    """Write the orders delivered `--days` days ago or more and still unpaid, with totals by buyer, lead unit, township."""
    if args.days < 1:
        raise InputError("--days 要是大于0的天数")
    init_database(ctx.engine, ctx.sessions)
    with ctx.sessions() as session:
        orders = overdue_orders(session, utcnow(), args.days)
    out = Path(args.out)
    write_overdue_report(out, orders)
    if orders:
        total = format_yuan(sum(o.amount_fen for o in orders)) + "元"
        print_line(f"送达超过{args.days}天未付款的订单{len(orders)}笔，合计{total}：{out}")
    else:
        print_line(f"没有送达超过{args.days}天未付款的订单（已生成空表：{out}）")
    return 0


def cmd_report_households(ctx: Context, args: argparse.Namespace) -> int:
    """Write what each poor household sold in a year, by quarter, with the villages' and townships' counts."""
    if args.year not in YEARS:
        raise InputError(f"无法识别的年份“{args.year}”，请写成 2019 这样")
    init_database(ctx.engine, ctx.sessions)
    out = Path(args.out)
    with ctx.sessions() as session:
        township = _township(session, args.township) if args.township else None
        report = household_report(session, Period(args.year), township.id if township else None)
    write_household_workbook(report, out)
    print_line(report.figures.summary_line(f"{report.scope}{report.period.label}"))
    listed = len(report.households)
    print_line(f"已生成{report.scope}{report.period.label}贫困户销售情况：{out}（贫困户和合作社共{listed}个）")
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `report sales|purchases|overview|import|history|restore|reopen|overdue|households` to the command line."""
    report = commands.add_parser("report", help="季度报表（附件2、附件3、总体情况）")
    sub = report.add_subparsers(dest="report_command", required=True)
    quarter_help = "季度，如 2019Q3"

    sales = sub.add_parser("sales", help="生成乡镇（街道）贫困户产品销售情况表（附件2）")
    sales.add_argument("--quarter", required=True, help=quarter_help)
    sales.add_argument("--township", help="乡镇（街道），不写则每个有销售的乡镇一个工作表")
    sales.add_argument("-o", "--out", required=True, metavar="OUT.xlsx")
    sales.set_defaults(handler=_guarded(cmd_report_sales))

    purchases = sub.add_parser("purchases", help="生成牵头单位系统（行业）采购情况表（附件3）")
    purchases.add_argument("--quarter", required=True, help=quarter_help)
    purchases.add_argument("--lead-unit", help="牵头单位，如 县教委；不写则每个有采购的牵头单位一个工作表")
    purchases.add_argument("-o", "--out", required=True, metavar="OUT.xlsx")
    purchases.set_defaults(handler=_guarded(cmd_report_purchases))

    summary = sub.add_parser("overview", help="生成季度消费扶贫总体情况（表格和图表）")
    summary.add_argument("--quarter", required=True, help=quarter_help)
    summary.add_argument("-o", "--out", required=True, metavar="DIR", help="输出文件夹")
    summary.set_defaults(handler=_guarded(cmd_report_overview))

    imp = sub.add_parser("import", help="导入乡镇（街道）报送的附件2（.xlsx/.csv）")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--quarter", required=True, help=quarter_help)
    imp.add_argument("--township", help="报送的乡镇（街道），不写则按表中的填报单位")
    imp.set_defaults(handler=_guarded(cmd_report_import))

    history = sub.add_parser("history", help="查看乡镇（街道）附件2的各个版本")
    history.add_argument("--quarter", required=True, help=quarter_help)
    history.add_argument("--township", required=True, help="乡镇（街道）")
    history.set_defaults(handler=_guarded(cmd_report_history))

    restore = sub.add_parser("restore", help="恢复乡镇（街道）附件2的某个历史版本（作为新版本）")
    restore.add_argument("--quarter", required=True, help=quarter_help)
    restore.add_argument("--township", required=True, help="乡镇（街道）")
    restore.add_argument("--version", required=True, type=int, help="要恢复的版本号，见 history")
    restore.set_defaults(handler=_guarded(cmd_report_restore))

    reopen = sub.add_parser("reopen", help="重新开放已确认报送（锁定）的乡镇（街道）附件2")
    reopen.add_argument("--quarter", required=True, help=quarter_help)
    reopen.add_argument("--township", required=True, help="乡镇（街道）")
    reopen.set_defaults(handler=_guarded(cmd_report_reopen))

    overdue = sub.add_parser("overdue", help="生成送达后超期未付款的订单清单（按采购单位、牵头单位、乡镇汇总）")
    overdue.add_argument("--days", type=int, default=30, help="送达后多少天未付款算拖欠，默认30")
    overdue.add_argument("-o", "--out", required=True, metavar="OUT.xlsx")
    overdue.set_defaults(handler=_guarded(cmd_report_overdue))

    register_pairing_report(sub)  # report pairing --year (bot.cli.pairing)

    households = sub.add_parser("households", help="生成贫困户销售情况（各户按季度、各村、各乡镇受益户数）")
    households.add_argument("--year", required=True, type=int, help="年份，如 2019")
    households.add_argument("--township", help="乡镇（街道），不写则全县")
    households.add_argument("-o", "--out", required=True, metavar="OUT.xlsx")
    households.set_defaults(handler=_guarded(cmd_report_households))
