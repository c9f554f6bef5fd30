"""Real Chromium (Debian `chromium`, driven by Playwright) against the live server.

Every test here is marked `browser`. Locally the tests skip, saying why, when
chromium or `tests/interop/node_modules/cometd` is missing; under CI
(`CI=true`) they fail instead, since `.ci/run` installs both.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from playwright.async_api import Browser, async_playwright

from sim.live.browser import CHROMIUM_ARGS as QUIET_CHROMIUM
from sim.live.runner import LOOPBACK, Faults, RunningServer, build_server, instance_names
from tests.unavailable import unavailable

HERE = Path(__file__).parent
COMETD_JS = HERE.parent / "interop" / "node_modules" / "cometd"
PAGE = HERE / "page.html"
CHROMIUM_ARGS = [
    *QUIET_CHROMIUM,
    # Many pages at once: keep each one's timers running as in a visible tab.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent.name == "browser":
            item.add_marker(pytest.mark.browser)


def _require() -> str:
    chromium = shutil.which("chromium")
    missing = [] if chromium else ["chromium on PATH (apt-get install chromium)"]
    if not (COMETD_JS / "cometd.js").is_file():
        missing.append("tests/interop/node_modules/cometd (npm ci --prefix tests/interop)")
    if missing:
        unavailable(f"missing {', '.join(missing)}", what="browser tests")
    assert chromium is not None
    return chromium


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    chromium = _require()
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            yield launched
        finally:
            await launched.close()


def add_test_files(app: web.Application) -> None:
    """The widget page at /test/page.html and the npm cometd library under /cometd-js/."""

    async def page(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(PAGE)

    app.router.add_get("/test/page.html", page)
    app.router.add_static("/cometd-js/", COMETD_JS)


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Run `app` on a free 127.0.0.1 port; yields its origin."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, LOOPBACK, 0)
    try:
        await site.start()
        yield f"http://{LOOPBACK}:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def chatsim_with_pages(instances: int = 1, **options: Any) -> AsyncIterator[RunningServer]:
    """`live_server`, also serving the test page at its own origin (same-origin widgets)."""
    server = build_server(instances, **options)
    app = server.app()
    add_test_files(app)
    async with serving(app) as origin:
        port = int(origin.rsplit(":", 1)[1])
        yield RunningServer(LOOPBACK, port, instance_names(instances), server, Faults(server))


@asynccontextmanager
async def foreign_site() -> AsyncIterator[str]:
    """Another origin (127.0.0.1, another port) serving the same page: a customer's site."""
    app = web.Application()
    add_test_files(app)
    async with serving(app) as origin:
        yield origin
