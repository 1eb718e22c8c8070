"""Jinja2 templates: the environment with the console's filters, and rendering a page for a request."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web as aioweb
from jinja2 import Environment, FileSystemLoader, select_autoescape

from fupin.reporting.formatting import local_minute, target_wan, yuan
from fupin.reporting.sales import percent, wan
from web.context import USER_KEY, console_of

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _share(value: Decimal | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _moment(value: datetime | None) -> str:
    return "" if value is None else local_minute(value)


def make_templates() -> Environment:
    """The template environment (autoescaped) with the money, share and time filters."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters.update(yuan=yuan, wan=wan, target_wan=target_wan, share=_share, moment=_moment)
    env.globals["percent"] = percent
    return env


def render(request: aioweb.Request, template: str, status: int = 200, **context: Any) -> aioweb.Response:
    """A page: the template with the signed-in user and the current path."""
    user = request.get(USER_KEY)
    html = console_of(request).templates.get_template(template).render(user=user, path=request.path, **context)
    return aioweb.Response(text=html, content_type="text/html", charset="utf-8", status=status)
