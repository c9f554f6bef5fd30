"""pytest fixtures for testing a browser widget in real Chromium (re-exported by the plugin).

    def test_outage(chatsim_page_run):
        run = chatsim_page_run(faults=[{"at": 1, "kind": "outage", "duration": 5}],
                               steps=[(0.5, "send"), (8, "send")], seconds=10)
        assert run.kinds().count("interrupted") == 1
        assert run.violations == []

    def test_my_widget(chatsim_page_run):
        run = chatsim_page_run("http://localhost:3000/chat.html?server={server}")

`chatsim_browser` is the system Chromium under Playwright (one per test);
`chatsim_serve` starts `chatsim serve` in a thread (one instance, traces in
the test's tmp_path); `chatsim_serve_factory(**options)` starts others;
`chatsim_page_run(url=None, *, server=None, **run_page_options)` opens the
page (default: the demo widget), schedules faults through the fault API and
returns the session's `PageRun` (`sim.live.browser`). Tests using them are plain
synchronous tests. Without Chromium or Playwright they skip, saying why
(under CI=true they fail instead).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sim.live.browser import PageRun, ServerThread, chromium_path, launch_chromium, run_page

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def chatsim_browser() -> Iterator[Browser]:
    """The system Chromium driven by Playwright (sync API), for one test.

    Not shared between tests: while Playwright's sync API is started, the thread
    counts as running an event loop, and asyncio tests after it could not run."""
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 (optional dependency)
    except ImportError:
        _unavailable("playwright is not installed (pip install 'chatsim[test]')")
    if chromium_path() is None:
        _unavailable("no chromium on PATH (Debian: apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def chatsim_serve_factory(tmp_path: Path) -> Iterator[Callable[..., ServerThread]]:
    """Start `chatsim serve` in threads: `factory(instances=2, ...)`; traces go to
    tmp_path/traces unless `trace_dir` is given. All are stopped after the test."""
    with contextlib.ExitStack() as stack:

        def factory(**options: Any) -> ServerThread:
            options.setdefault("trace_dir", tmp_path / "traces")
            return stack.enter_context(ServerThread(**options))

        yield factory


@pytest.fixture
def chatsim_serve(chatsim_serve_factory: Callable[..., ServerThread]) -> ServerThread:
    """One `chatsim serve` (one instance) with --trace in the test's tmp_path."""
    return chatsim_serve_factory()


@pytest.fixture
def chatsim_page_run(
    chatsim_browser: Browser,
    chatsim_serve_factory: Callable[..., ServerThread],
) -> Iterator[Callable[..., PageRun]]:
    """`run(url=None, *, server=None, query=, faults=, steps=, seconds=)` -> PageRun.

    Each run has a browser context of its own (fresh sessionStorage); without
    `server` a one-instance server is started for the test."""
    contexts = []
    default: list[ServerThread] = []

    def run(
        url: str | None = None, *, server: ServerThread | None = None, **options: Any
    ) -> PageRun:
        if server is None:
            if not default:
                default.append(chatsim_serve_factory())
            server = default[0]
        context = chatsim_browser.new_context()
        contexts.append(context)
        return run_page(chatsim_browser, server, url, page=context.new_page(), **options)

    yield run
    for context in contexts:
        context.close()


__all__ = ["chatsim_browser", "chatsim_page_run", "chatsim_serve", "chatsim_serve_factory"]
