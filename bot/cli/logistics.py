"""`python -m bot logistics import`: a carrier's shipment export matched to the orders by tracking number."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from bot.cli.context import Commands, Context, print_line
from fupin.logistics.carrier_import import POST_MAPPING, MappingError, import_carrier_file, load_mapping
from fupin.setup import init_database
from fupin.spreadsheets.grid import SpreadsheetError

logger = logging.getLogger(__name__)


def cmd_logistics_import(ctx: Context, args: argparse.Namespace) -> int:
    """Read a carrier's export and fill the weight, fee and date of the parcels it matches; 1 when nothing was written."""
    init_database(ctx.engine, ctx.sessions)
    try:
        mapping = load_mapping(Path(args.mapping)) if args.mapping else POST_MAPPING
        with ctx.sessions() as session, session.begin():
            # A file with a bad cell writes nothing: the import checks every row before it matches any.
            report = import_carrier_file(session, Path(args.file), mapping)
    except (MappingError, SpreadsheetError) as exc:
        print_line(f"✗ {exc}（未导入任何内容）")
        return 1
    for line in report.lines():
        print_line(line)
    return 0 if report.applied else 1


def register(commands: Commands) -> None:
    """Add `logistics import` to the command line's sub-commands."""
    logistics = commands.add_parser("logistics", help="物流数据：导入快递公司的寄递清单")
    sub = logistics.add_subparsers(dest="logistics_command", required=True)

    imported = sub.add_parser("import", help="导入快递公司的寄递清单（CSV/xlsx），按单号匹配订单")
    imported.add_argument("file", metavar="FILE")
    imported.add_argument(
        "--mapping",
        metavar="MAPPING.yml",
        help="列名对应表（YAML/JSON），默认用中国邮政的列名：邮件号、收寄日期、重量、资费",
    )
    imported.set_defaults(handler=cmd_logistics_import)
