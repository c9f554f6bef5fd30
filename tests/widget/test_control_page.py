"""The control page in Chromium: it shows a demo widget's session live, and a fault
injected and cleared through its form breaks and heals that widget."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from sim.live.browser import ServerThread, wait_for_event

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_inject_and_clear_a_fault_from_the_control_page(
    chatsim_browser: Browser,
    chatsim_serve: ServerThread,
    tmp_path: Path,
) -> None:
    widget = chatsim_browser.new_context().new_page()
    widget.goto(chatsim_serve.base + "/chatsim/demo?transport=long-polling")
    wait_for_event(widget, ["ready"], 15)
    session = widget.evaluate("window.chatsim.session")
    control = chatsim_browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    control.goto(chatsim_serve.base + "/chatsim/")
    row = control.locator(f'#sessions tr[data-session="{session}"]')
    expect(row.locator(".badge")).to_have_text("ready", timeout=5000)
    expect(control.locator("#chats tr[data-chat]")).to_have_count(1)

    control.select_option("#fault-kind", "outage")
    control.fill("#fault-duration", "60")
    control.click("#inject")
    expect(control.locator("#message")).to_contain_text("fault 1 added")
    expect(control.locator('#faults tr[data-fault="1"] .badge')).to_have_text("active")
    expect(widget.locator("#status")).to_have_text("interrupted", timeout=8000)
    expect(row.locator(".badge")).to_have_text("interrupted", timeout=5000)
    control.screenshot(path=str(tmp_path / "control.png"), full_page=True)
    if os.environ.get("CHATSIM_SCREENSHOT"):  # to look at it: CHATSIM_SCREENSHOT=path pytest ...
        control.screenshot(path=os.environ["CHATSIM_SCREENSHOT"], full_page=True)

    control.click('#faults tr[data-fault="1"] button')
    expect(control.locator("#message")).to_contain_text("fault 1 cleared")
    expect(control.locator('#faults tr[data-fault="1"] .badge')).to_have_text("ended")
    expect(widget.locator("#status")).to_have_text("ready", timeout=8000)
    expect(row.locator(".badge")).to_have_text("ready", timeout=5000)
    expect(row.locator("td").nth(9)).to_have_text("1")  # interrupted once

    chat = control.locator("#chats tr[data-chat]")
    chat.locator("input").fill("How can I help?")
    chat.locator("button").click()
    expect(control.locator("#message")).to_contain_text("the agent spoke in chat-1")
    expect(widget.locator("#log li.party-agent").last).to_contain_text("How can I help?")
    expect(chat.locator("td").nth(2)).to_have_text("3")  # the transcript grew

    control.fill("#fault-more", "{not json")
    control.click("#inject")
    expect(control.locator("#message.error")).to_be_visible()
