"""Serving the console: alone (`python -m bot web`) or beside the Telegram bot in its event loop."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web as aioweb
from sqlalchemy.orm import Session, sessionmaker

from fupin.catalog.search import CatalogSearch
from fupin.settings import DEFAULT_WEB_PORT, Settings
from web.app import create_app

logger = logging.getLogger(__name__)


async def start_web(
    settings: Settings, sessions: sessionmaker[Session], search: CatalogSearch | None = None, port: int | None = None
) -> aioweb.AppRunner:
    """Start serving on WEB_LISTEN:port in the running loop; the caller stops it with `runner.cleanup()`."""
    runner = aioweb.AppRunner(create_app(settings, sessions, search), access_log=None)
    await runner.setup()
    port = port or settings.web_port or DEFAULT_WEB_PORT
    await aioweb.TCPSite(runner, settings.web_listen, port).start()
    logger.info("web console on http://%s:%d", settings.web_listen, port)
    return runner


def serve(settings: Settings, sessions: sessionmaker[Session], port: int | None = None) -> None:
    """Serve the console until Ctrl-C or SIGTERM."""

    async def main() -> None:
        runner = await start_web(settings, sessions, port=port)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        logger.info("web console stopped")
