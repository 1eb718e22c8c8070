"""总览: the quarter and the year so far against the plan, by channel and township, who reported, reminders sent."""

from __future__ import annotations

import base64
import tempfile
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

from aiohttp import web as aioweb
from sqlalchemy.orm import Session

from fupin.console.reminders import SentReminder, sent_reminders
from fupin.periods import Period
from fupin.reporting.overview import Overview, overview
from fupin.reporting.overview_workbook import draw_overview_charts
from fupin.settings import TIMEZONE
from web.context import console_of, in_session, user_of
from web.render import render
from web.views.common import quarter_of_request


@dataclass(frozen=True)
class OverviewPage:
    """What the page shows: the overview, its charts as data: URIs, the reminders sent in the quarter."""

    view: Overview
    charts: list[str]
    reminders: list[SentReminder]


def _svg_uri(path: Path) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def overview_page(session: Session, period: Period, per_member: int) -> OverviewPage:
    """The overview of a quarter with the same charts the CLI draws, as SVG."""
    view = overview(session, period, union_per_member_fen=per_member)
    with tempfile.TemporaryDirectory(prefix="fupin-web-") as folder:
        charts = [_svg_uri(path) for path in draw_overview_charts(view, Path(folder), ".svg")]
    reminders = sent_reminders(session, datetime.combine(period.start, time(0), TIMEZONE))
    return OverviewPage(view, charts, reminders)


async def show_overview(request: aioweb.Request) -> aioweb.Response:
    """GET /: the overview for admins (a lead unit goes to its orders)."""
    if not user_of(request).is_admin:
        raise aioweb.HTTPFound("/orders")
    period = quarter_of_request(request)
    per_member = console_of(request).settings.union_budget_per_member_fen
    page = await in_session(request, lambda s: overview_page(s, period, per_member))
    return render(request, "overview.html", page=page, period=period)


def add_routes(app: aioweb.Application) -> None:
    """The overview's route."""
    app.router.add_get("/", show_overview)
