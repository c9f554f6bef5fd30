"""The recorder's batches are checked at the boundary; the trace book merges a page's
events with the server's truth and the faults, bounded."""

from __future__ import annotations

from typing import Any

import pytest

from sim.live.recorder import BadEvent, parse_batch
from sim.live.status import build_status
from sim.live.tracebook import SessionRetired, TooManySessions, TraceBook
from statecharts.errors import BadInput
from statecharts.trace import parse_trace

SESSION = "page-0001"


def batch(*events: dict[str, Any], session: str = SESSION, **extra: Any) -> dict[str, Any]:
    return {"session": session, "events": list(events), **extra}


def ev(seq: int, t: float, kind: str, **fields: Any) -> dict[str, Any]:
    return {"seq": seq, "t": t, "kind": kind, **fields}


def test_a_good_batch_becomes_trace_records() -> None:
    parsed = parse_batch(
        batch(
            ev(0, 1.0, "chat", chatId="chat-1"),
            ev(1, 1.0, "ready", chatId="chat-1"),
            ev(2, 2.0, "message", direction="out", id="m1", text="hi"),
            ev(3, 2.1, "ack", id="m1", index=3),
            ev(4, 2.2, "error", code=150),
            settings={"interrupt_after": 5},
        ),
        now=3.0,
    )
    assert parsed.settings == {"interrupt_after": 5}
    assert [e.seq for e in parsed.events] == [0, 1, 2, 3, 4]
    assert parsed.events[0].record.src == f"client:{SESSION}"
    # the trace reader fills in the catalog description, as `chatsim check` would
    assert parsed.events[4].record.data == {
        "code": 150,
        "description": "Network connection interrupted",
    }


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ([], "expected a JSON object"),
        ({"session": "x", "events": []}, "session: expected 8 to 64"),
        ({"session": "../../etc/passwd", "events": []}, "session: expected 8 to 64"),
        (batch(extra=1), "extra: expected only session, events, settings, opened"),
        (batch(opened=-1), "opened: expected seconds since the server started"),
        (batch(ev(0, 1.0, "bogus")), "events[0]: kind: expected one of state, ready"),
        (batch(ev(0, -1.0, "ready")), "events[0]: t: expected seconds since the server started"),
        (batch(ev(0, 1e9, "ready")), "events[0]: t: expected seconds"),
        (batch(ev(-1, 1.0, "ready")), "events[0]: seq: expected a whole number"),
        (
            batch(ev(0, 1.0, "ready"), ev(1, 1.0, "ready", x=1)),
            "events[1]: x: expected only chatId",
        ),
        (batch(ev(0, 1.0, "message", direction="in")), "index: expected the transcript index"),
        (batch(ev(0, 1.0, "message", direction="out")), "id: expected the client message id"),
        (
            batch(ev(0, 1.0, "message", direction="up", index=1)),
            "direction: expected 'in' or 'out'",
        ),
        (batch(ev(0, 1.0, "ack", id="m1", index="3")), "index: expected a whole number"),
        (batch(ev(0, 1.0, "error", code=True)), "code: expected a whole number"),
        (batch(ev(0, 1.0, "continued", duration=-1)), "duration: expected a non-negative number"),
        (batch(ev(0, 1.0, "message", direction="out", id="m", text="x" * 5000)), "text: expected"),
        (batch(*[ev(n, 1.0, "ready") for n in range(201)]), "events: expected a list of at most"),
        (batch(settings={"interrupt_after": 0}), "interrupt_after: expected a number of seconds"),
    ],
)
def test_a_bad_batch_is_refused_with_a_reason(raw: object, reason: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_batch(raw, now=10.0)
    assert reason in str(caught.value)


def test_the_refused_event_is_named_by_its_place() -> None:
    with pytest.raises(BadEvent) as caught:
        parse_batch(batch(ev(0, 1.0, "ready"), ev(1, 1.0, "nope")), now=2.0)
    assert caught.value.index == 1


def book_with_a_chat() -> TraceBook:
    book = TraceBook()
    book.server_event((1.0, "server:i1", "session.start", {"chatId": "chat-1"}))
    book.server_event(
        (1.0, "server:i1", "transcript", {"chatId": "chat-1", "index": 1, "party": "client"})
    )
    book.server_event(
        (1.0, "server:i1", "command", {"chatId": "chat-1", "operation": "requestChat"})
    )
    book.server_event(
        (1.5, "server:i1", "transcript", {"chatId": "chat-9", "index": 1, "party": "client"})
    )
    return book


def test_a_session_trace_holds_its_chats_truth_and_the_faults_in_time_order() -> None:
    book = book_with_a_chat()
    book.fault_started(7, {"kind": "outage", "at": 0.5, "duration": 0.2}, 0.5)
    book.fault_ended(7, 0.7)  # over before the session began: not in its trace
    book.fault_started(8, {"kind": "outage", "at": 2.5, "duration": 5}, 2.5)
    book.fault_started(9, {"kind": "outage", "at": 0.8, "duration": 0.1}, 0.8)
    book.fault_ended(9, 0.9)  # over before the first event, but the page was open: kept
    book.record(
        parse_batch(
            batch(
                ev(0, 1.1, "chat", chatId="chat-1"),
                ev(1, 1.1, "ready"),
                ev(2, 1.2, "message", direction="in", index=1, party="client"),
                ev(3, 5.5, "interrupted"),
                opened=0.85,
            ),
            now=6.0,
        ),
        now=6.0,
    )
    book.server_event((6.0, "server:i1", "session.expire", {"chatId": "chat-1", "reason": "ttl"}))
    book.fault_ended(8, 7.5)
    trace = parse_trace(book.render(SESSION).splitlines())
    assert trace.header is not None and trace.header.extra["tolerance"] == 1.0
    assert [(r.t, r.src.split(":")[0], r.kind) for r in trace.records] == [
        (0.8, "fault", "fault.start"),
        (0.9, "fault", "fault.end"),
        (1.0, "server", "session.start"),
        (1.0, "server", "transcript"),
        (1.1, "client", "chat"),
        (1.1, "client", "ready"),
        (1.2, "client", "message"),
        (2.5, "fault", "fault.start"),
        (5.5, "client", "interrupted"),
        (6.0, "server", "session.end"),
        (7.5, "fault", "fault.end"),
    ]
    assert trace.records[9].data == {"chatId": "chat-1", "reason": "ttl"}
    assert book.take_dirty() == [SESSION] and book.take_dirty() == []


def test_a_batch_sent_again_is_recorded_once() -> None:
    book = TraceBook()
    first = parse_batch(batch(ev(0, 1.0, "ready"), ev(1, 1.1, "interrupted")), now=2.0)
    assert book.record(first, 2.0) == 2
    again = parse_batch(
        batch(ev(1, 1.1, "interrupted"), ev(2, 4.0, "continued", duration=3)), now=5.0
    )
    assert book.record(again, 5.0) == 1
    assert [r.kind for r in book.records(SESSION)] == ["ready", "interrupted", "continued"]


def test_sessions_and_lines_are_bounded() -> None:
    book = TraceBook(max_sessions=2, max_records=3)
    for n in range(2):
        book.record(parse_batch(batch(session=f"session-{n:04}"), now=1.0), 1.0)
    with pytest.raises(TooManySessions):
        book.record(parse_batch(batch(session="session-9999"), now=1.0), 1.0)
    many = parse_batch(batch(*[ev(n, 1.0, "ready") for n in range(5)], session="session-0000"), 1.0)
    book.record(many, 1.0)
    assert len(book.records("session-0000")) == 3
    assert book.header("session-0000").extra["truncated"] is True


def test_the_status_shows_sessions_chats_and_faults() -> None:
    book = book_with_a_chat()
    book.record(
        parse_batch(
            batch(
                ev(0, 1.1, "chat", chatId="chat-1"),
                ev(1, 1.1, "ready"),
                ev(2, 2.0, "message", direction="out", id="m1"),
                ev(3, 3.0, "interrupted"),
            ),
            now=3.0,
        ),
        now=3.0,
    )
    book.server_event((2.0, "server:i1", "acked", {"chatId": "chat-1", "id": "m1", "index": 2}))
    book.server_event(
        (2.5, "server:i2", "session.move", {"chatId": "chat-1", "from": "i1", "to": "i2"})
    )
    book.fault_started(1, {"kind": "outage"}, 2.9)
    book.fault_started(2, {"kind": "latency", "ms": 5}, 2.9)
    book.fault_ended(2, 3.0)
    board = [
        {"id": 1, "active": True, "fault": {"kind": "outage"}},
        {"id": 3, "active": False, "fault": {"kind": "crash", "at": 9.0}},
    ]
    status = build_status(book, 3.5, ["i1", "i2"], board, None)
    (session,) = status["sessions"]
    assert session["state"] == "interrupted" and session["chatId"] == "chat-1"
    assert session["instance"] == "i2" and session["counters"]["message.out"] == 1
    assert [(c["chatId"], c["acks"], c["position"]) for c in status["chats"]] == [
        ("chat-1", 1, 1),
        ("chat-9", 0, 1),
    ]
    assert [(f["id"], f["state"]) for f in status["faults"]] == [
        (3, "scheduled"),
        (1, "active"),
        (2, "ended"),
    ]


def test_a_chat_no_page_named_keeps_only_its_first_lines() -> None:
    book = TraceBook()
    for index in range(1, 101):
        fields = {"chatId": "chat-1", "index": index, "party": "agent"}
        book.server_event((float(index), "server:i1", "transcript", fields))
    book.record(parse_batch(batch(ev(0, 100.0, "chat", chatId="chat-1")), now=100.0), 100.0)
    assert len(book.records(SESSION)) == 65  # 64 kept lines and the page's own
    assert book.header(SESSION).extra["truncated"] is True


def test_at_the_cap_an_idle_session_is_retired_to_make_room() -> None:
    book = TraceBook(max_sessions=1)
    book.record(parse_batch(batch(ev(0, 1.0, "ready"), session="session-a"), now=1.0), 1.0)
    with pytest.raises(TooManySessions):
        book.record(parse_batch(batch(session="session-b"), now=2.0), 2.0)
    book.record(parse_batch(batch(session="session-b"), now=400.0), 400.0)
    assert list(book.sessions) == ["session-b"]
    final = book.take_final()
    assert list(final) == ["session-a"] and '"kind":"ready"' in final["session-a"]
    assert book.take_final() == {}
    with pytest.raises(SessionRetired):
        book.record(parse_batch(batch(session="session-a"), now=401.0), 401.0)
