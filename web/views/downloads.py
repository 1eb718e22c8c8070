"""报表下载: 附件1, 附件2/附件3 of any township or lead unit and quarter, the overview workbook — the CLI's files."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from aiohttp import web as aioweb
from sqlalchemy.orm import Session

from fupin.catalog.files import export_catalog
from fupin.periods import Period
from fupin.places import Gazetteer
from fupin.reporting.form_writers import write_purchases_form, write_sales_form
from fupin.reporting.overview import overview
from fupin.reporting.overview_workbook import write_overview_workbook
from fupin.reporting.quarter import known_lead_units
from fupin.settings import TIMEZONE
from web.context import console_of, in_session, require_admin, user_of
from web.render import render
from web.views.common import quarter_of_request

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UnknownReporter(Exception):
    """A township or lead unit that does not exist; the message is Chinese."""


def _attachment(data: bytes, filename: str) -> aioweb.Response:
    response = aioweb.Response(body=data, content_type=XLSX)
    # RFC 6266: an ASCII fallback and the Chinese name in UTF-8.
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"report.xlsx\"; filename*=UTF-8''{quote(filename)}"
    )
    return response


def catalog_file(session: Session) -> tuple[bytes, str]:
    """附件1 of the whole county, as `catalog export` writes it."""
    name = f"云阳县消费扶贫供应目录_{datetime.now(TIMEZONE):%Y%m%d}.xlsx"
    with tempfile.TemporaryDirectory(prefix="fupin-web-") as folder:
        path = Path(folder) / name
        export_catalog(session, path)
        return path.read_bytes(), name


def sales_file(session: Session, period: Period, township: str) -> tuple[bytes, str]:
    """附件2 of one township (or every township with sales), as `report sales` writes it."""
    township_id = None
    if township:
        entry = Gazetteer.load(session).township_named(township)
        if entry is None:
            raise UnknownReporter(f"云阳县没有叫“{township}”的乡镇（街道）")
        township_id, township = entry.id, entry.name
    name = f"{period.code}附件2_{township or '全县'}.xlsx"
    with tempfile.TemporaryDirectory(prefix="fupin-web-") as folder:
        path = write_sales_form(session, period, township_id, Path(folder) / "out.xlsx")
        return path.read_bytes(), name


def purchases_file(session: Session, period: Period, lead_unit: str) -> tuple[bytes, str]:
    """附件3 of one lead unit (or every lead unit with purchases), as `report purchases` writes it."""
    if lead_unit and lead_unit not in known_lead_units(session):
        raise UnknownReporter(f"未知的牵头单位“{lead_unit}”")
    name = f"{period.code}附件3_{lead_unit or '各牵头单位'}.xlsx"
    with tempfile.TemporaryDirectory(prefix="fupin-web-") as folder:
        path = write_purchases_form(session, period, lead_unit or None, Path(folder) / "out.xlsx")
        return path.read_bytes(), name


def overview_file(session: Session, period: Period, per_member: int) -> tuple[bytes, str]:
    """The quarter's overview workbook, as `report overview` writes it."""
    name = f"{period.code}消费扶贫总体情况.xlsx"
    with tempfile.TemporaryDirectory(prefix="fupin-web-") as folder:
        path = Path(folder) / name
        write_overview_workbook(overview(session, period, union_per_member_fen=per_member), path)
        return path.read_bytes(), name


async def show_downloads(request: aioweb.Request) -> aioweb.Response:
    """GET /downloads: the forms to choose a file."""
    user = user_of(request)
    gazetteer = await in_session(request, Gazetteer.load)
    units = await in_session(request, known_lead_units) if user.is_admin else [user.lead_unit or ""]
    period = quarter_of_request(request)
    return render(request, "downloads.html", townships=gazetteer.townships, lead_units=units, period=period)


async def download_catalog(request: aioweb.Request) -> aioweb.Response:
    """GET /downloads/catalog.xlsx: 附件1 (admins)."""
    require_admin(request)
    return _attachment(*await in_session(request, catalog_file))


async def download_sales(request: aioweb.Request) -> aioweb.Response:
    """GET /downloads/sales.xlsx?quarter=&township=: 附件2 (admins)."""
    require_admin(request)
    period = quarter_of_request(request)
    township = request.query.get("township", "").strip()
    try:
        return _attachment(*await in_session(request, lambda s: sales_file(s, period, township)))
    except UnknownReporter as exc:
        raise aioweb.HTTPNotFound(text=str(exc)) from exc


async def download_purchases(request: aioweb.Request) -> aioweb.Response:
    """GET /downloads/purchases.xlsx?quarter=&lead_unit=: 附件3 (admins any unit; a lead unit its own)."""
    user = user_of(request)
    period = quarter_of_request(request)
    unit = request.query.get("lead_unit", "").strip()
    if not user.is_admin and (not unit or unit != user.lead_unit):
        raise aioweb.HTTPForbidden(text="牵头单位只能下载本系统的附件3。")
    try:
        return _attachment(*await in_session(request, lambda s: purchases_file(s, period, unit)))
    except UnknownReporter as exc:
        raise aioweb.HTTPNotFound(text=str(exc)) from exc


async def download_overview(request: aioweb.Request) -> aioweb.Response:
    """GET /downloads/overview.xlsx?quarter=: the overview workbook (admins)."""
    require_admin(request)
    period = quarter_of_request(request)
    per_member = console_of(request).settings.union_budget_per_member_fen
    return _attachment(*await in_session(request, lambda s: overview_file(s, period, per_member)))


def add_routes(app: aioweb.Application) -> None:
    """The downloads' routes."""
    app.router.add_get("/downloads", show_downloads)
    app.router.add_get("/downloads/catalog.xlsx", download_catalog)
    app.router.add_get("/downloads/sales.xlsx", download_sales)
    app.router.add_get("/downloads/purchases.xlsx", download_purchases)
    app.router.add_get("/downloads/overview.xlsx", download_overview)
