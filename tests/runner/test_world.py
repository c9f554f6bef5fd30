"""The World API that property tests drive: step by step, faults injected on the fly."""

from __future__ import annotations

import pytest

from sim.faults import Outage
from sim.scenario import parse_scenario
from sim.world import World
from statecharts.errors import UsageError

BASE = "name: w\nseed: 3\nduration: 100\ncluster: {instances: 2}\n"


def _world(extra: str = "") -> World:
    return World.build(parse_scenario(BASE + extra, "w.yaml"))


def test_step_send_and_see_the_server_truth() -> None:
    world = _world()
    world.advance(1.0)
    c1 = world.client("c1")
    assert c1.view.state == "ready" and c1.view.chat_id is not None
    msg_id = c1.send("hello")
    world.advance(1.0)
    assert world.now == 2.0
    accepted = world.accepted(c1.view.chat_id)
    mine = [e for e in accepted if e.client_message_id == msg_id]
    assert len(mine) == 1 and mine[0].text == "hello"
    assert c1.view.acked[msg_id] == [mine[0].index]
    assert c1.view.delivered == [e.index for e in accepted]
    assert world.settled()


def test_inject_an_outage_now() -> None:
    world = _world()
    world.run_until(5.0)
    world.inject(Outage(at=world.now, duration=6.0))
    world.run_until(20.0)
    kinds = [(r.t, r.kind) for r in world.records if r.src == "client:c1"]
    assert (8.0, "interrupted") in kinds
    assert any(kind == "continued" for _, kind in kinds)
    assert world.client("c1").view.state == "ready"


def test_reload_and_end_through_the_client_handle() -> None:
    world = _world()
    world.advance(1.0)
    c1 = world.client("c1")
    c1.reload()
    world.advance(1.0)
    assert any(r.kind == "restored" for r in world.records)
    c1.typing()
    c1.end()
    world.advance(1.0)
    assert c1.view.state == "ended" and not c1.view.alive


def test_traffic_and_faults_from_the_scenario() -> None:
    world = _world(
        "traffic: {client_every: 1.0, agent_every: 2.0}\n"
        "faults:\n  - {at: 10, kind: crash, instance: i1, duration: 10}\n"
    )
    world.run_until(30.0)
    assert len(world.client("c1").view.sent) == 30
    starts = [r for r in world.records if r.kind == "fault.start"]
    assert starts[0].data["fault"]["instance"] == "i1"
    assert any(r.kind == "restored" and r.data["instance"] == "i2" for r in world.records)


def test_unknown_client_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no client 'zed'"):
        _world().client("zed")
