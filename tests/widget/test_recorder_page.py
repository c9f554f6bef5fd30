"""The recorder script in Chromium: events survive an unreachable server and a reload,
each recorded once, in order."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Route

from sim.live.browser import ServerThread, collect

pytestmark = [pytest.mark.browser, pytest.mark.live]

PAGE = "<!doctype html><title>widget</title><script src='{base}/chatsim/recorder.js'></script>"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def other_origin(tmp_path: Path) -> Iterator[str]:
    """A plain static web server on another port: another origin, as a customer's site."""
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
        httpd.shutdown()
        thread.join(10)


def test_events_are_buffered_retried_and_kept_across_a_reload(
    chatsim_browser: Browser,
    chatsim_serve: ServerThread,
    other_origin: str,
    tmp_path: Path,
) -> None:
    # The page comes from another origin (as a customer's widget would) and includes the recorder.
    (tmp_path / "widget.html").write_text(PAGE.format(base=chatsim_serve.base))
    page = chatsim_browser.new_context().new_page()
    page.goto(other_origin + "/widget.html")
    page.evaluate("chatsim.record('ready')")
    page.wait_for_function("chatsim.pending() === 0")

    def refuse(route: Route) -> None:
        route.abort("connectionrefused")

    page.route("**/chatsim/record", refuse)  # the server is unreachable for a while
    page.evaluate("chatsim.record('interrupted'); chatsim.record('error', {code: 150})")
    page.wait_for_timeout(600)
    assert page.evaluate("chatsim.pending()") > 0
    assert "Failed to fetch" in page.evaluate("chatsim.lastError()")
    page.unroute("**/chatsim/record", refuse)
    page.evaluate("chatsim.record('continued', {duration: 3.5})")
    page.reload()  # what was not sent yet goes with the beacon and again from sessionStorage
    session = page.evaluate("chatsim.session")
    page.evaluate("chatsim.record('ended')")
    run = collect(page, chatsim_serve)
    assert run.session == session
    assert run.kinds() == ["ready", "interrupted", "error", "continued", "ended"]
    times = [r.t for r in run.client()]
    assert times == sorted(times)


def test_a_refused_event_is_dropped_and_the_rest_recorded(
    chatsim_browser: Browser,
    chatsim_serve: ServerThread,
) -> None:
    page = chatsim_browser.new_context().new_page()
    page.goto(
        chatsim_serve.base + "/chatsim/demo?servers=/nowhere/cometd"
    )  # no chat: recorder only
    page.evaluate("chatsim.record('ack', {id: 'm1'}); chatsim.record('ack', {id: 'm1', index: 3})")
    run = collect(page, chatsim_serve)
    assert [r.data for r in run.client("ack")] == [{"id": "m1", "index": 3}]
    assert page.evaluate("chatsim.lastError()") is None  # the good event went through after
