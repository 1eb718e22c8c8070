"""Importing townships' 附件1 files into the catalogue and exporting the county 供应目录."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, sessionmaker

from fupin.catalog.attachment1 import ATTACHMENT1, COUNTY_CATALOG_TITLE, RowReader
from fupin.catalog.listings import CatalogWriter, ListingDraft, ProductNames, listing_key
from fupin.models import CatalogImport, Household, Listing, Product, SupplyContact, Township, Village
from fupin.outreach.users import Identity
from fupin.parsing import parse_phone
from fupin.places import Gazetteer, Place
from fupin.settings import TIMEZONE
from fupin.spreadsheets.forms import locate_form, write_form
from fupin.spreadsheets.grid import RowIssue, SpreadsheetError
from fupin.values import Quantity, format_yuan, supply_method_labels

logger = logging.getLogger(__name__)


@dataclass
class FileReport:
    """What importing one file did: listings created and updated, rows rejected, or why it was unreadable."""

    file: str
    created: int = 0
    updated: int = 0
    issues: list[RowIssue] = field(default_factory=list)
    error: str | None = None
    applied: bool = False
    # Products this file created, with how many of its rows each one has (for the county to review).
    new_products: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the whole file was read and every row was kept."""
        return self.error is None and not self.issues


@dataclass
class ImportReport:
    """What importing a batch of files did."""

    files: list[FileReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every file and every row was imported."""
        return all(f.ok for f in self.files)

    def lines(self) -> list[str]:
        """The report as Chinese lines for a person."""
        out: list[str] = []
        for report in self.files:
            if report.error:
                out.append(f"✗ {report.error}（未导入任何内容）")
                continue
            kept = "已导入" if report.applied else "未导入（严格模式下整份文件不导入）"
            out.append(
                f"{'✓' if report.ok else '!'} {report.file}：{kept}，新增{report.created}条，"
                f"更新{report.updated}条，拒绝{len(report.issues)}行"
            )
            if report.applied:
                out.extend(f"  新产品：{name}（{count}条）" for name, count in report.new_products.items())
            out.extend(f"  - {issue}" for issue in report.issues)
        return out


def _filled_on(text: str) -> date | None:
    for fmt in ("%Y-%m-%d", "%Y.%m.%d", "%Y/%m/%d", "%Y年%m月%d日"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def import_catalog_file(
    session: Session, path: Path, strict: bool = False, scope: Identity | None = None
) -> FileReport:
    """Import one 附件1 file inside the caller's transaction.

    Good rows are written and bad rows reported; with `strict`, a file with any bad row writes
    nothing. An unreadable file writes nothing and carries the reason in `error`. With `scope` (a
    supply contact sending their file), rows for places the contact does not answer for are rejected.
    """
    report = FileReport(file=path.name)
    try:
        table = locate_form(path, ATTACHMENT1)
    except SpreadsheetError as exc:
        report.error = str(exc)
        return report
    if "region" not in table.columns and "township" not in table.columns:
        report.error = f"{path.name}：表头缺少列“地区”"
        return report
    gazetteer = Gazetteer.load(session)
    unit_name = table.meta.get("填写单位", "")
    reader = RowReader(table, gazetteer, gazetteer.township_named(unit_name) if unit_name else None)
    names = ProductNames.load(session)
    drafts: list[ListingDraft] = []
    seen: dict[str, int] = {}
    for row, record in table.rows:
        result = reader.read(row, record)
        if isinstance(result, list):
            report.issues.extend(result)
            continue
        if scope is not None and not scope.may_manage_place(result.place.township.id, _village_id(result.place)):
            report.issues.append(RowIssue(path.name, row, "", f"“{result.place.label}”不在您负责的范围内，未导入"))
            continue
        product, variety = names.resolve(result.product_name, result.variety)
        result = replace(result, product_name=product, variety=variety)
        key = listing_key(result.place, result.household.name if result.household else "", product, variety)
        if key in seen:
            report.issues.append(RowIssue(path.name, row, "", f"与第{seen[key]}行重复（同一地区、贫困户、产品品种）"))
            continue
        seen[key] = row
        drafts.append(result)
    if strict and report.issues:
        return report
    new = Counter(d.product_name for d in drafts if not names.is_known(d.product_name))
    report.new_products = dict(sorted(new.items()))
    catalog_import = CatalogImport(
        file_name=path.name,
        filled_by_unit=unit_name[:100],
        filled_by=table.meta.get("填写人", "")[:50],
        filler_phone=parse_phone(table.meta.get("联系电话", "")) or "",
        filled_on=_filled_on(table.meta.get("填写日期", "")),
        rows_imported=len(drafts),
        rows_rejected=len(report.issues),
    )
    session.add(catalog_import)
    session.flush()  # the stock ledger's moves name the import they come from
    writer = CatalogWriter(session, import_id=catalog_import.id, user_id=scope.user_id if scope is not None else None)
    written = writer.write_all(drafts)
    report.created, report.updated = written.created, written.updated
    report.applied = True
    return report


def _village_id(place: Place) -> int | None:
    return place.village.id if place.village is not None else None


def import_catalog_files(
    session_factory: sessionmaker[Session],
    paths: Iterable[Path],
    strict: bool = False,
    scope: Identity | None = None,
) -> ImportReport:
    """Import each file in a transaction of its own, so one bad file never undoes another."""
    report = ImportReport()
    for path in paths:
        with session_factory() as session, session.begin():
            file_report = import_catalog_file(session, path, strict=strict, scope=scope)
            if not file_report.applied:
                session.rollback()
        logger.info(
            "imported %s: created=%d updated=%d rejected=%d new_products=%s error=%s",
            path.name, file_report.created, file_report.updated, len(file_report.issues),
            ",".join(file_report.new_products), file_report.error,
        )  # fmt: skip
        report.files.append(file_report)
    return report


def _household_cell(household: Household | None) -> str:
    if household is None:
        return ""
    if household.is_cooperative and household.poor_households:
        return f"{household.name}（涉及贫困户{household.poor_households}户）"
    return household.name


def export_catalog(session: Session, path: Path) -> int:
    """Write every active listing as the county 供应目录 (附件1's columns plus township); returns the count."""
    village = aliased(Village)
    rows = session.execute(
        select(Listing, Township, village, Product, Household, SupplyContact)
        .join(Township, Listing.township_id == Township.id)
        .join(Product, Listing.product_id == Product.id)
        .outerjoin(village, Listing.village_id == village.id)
        .outerjoin(Household, Listing.household_id == Household.id)
        .outerjoin(SupplyContact, Listing.contact_id == SupplyContact.id)
        .where(Listing.active.is_(True))
        .order_by(Township.code, village.code, Product.name, Listing.id)
    ).all()
    table = []
    for number, (listing, township, vil, product, household, contact) in enumerate(rows, start=1):
        region = "云阳县" + township.name + (vil.short_name if vil else "")
        table.append(
            [
                number,
                township.name,
                region,
                _household_cell(household),
                product.name,
                listing.variety,
                str(Quantity(listing.planned_quantity, listing.unit)),
                str(Quantity(listing.remaining_quantity, listing.unit)),
                f"{format_yuan(listing.price_fen)}元/{listing.unit}",
                "、".join(supply_method_labels(listing.supply_methods)),
                listing.shop_url,
                f"{contact.name} {contact.phone}" if contact else "",
                listing.remarks,
            ]
        )
    today = datetime.now(TIMEZONE).date().isoformat()
    write_form(
        path,
        ATTACHMENT1,
        {"填写单位": "云阳县农业农村委", "填写日期": today},
        table,
        title=COUNTY_CATALOG_TITLE,
    )
    return len(table)
