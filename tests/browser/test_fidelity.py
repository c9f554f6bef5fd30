"""The real npm cometd 9 client in Chromium against the live server: what a widget sees.

Pages are tests/browser/page.html, served at the chat server's own origin or at a
second local server (another origin, like a customer's site).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from sim.live.runner import LOOPBACK
from tests.browser.conftest import chatsim_with_pages, foreign_site
from tests.browser.helpers import open_widget, stats, wait_chat

TRANSPORTS = ["websocket", "long-polling"]
MND_MS = 2000  # CometD's maxNetworkDelay on these pages: a timer left pending fires after it


def assert_clean(seen: dict[str, Any], transport: str) -> None:
    """Nothing went wrong: one handshake, no failure, no drop, every message acknowledged."""
    assert seen["failures"] == [] and seen["interrupted"] == 0, seen
    assert seen["handshakes"] == 1 and seen["transports"] == [transport], seen
    assert seen["socketCloses"] == [], seen
    assert seen["sent"] and set(seen["acks"]) == set(seen["sent"]), seen


async def stop_and_settle(pages: list[Page], settle: float) -> None:
    for page in pages:
        await page.evaluate("window.stopped = true")
    await asyncio.sleep(settle)


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_publish_callback_and_remote_call_both_complete(
    browser: Browser,
    transport: str,
) -> None:
    async with chatsim_with_pages() as srv:
        context = await browser.new_context()
        pages = [
            await open_widget(
                context, srv.base, srv.url, transport=transport, mode=mode, every=600, mnd=MND_MS
            )
            for mode in ("remoteCall", "publish")
        ]
        for page in pages:
            await wait_chat(page)
        await asyncio.sleep(2.0)
        await stop_and_settle(pages, MND_MS / 1000 + 1.0)  # past maxNetworkDelay
        by_remote_call, by_publish = [await stats(p) for p in pages]
        await context.close()
    assert_clean(by_remote_call, transport)
    assert_clean(by_publish, transport)
    # requestChat and every sendMessage called their publish callback
    assert by_publish["publishCallbacks"] == 1 + len(by_publish["sent"])


@pytest.mark.asyncio
async def test_fifty_websocket_tabs_chat_for_a_minute_without_a_drop(browser: Browser) -> None:
    """The issue's bar: 50 tabs, 60 s, no fault: no socket drop, no interruption, all acked."""
    tabs, duration = 50, 60.0
    async with chatsim_with_pages() as srv:
        context = await browser.new_context()
        pages = [
            await open_widget(context, srv.base, srv.url, transport="websocket", every=3000)
            for _ in range(tabs)
        ]
        for page in pages:
            await wait_chat(page, timeout=30.0)
        await asyncio.sleep(duration)
        await stop_and_settle(pages, 2.0)
        seen = [await stats(p) for p in pages]
        await context.close()
    latencies = sorted(a["latency"] for s in seen for a in s["acks"].values())
    summary = {
        "tabs": tabs,
        "seconds": duration,
        "drops": sum(len(s["socketCloses"]) for s in seen),
        "interrupted": sum(s["interrupted"] for s in seen),
        "sent": sum(len(s["sent"]) for s in seen),
        "acked": len(latencies),
        "ack_ms_median": latencies[len(latencies) // 2] if latencies else None,
        "ack_ms_max": latencies[-1] if latencies else None,
    }
    print("fifty tabs:", json.dumps(summary))
    for s in seen:
        assert_clean(s, "websocket")
    assert summary["sent"] >= tabs * (duration / 3.0 - 2)


@pytest.mark.asyncio
async def test_long_polling_from_another_origin_works_with_allow_origin(browser: Browser) -> None:
    async with foreign_site() as site, chatsim_with_pages(allow_origins=[site]) as srv:
        context = await browser.new_context()
        page = await open_widget(
            context, site, srv.url, transport="long-polling", mode="publish", every=500, mnd=MND_MS
        )
        await wait_chat(page)
        await asyncio.sleep(1.5)
        await stop_and_settle([page], MND_MS / 1000 + 1.0)
        seen = await stats(page)
        await context.close()
    assert_clean(seen, "long-polling")
    assert seen["publishCallbacks"] == 1 + len(seen["sent"])


@pytest.mark.asyncio
async def test_another_origin_is_refused_clearly_without_allow_origin(
    browser: Browser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="chatsim.live")
    async with foreign_site() as site, chatsim_with_pages() as srv:
        context = await browser.new_context()
        console: list[str] = []
        context.on("console", lambda message: console.append(message.text))
        page = await open_widget(context, site, srv.url, transport="long-polling")
        await asyncio.sleep(2.0)
        seen = await stats(page)
        await context.close()
    assert seen["handshakes"] == 0 and seen["chatId"] is None
    assert any("blocked by CORS policy" in line for line in console), console
    assert f"start it with --allow-origin {site}" in caplog.text


@pytest.mark.asyncio
@pytest.mark.parametrize(("tabs", "where"), [(6, "same-origin"), (10, "another-site")])
async def test_long_polling_tabs_of_one_browser_get_every_message_acknowledged_within_5s(
    browser: Browser,
    tabs: int,
    where: str,
) -> None:
    """One browser: as many held polls as Chromium's 6 connections per host, and more.

    Same-origin tabs share the BAYEUX_BROWSER cookie; a page on another site
    (localhost vs 127.0.0.1) sends no cookie, and is recognised without it."""
    async with foreign_site() as site:
        page_origin = site.replace(LOOPBACK, "localhost")
        async with chatsim_with_pages(allow_origins=[page_origin]) as srv:
            origin = srv.base if where == "same-origin" else page_origin
            context = await browser.new_context()
            pages = [
                await open_widget(context, origin, srv.url, transport="long-polling", every=1500)
                for _ in range(tabs)
            ]
            for page in pages:
                await wait_chat(page, timeout=10.0)
            await asyncio.sleep(8.0)
            await stop_and_settle(pages, 5.0)
            seen = [await stats(p) for p in pages]
            await context.close()
    latencies = [a["latency"] for s in seen for a in s["acks"].values()]
    print(
        f"{tabs} tabs ({where}):",
        json.dumps(
            {
                "sent": sum(len(s["sent"]) for s in seen),
                "acked": len(latencies),
                "ack_ms_max": max(latencies, default=None),
            }
        ),
    )
    for s in seen:
        assert s["failures"] == [] and s["interrupted"] == 0, s
        assert s["sent"] and set(s["acks"]) == set(s["sent"]), s
    assert max(latencies, default=float("inf")) < 5000


@pytest.mark.asyncio
@pytest.mark.parametrize("where", ["same-origin", "another-origin"])
async def test_a_page_loaded_during_an_outage_recovers_with_default_transports(
    browser: Browser,
    where: str,
) -> None:
    async with foreign_site() as site, chatsim_with_pages(allow_origins=[site]) as srv:
        origin = srv.base if where == "same-origin" else site
        srv.faults.add(kind="outage", duration=3.0)
        context = await browser.new_context()
        page = await open_widget(context, origin, srv.url, transport="default", every=500)
        await asyncio.sleep(1.0)
        assert (await stats(page))["chatId"] is None  # still down
        await wait_chat(page, timeout=20.0)
        await asyncio.sleep(1.0)
        await stop_and_settle([page], 1.0)
        seen = await stats(page)
        await context.close()
    assert seen["sent"] and set(seen["acks"]) == set(seen["sent"]), seen
    # CometD gives up WebSocket, then long-polling from another origin, after failures
    # until the next successful handshake: there only callback-polling (JSONP) is left.
    expected = "long-polling" if where == "same-origin" else "callback-polling"
    assert seen["transports"] == [expected], seen


FETCH = """async ([url, init]) => {
  try {
    const response = await fetch(url, init);
    return {status: response.status, body: await response.text()};
  } catch (e) { return {status: 0, body: String(e)}; }
}"""


@pytest.mark.asyncio
async def test_a_foreign_page_cannot_create_faults_without_the_token(browser: Browser) -> None:
    fault = json.dumps({"kind": "latency", "ms": 1})
    as_form = {"method": "POST", "body": fault, "headers": {"Content-Type": "text/plain"}}
    json_headers = {"Content-Type": "application/json"}
    as_json = {"method": "POST", "body": fault, "headers": json_headers}
    with_token = {**as_json, "headers": {**json_headers, "Authorization": "Bearer s3cret"}}
    async with (
        foreign_site() as site,
        chatsim_with_pages(allow_origins=[site]) as locked,
        chatsim_with_pages(allow_origins=[site], token="s3cret") as srv,
    ):
        context = await browser.new_context()
        page = await context.new_page()
        await page.goto(f"{site}/test/page.html")  # the foreign page (no widget started)
        for server in (locked, srv):
            for init in (as_form, as_json):
                await page.evaluate(FETCH, [server.faults_url, init])
        assert locked.faults.list() == [] and srv.faults.list() == []
        allowed = await page.evaluate(FETCH, [srv.faults_url, with_token])
        await context.close()
        assert allowed["status"] == 201, allowed
        assert [f["fault"]["kind"] for f in srv.faults.list()] == ["latency"]
