"""`python -m bot catalog import|export|summary|search|products|alias`: the county's supply catalogue (附件1)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from bot.cli.context import Commands, Context, print_line
from fupin.catalog.files import export_catalog, import_catalog_files
from fupin.catalog.listings import catalog_summary
from fupin.catalog.search import CatalogSearch
from fupin.catalog.vocabulary import (
    VocabularyError,
    add_product_alias,
    list_products,
    merge_products,
    remove_product_alias,
)
from fupin.values import format_yuan

logger = logging.getLogger(__name__)


def cmd_catalog_import(ctx: Context, args: argparse.Namespace) -> int:
    """Import 附件1 files; exits 1 when any file or row was rejected."""
    report = import_catalog_files(ctx.sessions, [Path(p) for p in args.files], strict=args.strict)
    for line in report.lines():
        print_line(line)
    return 0 if report.ok else 1


def cmd_catalog_export(ctx: Context, args: argparse.Namespace) -> int:
    """Write the county 供应目录 spreadsheet."""
    with ctx.sessions() as session:
        count = export_catalog(session, Path(args.out))
    print_line(f"已导出{count}条目录到 {args.out}")
    return 0


def print_summary(ctx: Context) -> None:
    """Print the catalogue figures, county-wide and by township."""
    with ctx.sessions() as session:
        summary = catalog_summary(session)
    print_line(
        f"供应目录：{summary.listings}条，有货{summary.in_stock}条，产品{summary.products}种，覆盖乡镇{len(summary.townships)}个"
    )
    for township in summary.townships:
        print_line(f"  {township.township}：{township.listings}条（有货{township.in_stock}条）")


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
        print_line(f"目录里没有“{args.product}”")
    if result.unknown_place:
        print_line(f"云阳县没有叫“{args.place}”的乡镇或村")
    for match in result.products:
        if match.how != "exact":
            print_line(f"（按“{match.product}”查找）")
    print_line(f"共{result.total}条")
    for view in result.listings or result.alternatives:
        print_line(
            f"- {view.place} {view.product}{('（' + view.variety + '）') if view.variety else ''}："
            f"剩{view.remaining}，{format_yuan(view.price.fen)}元/{view.price.unit}，"
            f"{'、'.join(view.supply_methods)}；联系人 {view.contact_name} {view.contact_phone}"
        )
    return 0


# Who made a vocabulary change from the command line, in the change log.
CLI_ACTOR = "cli"


def cmd_catalog_products(ctx: Context, _args: argparse.Namespace) -> int:
    """List every product with its aliases and listing count."""
    with ctx.sessions() as session:
        products = list_products(session)
    for product in products:
        aliases = f"（别名：{'、'.join(product.aliases)}）" if product.aliases else ""
        print_line(f"{product.name}{aliases}：{product.listings}条")
    print_line(f"共{len(products)}种产品")
    return 0


def cmd_catalog_merge(ctx: Context, args: argparse.Namespace) -> int:
    """Merge a product into another: listings, orders and sale records follow; the old name becomes an alias."""
    try:
        with ctx.sessions() as session, session.begin():
            merged = merge_products(session, args.source, args.into, CLI_ACTOR, variety=args.variety)
    except VocabularyError as exc:
        print_line(f"合并失败：{exc}")
        return 1
    variety = f"，品种“{merged.variety}”" if merged.variety else ""
    print_line(
        f"已把“{merged.source}”合并到“{merged.target}”{variety}：目录{merged.listings}条、订单{merged.orders}个、"
        f"销售记录{merged.sale_records}条；“{merged.source}”已设为“{merged.target}”的别名"
    )
    return 0


def cmd_catalog_alias_add(ctx: Context, args: argparse.Namespace) -> int:
    """Make a name an alias of a product."""
    try:
        with ctx.sessions() as session, session.begin():
            add_product_alias(session, args.alias, args.product, CLI_ACTOR)
    except VocabularyError as exc:
        print_line(f"添加失败：{exc}")
        return 1
    print_line(f"已把“{args.alias}”设为“{args.product}”的别名")
    return 0


def cmd_catalog_alias_remove(ctx: Context, args: argparse.Namespace) -> int:
    """Remove an alias."""
    try:
        with ctx.sessions() as session, session.begin():
            product = remove_product_alias(session, args.alias, CLI_ACTOR)
    except VocabularyError as exc:
        print_line(f"删除失败：{exc}")
        return 1
    print_line(f"已删除“{product}”的别名“{args.alias}”")
    return 0


def _register_vocabulary(catalog: Commands) -> None:
    products = catalog.add_parser("products", help="产品及别名（列出、合并）")
    products.set_defaults(handler=cmd_catalog_products)
    merge = products.add_subparsers(dest="products_command").add_parser("merge", help="把一个产品合并到另一个产品")
    merge.add_argument("source", metavar="PRODUCT")
    merge.add_argument("--into", required=True, metavar="TARGET")
    merge.add_argument("--variety", help="合并过去的目录条目的品种（默认：名称多出的部分，如 红心）")
    merge.set_defaults(handler=cmd_catalog_merge)
    alias = catalog.add_parser("alias", help="产品别名").add_subparsers(dest="alias_command", required=True)
    add = alias.add_parser("add", help="添加别名：alias add 奇异果 猕猴桃")
    add.add_argument("alias")
    add.add_argument("product")
    add.set_defaults(handler=cmd_catalog_alias_add)
    remove = alias.add_parser("remove", help="删除别名")
    remove.add_argument("alias")
    remove.set_defaults(handler=cmd_catalog_alias_remove)


def register(commands: Commands) -> None:
    """Add `catalog import|export|summary|search|products|alias` to the command line's sub-commands."""
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
    _register_vocabulary(catalog)
