"""Regressions the property machine found: the real client core against the real
server core over the simulated network (`sim.world.World`), judged like a run.
"""

from __future__ import annotations

from sim.faults import (
    Corrupt,
    CorruptMode,
    Crash,
    Direction,
    Loss,
    NotReady,
    Outage,
    Reorder,
)
from sim.runner import drain_limit, judge_invariants
from sim.scenario import parse_scenario
from sim.world import World
from statecharts.trace import TraceRecord, parse_trace

QUIET = """
name: regression
seed: {seed}
duration: {duration}
cluster: {{instances: 2}}
"""


def world(seed: int = 1, duration: float = 1.0) -> World:
    return World.build(parse_scenario(QUIET.format(seed=seed, duration=duration)))


def drain_and_judge(w: World) -> list[TraceRecord]:
    """Drain like the property machine (no waiting for the scenario's end), then judge."""
    w.traffic_until = min(w.traffic_until, w.now)
    assert w.drain(drain_limit(w.scenario))
    trace = parse_trace(w.trace.text().splitlines())
    failures = judge_invariants(w, trace)
    assert failures == [], [f.describe() for f in failures]
    return list(w.records)


def of(records: list[TraceRecord], kind: str) -> list[TraceRecord]:
    return [r for r in records if r.src == "client:c1" and r.kind == kind]


# -- bug 1: a message in flight when the application ends the chat ----------------------
def test_a_message_in_flight_at_end_is_acked_on_the_way_out() -> None:
    w = world()
    w.run_until(0.1)
    client = w.client("c1")
    message_id = client.send("hi")
    client.end()
    assert client.view.state == "ended" and client.view.unresolved() == [message_id]
    assert not w.settled()  # still draining: the ack is on its way
    records = drain_and_judge(w)
    assert [r.data["id"] for r in of(records, "ack")] == [message_id]
    assert of(records, "send_failed") == []


def test_a_message_in_flight_at_end_fails_when_no_ack_comes() -> None:
    w = world()
    w.run_until(0.1)
    client = w.client("c1")
    w.inject(Loss(at=0.1, duration=None, p=1.0))  # nothing gets through
    message_id = client.send("hi")
    client.end()
    records = drain_and_judge(w)
    failed = of(records, "send_failed")
    assert [(r.data["id"], r.data["code"]) for r in failed] == [(message_id, 100)]
    assert failed[0].t <= 0.1 + client.spec.max_network_delay
    assert of(records, "ack") == []


def test_a_corrupt_reply_while_draining_after_end_is_judged_like_any_other() -> None:
    # Found by the fuzz sweep: the ended core still reads (and judges) replies while
    # it drains, so the world must count the corrupt frame it gets then (I4).
    w = world()
    w.run_until(1.0)
    client = w.client("c1")
    w.inject(Corrupt(at=1.0, count=1, mode=CorruptMode.SCHEMA, direction=Direction.DOWN))
    client.end()
    w.advance(1.0)  # nothing of its own to settle: let the drain play out
    records = drain_and_judge(w)
    assert [r.data["code"] for r in of(records, "error")] == [151]
    assert len(client.view.foreign_frames) == 1


# -- bug 2: transcript deliveries that overtake the requestChat result -------------------
def test_deliveries_that_overtake_the_login_result_are_kept() -> None:
    # Not ready at first: the login is retried while a connect is held, so its result
    # and the held connect's reply (indexes 1, 2) leave the server together; the
    # reorder lets the deliveries arrive first, before the client knows its chatId.
    w = world()
    w.inject(NotReady(at=0, duration=0.5))
    w.inject(Reorder(at=0.5, duration=0.05, p=1.0, direction=Direction.DOWN))
    w.run_until(1.0)
    assert any(r.kind == "hold" for r in w.records)
    client = w.client("c1")
    assert client.view.state == "ready" and client.view.delivered == [1, 2]
    client.send("after")
    records = drain_and_judge(w)
    assert client.view.delivered == [1, 2, 3] and len(of(records, "ack")) == 1


def test_property_machine_repro_reorder_outages_not_ready() -> None:
    # The shrunk program: inject reorder, two outages and not_ready at t=0 (seed 1).
    w = world(duration=10_000.0)
    w.inject(Reorder(at=0, duration=2.2, p=0.05))
    w.inject(Outage(at=0, duration=0.1))
    w.inject(Outage(at=0, duration=0.1))
    w.inject(NotReady(at=0, duration=2.1))
    drain_and_judge(w)
    chat_id = w.client("c1").view.chat_id
    assert chat_id is not None
    assert w.client("c1").view.delivered == [e.index for e in w.accepted(chat_id)]


def test_failing_over_before_any_chat_is_silent_and_logs_in_on_the_next_instance() -> None:
    w = world()
    w.inject(Crash(at=0, duration=5.0, instance="i1"))
    records = drain_and_judge(w)
    assert [r for r in of(records, "error") if r.data["code"] == 100] == []
    states = [r.data["to"] for r in of(records, "state")]
    assert "restoring" not in states and states[-1] == "ready"
    assert of(records, "ready")[0].t < 1.0 and w.client("c1").view.delivered == [1, 2]


# -- a lost requestChat reply must not open a second chat --------------------------------
def test_a_retried_login_opens_one_chat() -> None:
    # The requestChat reply (on the wire from t=0.05) is corrupted: the client drops it
    # (151) and logs in again with the same clientRequestId; the server answers with
    # the chat it already opened, and replays its transcript from the start.
    w = world()
    w.inject(Corrupt(at=0.045, count=1, mode=CorruptMode.INVALID_JSON, direction=Direction.DOWN))
    w.run_until(1.0)
    client = w.client("c1")
    records = drain_and_judge(w)
    assert [r.data["code"] for r in of(records, "error")] == [151]
    starts = [r for r in records if r.kind == "session.start"]
    assert len(starts) == 1
    assert client.view.state == "ready" and client.view.delivered[:2] == [1, 2]
    logins = [
        r
        for r in records
        if r.src == "server:i1" and r.kind == "command" and r.data["operation"] == "requestChat"
    ]
    assert [r.data["chatId"] for r in logins] == ["chat-1", "chat-1"]
