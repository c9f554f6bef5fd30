"""A widget page served from another origin (a customer's site) against `chatsim serve`:
refused without `--allow-origin`, a complete trace with it."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from sim.live.browser import PageRun, ServerThread

pytestmark = [pytest.mark.browser, pytest.mark.live]

# The demo widget's markup, as a customer's page would carry it, with chatsim's scripts.
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>my site</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="{base}/chatsim/assets/chatsim.css">
<script src="{base}/chatsim/recorder.js"></script></head>
<body><main class="widget">
<header><h1>Chat</h1><span id="status" class="badge">connecting</span></header>
<p class="info"><b id="transport"></b> <b id="server"></b> <b id="chat"></b>
<code id="session"></code></p>
<ol id="log" class="log"></ol><ul id="errors" class="errors"></ul>
<form id="compose"><input id="text"><button id="send" type="submit">Send</button>
<button id="end" type="button">End chat</button></form></main>
<script type="module" src="{base}/chatsim/assets/demo.js"></script></body></html>
"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def customer_site(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A plain static web server on another port: another origin, as a customer's site."""
    root = tmp_path / "site"
    root.mkdir()
    handler = functools.partial(QuietHandler, directory=str(root))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
        httpd.shutdown()
        thread.join(10)


@pytest.mark.parametrize("transport", ["long-polling", "websocket"])
def test_a_page_on_another_origin_chats_with_allow_origin(
    chatsim_page_run: Callable[..., PageRun],
    chatsim_serve_factory: Callable[..., ServerThread],
    customer_site: tuple[Path, str],
    transport: str,
) -> None:
    root, origin = customer_site
    server = chatsim_serve_factory(allow_origins=[origin])
    (root / "chat.html").write_text(PAGE.format(base=server.base))
    run = chatsim_page_run(
        f"{origin}/chat.html?transport={transport}&servers={{server}}/cometd",
        server=server,
        faults=[{"at": 0.5, "kind": "outage", "duration": 3.5}],
        steps=[(0.2, "send:hello"), (1.0, "send:during"), (4.5, "send:after")],
        seconds=7,
    )
    assert run.kinds().count("interrupted") == 1
    assert sorted(r.data["id"] for r in run.client("ack")) == sorted(
        r.data["id"] for r in run.server("acked")
    )
    assert len(run.client("ack")) == 3 and run.violations == []
    sent = [r.data["id"] for r in run.client("message") if r.data["direction"] == "out"]
    assert [r.data["id"] for r in run.server("transcript") if "id" in r.data] == sent  # in order


def test_without_allow_origin_the_page_is_refused(
    chatsim_browser: Browser,
    chatsim_serve: ServerThread,
    customer_site: tuple[Path, str],
) -> None:
    root, origin = customer_site
    (root / "chat.html").write_text(PAGE.format(base=chatsim_serve.base))
    page = chatsim_browser.new_context().new_page()
    refused: list[str] = []
    bayeux = chatsim_serve.base + "/cometd"
    page.on("requestfailed", lambda r: refused.append(r.url) if r.url.startswith(bayeux) else None)
    page.goto(f"{origin}/chat.html?transport=long-polling&servers={chatsim_serve.base}/cometd")
    page.wait_for_function("window.chatsim && window.chatsim.seen.interrupted > 0", timeout=10000)
    expect(page.locator("#status")).to_have_text("interrupted")
    assert refused  # the browser refused the answers (403, no CORS headers)
    status = chatsim_serve.request("GET", "/chatsim/status")
    assert status["chats"] == []  # no chat was ever opened
