"""The demo widget (real CometD 9 in Chromium) against `chatsim serve --trace`: each run's
trace holds the page's events beside the server's truth, and they agree."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser

from sim.live.browser import PageRun, ServerThread, collect, wait_for_event

pytestmark = [pytest.mark.browser, pytest.mark.live]

Run = Callable[..., PageRun]


def indexes_in(run: PageRun) -> list[int]:
    return [int(r.data["index"]) for r in run.client("message") if r.data["direction"] == "in"]


def assert_agrees_with_server(run: PageRun) -> None:
    """Every accepted transcript event reached the page once and in order; every message
    the page sent was acknowledged once, at the index the server gave it."""
    truth = sorted({int(r.data["index"]) for r in run.server("transcript")})
    assert indexes_in(run) == truth
    sent = [r.data["id"] for r in run.client("message") if r.data["direction"] == "out"]
    acks = {r.data["id"]: r.data["index"] for r in run.client("ack")}
    assert sorted(acks) == sorted(sent) and len(run.client("ack")) == len(sent)
    server_acks = {r.data["id"]: r.data["index"] for r in run.server("acked")}
    assert acks == server_acks
    accepted = [r.data["id"] for r in run.server("transcript") if "id" in r.data]
    assert accepted == sent  # the page's messages went out in the order it sent them
    assert run.violations == []


@pytest.mark.parametrize("transport", ["websocket", "long-polling"])
def test_a_chat_records_a_complete_trace(chatsim_page_run: Run, transport: str) -> None:
    run = chatsim_page_run(
        query=f"transport={transport}",
        steps=[(0.2, "send:hello"), (0.6, "send:again")],
        seconds=1.5,
    )
    assert run.kinds()[:2] == ["chat", "ready"]
    assert [r.data.get("text") for r in run.client("message") if r.data["direction"] == "out"] == [
        "hello",
        "again",
    ]
    assert_agrees_with_server(run)
    header = run.trace.header
    assert header is not None and header.scenario == f"live:{run.session}"
    assert header.extra["clock"] == "wall" and header.extra["interrupt_after"] == 3.0
    assert run.path is not None and run.path.read_text() == run.text  # the file, as served


def test_an_outage_interrupts_once_and_nothing_is_lost(chatsim_page_run: Run) -> None:
    run = chatsim_page_run(
        query="transport=long-polling",
        faults=[{"at": 0.5, "kind": "outage", "duration": 4.5}],
        steps=[(0.2, "send:before"), (1.5, "send:during"), (6.5, "send:after")],
        seconds=7.5,
    )
    kinds = run.kinds()
    assert kinds.count("interrupted") == 1 and kinds.count("continued") == 1
    assert [r.data["code"] for r in run.client("error")] == [150]
    (start,) = [r.t for r in run.records if r.kind == "fault.start"]
    (told,) = [r.t for r in run.client("interrupted")]
    assert 3.0 <= told - start < 4.5
    assert_agrees_with_server(run)


def test_a_crash_fails_over_to_the_other_instance(
    chatsim_page_run: Run,
    chatsim_serve_factory: Callable[..., ServerThread],
) -> None:
    server = chatsim_serve_factory(instances=2)
    run = chatsim_page_run(
        server=server,
        query="servers=/i1/cometd,/i2/cometd",
        faults=[{"at": 0.5, "kind": "crash", "instance": "i1", "duration": 20}],
        steps=[(0.2, "send:before"), (1.0, "send:during"), (5.0, "send:after")],
        seconds=6.0,
    )
    errors = [r.data for r in run.client("error")]
    assert {
        "code": 100,
        "description": "Chat Server is not available",
        "data": {"from": "i1", "to": "i2"},
    } in errors
    (restored,) = run.client("restored")
    assert restored.data["instance"] == "i2"
    assert [r.data["to"] for r in run.server("session.move")] == ["i2"]
    assert_agrees_with_server(run)


def test_an_expired_session_fails_restoration(chatsim_page_run: Run) -> None:
    run = chatsim_page_run(
        faults=[{"at": 0.3, "kind": "expire"}],
        steps=[(0.1, "send:hi")],
        seconds=2.0,
    )
    assert [r.data["code"] for r in run.client("error")] == [152]
    assert run.kinds()[-1] == "ended"
    assert [r.data["reason"] for r in run.server("session.end")] == ["fault"]
    assert run.violations == []


def test_a_reload_restores_from_the_saved_position(chatsim_page_run: Run) -> None:
    run = chatsim_page_run(
        query="transport=long-polling",
        steps=[(0.2, "send:one"), (0.8, "reload"), (1.2, "send:two")],
        seconds=2.5,
    )
    (restored,) = run.client("restored")
    assert restored.data["replayed"] == 0 and restored.data["position"] == 3
    assert run.kinds().count("ready") == 1  # one login: the reload restored the same chat
    assert_agrees_with_server(run)


def test_a_page_opened_during_an_outage_starts_when_it_ends(
    chatsim_browser: Browser,
    chatsim_serve: ServerThread,
) -> None:
    # CometD gives a WebSocket that never opened up for good; the widget starts it again.
    chatsim_serve.add_fault({"kind": "outage", "duration": 5})
    page = chatsim_browser.new_context().new_page()
    page.goto(chatsim_serve.base + "/chatsim/demo?transport=websocket")
    wait_for_event(page, ["ready"], 20)
    run = collect(page, chatsim_serve)
    kinds = run.kinds()
    start = kinds.index("chat")
    assert kinds[start : start + 2] == ["chat", "ready"]
    # nothing worked before the outage ended: at most one interruption, all of it before the chat
    assert kinds[:start] in (["interrupted", "error", "continued"], [])
    assert run.violations == []


def test_a_rate_limited_message_over_long_polling_is_sent_again(chatsim_page_run: Run) -> None:
    # Over long-polling the refusal is an HTTP 429 (+ Retry-After): CometD fails the
    # publish without an answer, and the widget sends the message again shortly.
    run = chatsim_page_run(
        query="transport=long-polling",
        faults=[{"at": 0.3, "kind": "rate_limit", "count": 1, "retry_after": 1}],
        steps=[(0.5, "send:held back")],
        seconds=3.0,
    )
    assert [r.data.get("text") for r in run.client("message") if r.data["direction"] == "out"] == [
        "held back"
    ]
    assert not run.client("send_failed")
    assert_agrees_with_server(run)


def test_a_chat_the_server_ends_after_an_error_ends_in_the_page(chatsim_page_run: Run) -> None:
    run = chatsim_page_run(
        faults=[{"at": 0.3, "kind": "session_end", "code": 52}],
        steps=[(0.5, "send:the last one")],
        seconds=2.0,
    )
    assert [r.data["code"] for r in run.client("error")] == [52, 50]
    assert run.client("error")[1].data["data"]["native"]["type"] == "SessionEnd"
    assert [r.data["code"] for r in run.client("send_failed")] == [52]
    assert [r.data["reason"] for r in run.client("ended")] == ["server"]
    assert [r.data["reason"] for r in run.server("session.end")] == ["server"]
    assert run.violations == []
