"""Drive a real browser page against `chatsim serve` and get its session's trace.

For users' tests (the pytest fixtures in `sim.live.widget_fixtures` wrap this)
and for ours. Plain synchronous code on Playwright's sync API: the live server
runs in a thread of its own (`ServerThread`), faults are scheduled through its
HTTP fault API, the page reports its events through the recorder script, and
`run_page` returns the session's trace as the server wrote it.

    with ServerThread(instances=2) as srv, sync_playwright() as pw:
        browser = launch_chromium(pw)
        run = run_page(browser, srv, query="transport=long-polling",
                       faults=[{"at": 2, "kind": "outage", "duration": 5}],
                       steps=[(1, "send"), (9, "send")], seconds=12)
        assert run.kinds().count("interrupted") == 1 and run.verdict.ok
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.live.runner import RunningServer, live_server
from statecharts.errors import UsageError
from statecharts.judge.live import check_live
from statecharts.judge.verdict import Verdict, Violation
from statecharts.trace import Trace, TraceRecord, parse_trace

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# A step: at `t` seconds after the page is ready, "send" (the demo widget's form),
# "send:<text>", "reload", or any callable taking the Playwright page.
Step = tuple[float, "str | Callable[[Page], None]"]


def chromium_path() -> str | None:
    """The browser to drive: $CHATSIM_CHROMIUM, else `chromium` (or `chromium-browser`) on PATH."""
    return (
        os.environ.get("CHATSIM_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


def launch_chromium(playwright: Playwright, *, headless: bool = True) -> Browser:
    """The system Chromium (never a downloaded one), headless, with quiet flags."""
    path = chromium_path()
    if path is None:
        raise UsageError(
            "no chromium on PATH: install it (Debian: apt-get install chromium) "
            "or set CHATSIM_CHROMIUM to its path"
        )
    return playwright.chromium.launch(
        executable_path=path,
        args=list(CHROMIUM_ARGS),
        headless=headless,
    )


class ServerThread:
    """`live_server(**options)` running in a background thread with its own event loop."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self.running: RunningServer | None = None

    def __enter__(self) -> ServerThread:
        self._thread = threading.Thread(target=self._run, name="chatsim-serve", daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise UsageError("chatsim serve did not start within 30 s")
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(30)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            async with live_server(**self._options) as running:
                self.running = running
                self._ready.set()
                await self._stop.wait()
        except Exception as exc:  # handed to the thread that waits in __enter__
            self._error = exc
            self._ready.set()

    @property
    def base(self) -> str:
        assert self.running is not None, "use ServerThread in a with block"
        return self.running.base

    @property
    def trace_dir(self) -> Path | None:
        return self._options.get("trace_dir")

    # -- the HTTP API, as a user's test would use it ---------------------------------------
    def request(self, method: str, path: str, body: object = None) -> Any:
        """A JSON request to the server; returns the decoded JSON reply (raises on HTTP errors)."""
        return json.loads(self._fetch(method, path, body) or "null")

    def _fetch(self, method: str, path: str, body: object = None) -> str:
        headers = {"Content-Type": "application/json"}
        token = self._options.get("token")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=10) as response:
            return str(response.read().decode())

    def add_fault(self, fault: Mapping[str, Any]) -> int:
        """POST /faults; `at` is seconds from now. Returns the fault's id."""
        return int(self.request("POST", "/faults", dict(fault))["id"])

    def clear_faults(self) -> None:
        self.request("DELETE", "/faults")

    def trace_text(self, session: str) -> str:
        return self._fetch("GET", f"/chatsim/trace/{session}")


@dataclass
class PageRun:
    """A page's recorder session: its trace (client lines, server truth, faults) and verdict."""

    session: str
    text: str
    trace: Trace
    path: Path | None
    verdict: Verdict

    @property
    def violations(self) -> list[Violation]:
        """What the live oracle found broken (empty: the session held I1-I7)."""
        return list(self.verdict.violations)

    @property
    def records(self) -> tuple[TraceRecord, ...]:
        return self.trace.records

    def client(self, kind: str | None = None) -> list[TraceRecord]:
        """The page's own lines (of one kind)."""
        return [
            r
            for r in self.records
            if r.src.startswith("client:") and (kind is None or r.kind == kind)
        ]

    def server(self, kind: str | None = None) -> list[TraceRecord]:
        return [
            r
            for r in self.records
            if r.src.startswith("server:") and (kind is None or r.kind == kind)
        ]

    def kinds(self) -> list[str]:
        """The kinds of the page's lines, in order."""
        return [r.kind for r in self.client()]


def judge_trace(trace: Trace) -> Verdict:
    """The live oracle's verdict on a session's trace: the page's events against the
    server's truth (deliveries, acknowledgements) and the faults' wall-clock times."""
    return check_live(trace)


def run_page(
    browser: Browser,
    server: ServerThread,
    url: str | None = None,
    *,
    query: str = "",
    faults: Sequence[Mapping[str, Any]] = (),
    steps: Sequence[Step] = (),
    seconds: float = 5.0,
    ready_timeout: float = 15.0,
    page: Page | None = None,
) -> PageRun:
    """Open `url` (default: the demo widget; `{server}` is replaced by the server's base
    URL), wait until it reports `ready`/`restored`, schedule `faults` (`at`: seconds
    from then) through the fault API, run `steps`, wait `seconds` in all, then return
    the session's trace once the recorder has sent everything."""
    target = (url or "{server}/chatsim/demo").replace("{server}", server.base)
    if query:
        target += ("&" if "?" in target else "?") + query
    page = page or browser.new_page()
    page.goto(target)
    wait_for_event(page, ("ready", "restored"), ready_timeout)
    began = time.monotonic()
    for fault in faults:
        server.add_fault(fault)
    for at, step in sorted(steps, key=lambda s: s[0]):
        _sleep_until(began + at)
        _do(page, step)
    _sleep_until(began + seconds)
    return collect(page, server)


def collect(page: Page, server: ServerThread, timeout: float = 10.0) -> PageRun:
    """The page's session trace, after its recorder has sent everything."""
    session = str(page.evaluate("window.chatsim.session"))
    page.wait_for_function("window.chatsim.pending() === 0", timeout=timeout * 1000)
    text = server.trace_text(session)
    trace = parse_trace(text.splitlines(), source=f"live:{session}")
    path = None if server.trace_dir is None else server.trace_dir / f"{session}.jsonl"
    return PageRun(session, text, trace, path, judge_trace(trace))


def wait_for_event(page: Page, kinds: Sequence[str], timeout: float) -> None:
    """Wait until the page's recorder has recorded one of `kinds`."""
    page.wait_for_function(
        "kinds => window.chatsim && kinds.some(k => (window.chatsim.seen[k] || 0) > 0)",
        arg=list(kinds),
        timeout=timeout * 1000,
    )


def _do(page: Page, step: str | Callable[[Page], None]) -> None:
    if callable(step):
        step(page)
    elif step == "reload":
        page.reload()
        wait_for_event(page, ("ready", "restored", "ended"), 15.0)
    elif step == "send" or step.startswith("send:"):
        text = step.partition(":")[2] or f"message at {time.strftime('%H:%M:%S')}"
        page.fill("#text", text)
        page.click("#send")
    else:
        raise UsageError(f"unknown step {step!r}: expected send, send:<text>, reload or a callable")


def _sleep_until(deadline: float) -> None:
    time.sleep(max(0.0, deadline - time.monotonic()))


__all__ = [
    "CHROMIUM_ARGS",
    "PageRun",
    "ServerThread",
    "chromium_path",
    "collect",
    "judge_trace",
    "launch_chromium",
    "run_page",
    "wait_for_event",
]
