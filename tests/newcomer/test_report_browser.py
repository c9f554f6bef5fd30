"""The HTML report as a person sees it: headless Chromium renders it, we measure the page.

The screenshots are kept in the test's temporary folder for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sim.commands.run import report_input
from sim.live.browser import chromium_path, launch_chromium
from sim.report import render_html
from sim.runner import run_scenario
from sim.scenario import load_scenario

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
_BOXES = """() => Array.from(document.querySelectorAll('text.evl')).map(t => {
  const b = t.getBBox(); return {text: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height};
})"""


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    if chromium_path() is None:
        pytest.skip("Debian chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        yield browser.new_page(viewport={"width": 1300, "height": 900})
        browser.close()


def _open(page: Any, example: str, tmp_path: Path) -> Path:
    result = run_scenario(load_scenario(ROOT / "examples" / f"{example}.yaml"))
    html = tmp_path / f"{example}.html"
    html.write_text(render_html(report_input(result)), encoding="utf-8")
    page.goto(html.as_uri())
    shot = tmp_path / f"{example}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    return shot


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"]
        or a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"]
    )  # fmt: skip


@pytest.mark.parametrize("example", ["outage_short_and_long", "failover_crash"])
def test_event_labels_never_overlap_and_every_one_is_shown(
    page: Any, example: str, tmp_path: Path
) -> None:
    _open(page, example, tmp_path)
    boxes = page.evaluate(_BOXES)
    assert boxes and all(b["w"] > 0 and b["h"] > 0 for b in boxes)
    clashes = [
        (a["text"], b["text"])
        for n, a in enumerate(boxes)
        for b in boxes[n + 1 :]
        if _overlap(a, b)
    ]
    assert clashes == []
    if example == "outage_short_and_long":  # both failover notices, the second one too
        assert [b["text"] for b in boxes].count("error 100") == 2


def test_expectations_and_server_lanes_are_shown(page: Any, tmp_path: Path) -> None:
    _open(page, "failover_crash", tmp_path)
    rows = page.locator("table.expect tr").all_inner_texts()
    assert len(rows) == 1 + 4 and all("held" in row for row in rows[1:])
    tips = page.evaluate(
        "() => Array.from(document.querySelectorAll('rect[data-tip]')).map(r => r.dataset.tip)"
    )
    assert "i1 crashed 20-50s" in tips
    assert any(t.startswith("c1 attached to i1 0.02-20s") for t in tips)
    assert any(t.startswith("c1 attached to i2 21.07-") for t in tips)
    crashed = page.locator("rect[data-tip='i1 crashed 20-50s']").bounding_box()
    assert crashed is not None and crashed["width"] > 200  # 30 of 60 s on a 1000 px axis
