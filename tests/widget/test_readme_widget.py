"""The README's "Testing your browser widget" steps, as a newcomer takes them."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from sim.live.browser import wait_for_event

pytestmark = [pytest.mark.browser, pytest.mark.live]

ROOT = Path(__file__).resolve().parents[2]
CHATSIM = [sys.executable, "-c", "import sys; from sim.cli import main; sys.exit(main())"]


def section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Testing your browser widget")
    return text[start : text.index("\n## ", start + 1)]


def test_the_readme_pytest_example_passes_as_written(tmp_path: Path) -> None:
    (code,) = re.findall(r"```python\n(.*?)```", section(), re.S)
    (tmp_path / "test_widget.py").write_text(code)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "test_widget.py", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def printed_lines(proc: subprocess.Popen[str]) -> tuple[queue.Queue[str], threading.Thread]:
    """What the process prints, line by line (read in a thread: a test must not hang)."""
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout

    def read() -> None:
        for line in stdout:
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return lines, reader


def test_serve_trace_then_check_as_the_readme_says(
    chatsim_browser: Browser, tmp_path: Path
) -> None:
    assert "./dev serve --trace traces" in section() and "./dev check traces/*.jsonl" in section()
    fault = re.search(r"-d '(\{\"kind\": \"outage\".*?\})'", section())
    assert fault is not None
    traces = tmp_path / "traces"
    proc = subprocess.Popen(
        [*CHATSIM, "serve", "--port", "0", "--trace", str(traces)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines, reader = printed_lines(proc)
    try:
        lines.get(timeout=30)
        printed = lines.get(timeout=30)
        demo = re.search(r"demo widget (\S+)", printed)
        assert demo is not None and f"traces in {traces}/" in printed
        page = chatsim_browser.new_context().new_page()
        page.goto(demo.group(1))
        wait_for_event(page, ["ready"], 15)
        base = demo.group(1).removesuffix("/chatsim/demo")
        request = urllib.request.Request(
            base + "/faults",
            data=fault.group(1).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["fault"]["kind"] == "outage"
        page.fill("#text", "typed meanwhile")
        page.click("#send")
        expect(page.locator("#status")).to_have_text("interrupted", timeout=8000)
        expect(page.locator("#status")).to_have_text("ready", timeout=10000)
        page.reload()
        wait_for_event(page, ["restored"], 15)
        page.wait_for_function("window.chatsim.pending() === 0")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        reader.join(10)
        assert proc.stdout is not None
        proc.stdout.close()
    (trace,) = traces.glob("*.jsonl")
    checked = subprocess.run(
        [*CHATSIM, "check", str(trace)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout
    kinds = [json.loads(line)["kind"] for line in trace.read_text().splitlines()]
    for kind in ["interrupted", "continued", "ack", "restored", "fault.start", "fault.end"]:
        assert kind in kinds
