"""Open widget pages and read what they saw (`window.stats` of tests/browser/page.html)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from playwright.async_api import BrowserContext, Page


async def open_widget(
    context: BrowserContext,
    page_origin: str,
    cometd_url: str,
    **options: Any,
) -> Page:
    """A widget page served at `page_origin` that chats with `cometd_url`."""
    page = await context.new_page()
    query = urlencode({"url": cometd_url, **{k: str(v) for k, v in options.items()}})
    await page.goto(f"{page_origin}/test/page.html?{query}")
    return page


async def wait_chat(page: Page, timeout: float = 10.0) -> None:
    await page.wait_for_function("window.stats && window.stats.chatId", timeout=timeout * 1000)


async def stats(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate("window.stats")
    return result
