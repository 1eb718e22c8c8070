"""The console's aiohttp Application, built from the settings and the caller's session factory."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web as aioweb
from sqlalchemy.orm import Session, sessionmaker

from fupin.catalog.search import CatalogSearch
from fupin.settings import Settings
from web import auth
from web.context import CONSOLE, Console
from web.render import make_templates
from web.views import admin, catalog, downloads, orders, overview

STATIC = Path(__file__).resolve().parent / "static"


def create_app(
    settings: Settings, sessions: sessionmaker[Session], search: CatalogSearch | None = None
) -> aioweb.Application:
    """The console application; `search` is the bot's CatalogSearch when it runs in the bot's process."""
    app = aioweb.Application(middlewares=[auth.security_headers, auth.authenticate], client_max_size=1024**2)
    app[CONSOLE] = Console(settings, sessions, search or CatalogSearch(sessions), make_templates())
    auth.add_routes(app)
    for views in (overview, catalog, orders, downloads, admin):
        views.add_routes(app)
    app.router.add_static("/static/", STATIC)
    font = chinese_font()
    if font is not None:
        # The charts' Noto Sans SC, for a machine without a Chinese font; browsers fetch it only when they need it.
        app.router.add_static("/static-font/", font.parent, append_version=False)
    return app


def chinese_font() -> Path | None:
    """The packaged Chinese font (pylopdf-fonts-zh-cn, SIL OFL) the charts use, if installed."""
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        return None
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    return path if path.is_file() else None
