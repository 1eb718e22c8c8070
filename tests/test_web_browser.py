"""The web console in a real browser: headless Chromium driven by Selenium, against a real server.

Needs Debian's `chromium` and `chromium-driver` (`make test` installs them on Debian through
tools/ensure_chromium.sh); elsewhere these tests are skipped with a message saying so.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from aiohttp import web as aioweb

from fupin.settings import PROJECT_ROOT, Settings
from tests.conftest import Cli, sqlite_copy
from tests.web_data import ADMIN, link_for, seed_console
from web.app import create_app

if TYPE_CHECKING:
    from selenium.webdriver import Chrome

pytestmark = pytest.mark.process
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SCREENSHOTS = PROJECT_ROOT / "results" / "web"
SIZES = {"pc": (1366, 900), "phone": (390, 844)}

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (requirements-dev.txt)")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip(
        "headless Chromium not found: install Debian's chromium and chromium-driver (tools/ensure_chromium.sh)",
        allow_module_level=True,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerThread:
    """The console served by aiohttp in a thread of its own (its own event loop), on a free port."""

    def __init__(self, app: aioweb.Application) -> None:
        self.port = _free_port()
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        runner = aioweb.AppRunner(self._app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(aioweb.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()

    def __enter__(self) -> ServerThread:
        self._thread.start()
        assert self._ready.wait(30), "the console did not start"
        return self

    def __exit__(self, *_exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)


@pytest.fixture
def chrome(tmp_path: Path) -> Iterator[Chrome]:
    """Headless Chromium with downloads going to tmp_path/downloads and the browser's console log kept."""
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    assert CHROMIUM is not None
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=zh-CN"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()


def _check_page(driver: Chrome, name: str) -> None:
    # Each page at a PC's width and a phone's, and nothing wrong in the browser's console.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for size, (width, height) in SIZES.items():
        driver.set_window_size(width, height)
        driver.save_screenshot(str(SCREENSHOTS / f"{name}-{size}.png"))
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], severe
    driver.set_window_size(*SIZES["pc"])


def _click_and_load(driver: Chrome, element: object) -> None:
    # A click that submits a form: wait until the next page has replaced this one.
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    # A mark on this page's window, not an element reference: asking an element that is being torn
    # down whether it is stale can itself fail in Chrome ("Node … does not belong to the document").
    driver.execute_script("window.__leaving = true;")
    element.click()  # type: ignore[attr-defined]

    def arrived(d: Chrome) -> bool:
        return bool(d.execute_script("return !window.__leaving && document.readyState === 'complete';"))

    WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,)).until(arrived)


def _wait_for_file(folder: Path, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.suffix == ".xlsx"]
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no download in {folder}")


def test_the_console_in_a_real_browser(chrome: Chrome, cli: Cli, sqlite_template: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    with sqlite_copy(sqlite_template, tmp_path / "cli.db") as db:
        users = seed_console(db)
        token = link_for(db, users[ADMIN])
        with ServerThread(create_app(Settings(database_url=db.url), db.sessions)) as server:
            base = f"http://127.0.0.1:{server.port}"
            # 1. Sign in with a link.
            chrome.get(f"{base}/login/{token}")
            _check_page(chrome, "login")
            _click_and_load(chrome, chrome.find_element(By.ID, "sign-in"))
            assert chrome.find_element(By.ID, "total-quarter")
            # 2. The overview's total equals the command line's.
            chrome.get(f"{base}/?quarter=2019Q3")
            total = chrome.find_element(By.ID, "total-quarter").text
            printed = cli("report", "overview", "--quarter", "2019Q3", "-o", "ov").stdout
            assert f"全县销售{total}；" in printed and total == "4,980.00元"
            _check_page(chrome, "overview")
            # 3. Search the catalogue for 洋芋 and find 土豆.
            chrome.get(f"{base}/catalog")
            chrome.find_element(By.NAME, "q").send_keys("洋芋")
            _click_and_load(chrome, chrome.find_element(By.ID, "search"))
            products = [e.text for e in chrome.find_elements(By.CSS_SELECTOR, "#listings a.product")]
            assert "土豆" in products
            _check_page(chrome, "catalog")
            _click_and_load(chrome, chrome.find_element(By.CSS_SELECTOR, "#listings a.product"))
            assert "土豆" in chrome.find_element(By.ID, "listing-title").text
            _check_page(chrome, "listing")
            # 4. The order list filtered by township.
            chrome.get(f"{base}/orders")
            Select(chrome.find_element(By.ID, "township")).select_by_value("龙角镇")
            _click_and_load(chrome, chrome.find_element(By.ID, "filter"))
            places = [e.text for e in chrome.find_elements(By.CSS_SELECTOR, "#orders td.place")]
            assert places and all(p.startswith("龙角镇") for p in places)
            _check_page(chrome, "orders")
            # 5. Download 附件2.
            chrome.get(f"{base}/downloads")
            _check_page(chrome, "downloads")
            quarter = chrome.find_element(By.CSS_SELECTOR, "#sales-form input[name=quarter]")
            quarter.clear()
            quarter.send_keys("2019Q3")
            Select(chrome.find_element(By.NAME, "township")).select_by_value("龙角镇")
            chrome.find_element(By.ID, "download-sales").click()
            downloaded = _wait_for_file(tmp_path / "downloads")
            cli("report", "sales", "--quarter", "2019Q3", "--township", "龙角镇", "-o", "a2.xlsx")
            pd.testing.assert_frame_equal(
                pd.read_excel(downloaded, header=None), pd.read_excel(tmp_path / "a2.xlsx", header=None)
            )
            chrome.get(f"{base}/admin")
            _check_page(chrome, "admin")
