"""The simulated network, driven by tiny echo endpoints: connections, outage, blackhole.

Latency, loss, duplicate, reorder, corrupt and determinism: `test_network_faults.py`.
"""

from __future__ import annotations

import pytest

from sim.faults import (
    Blackhole,
    Crash,
    Direction,
    Loss,
    Outage,
)
from statecharts.errors import UsageError
from tests.sim.network_harness import RTT, EchoServer, L, World, echo_run


# -- plain connections ----------------------------------------------------------
def test_opening_takes_one_round_trip() -> None:
    world = World()
    world.open(t=1.0)
    world.run()
    assert world.server.log == [("open", pytest.approx(1.0 + L), "c1/1")]
    assert world.client.log == [("made", pytest.approx(1.0 + RTT))]
    assert world.net.connection_of("c1") is not None


def test_frames_take_the_latency_each_way() -> None:
    world = World()
    world.open()
    world.send(1.0, "hello")
    world.run()
    assert world.server.log[1] == ("recv", pytest.approx(1.0 + L), "hello")
    assert world.client.log[1] == ("frame", pytest.approx(1.0 + RTT), "hello")


def test_refused_open_fails_after_a_round_trip() -> None:
    world = World()
    world.server.accept = False
    world.open(t=2.0)
    world.run()
    assert world.client.log == [("failed", pytest.approx(2.0 + RTT), "refused")]


def test_open_to_an_unknown_instance_fails() -> None:
    world = World()
    world.at(0.0, world.net.connect, "c1", "nowhere")
    world.run()
    assert world.client.log == [("failed", pytest.approx(RTT), "no such instance")]


def test_unknown_client_cannot_connect() -> None:
    world = World()
    with pytest.raises(UsageError, match="no client endpoint"):
        world.net.connect("ghost", "i1")


def test_client_close_reaches_the_server_after_frames_in_flight() -> None:
    world = World()
    world.open()
    world.send(1.0, "last words")
    world.at(1.0, world.net.client_close, "c1", "bye")
    world.run()
    assert [e[0] for e in world.server.log] == ["open", "recv", "closed"]
    assert world.server.log[2][1] == pytest.approx(1.0 + L)
    assert world.client.frames() == []  # the echo found the client gone
    assert world.net.connections == {}


def test_server_close_tells_the_client_after_frames_in_flight() -> None:
    world = World()
    world.open()
    world.at(1.0, world.net.server_send, "c1/1", "goodbye")
    world.at(1.0, world.net.server_close, "c1/1", "shutdown")
    world.run()
    assert world.client.log[1:] == [
        ("frame", pytest.approx(1.0 + L), "goodbye"),
        ("closed", pytest.approx(1.0 + L), "shutdown"),
    ]
    assert [e[0] for e in world.server.log] == ["open"]  # it closed: no callback


def test_crash_drops_every_connection_of_the_instance() -> None:
    world = World(clients=2)
    world.open("c1")
    world.open("c2")
    world.at(1.0, world.net.drop_instance, "i1")
    world.send(2.0, "after", "c1")
    world.run()
    for client in world.clients.values():
        assert client.log[-1] == ("closed", pytest.approx(1.0 + L), "crash")
    assert world.server.frames() == []


def test_a_new_connection_replaces_the_old_one() -> None:
    world = World()
    world.open()
    world.open(t=1.0)
    world.send(2.0, "x")
    world.run()
    # The old connection's close travels ahead of the new one's open.
    assert [e[0] for e in world.server.log] == ["open", "closed", "open", "recv"]
    assert world.client.log[-1][2] == "x"


def test_frames_sent_before_the_connection_is_made_are_dropped() -> None:
    world = World()
    world.open()
    world.send(0.001, "early")
    world.run()
    assert world.server.frames() == []
    assert world.net_records("drop")[0]["why"] == "closed"


class GreetingServer(EchoServer):
    def open(self, conn_id: str, now: float) -> bool:
        self.net.server_send(conn_id, "welcome")  # before the client knows it is open
        return True


def test_a_server_may_write_as_soon_as_it_accepts() -> None:
    world = World()
    world.net.attach_server("i1", GreetingServer(world.net))
    world.open()
    world.run()
    assert world.client.log == [("made", RTT), ("frame", RTT, "welcome")]


def test_sending_without_any_connection_is_a_usage_error() -> None:
    world = World()
    with pytest.raises(UsageError, match="never opened"):
        world.net.client_send("c1", "x")


def test_non_network_faults_are_refused() -> None:
    world = World()
    with pytest.raises(UsageError, match="not a network fault"):
        world.net.add_fault(Crash(at=1.0, duration=1.0, instance="i1"))


# -- outage -----------------------------------------------------------------------------
def test_outage_closes_both_ends_at_once_and_refuses_new_connections() -> None:
    world = World([Outage(at=1.0, duration=2.0)])
    world.open()
    world.open(t=1.5)
    world.open(t=3.0)
    world.send(3.5, "back")
    world.run()
    assert world.client.log == [
        ("made", pytest.approx(RTT)),
        ("closed", 1.0, "outage"),
        ("failed", pytest.approx(1.5 + RTT), "outage"),
        ("made", pytest.approx(3.0 + RTT)),
        ("frame", pytest.approx(3.5 + RTT), "back"),
    ]
    assert ("closed", 1.0, "c1/1") in world.server.log
    faults = world.net_records()
    starts = [r for r in faults if r["kind"].startswith("fault.")]
    assert starts == [
        {"t": 1.0, "kind": "fault.start", "fault": {"kind": "outage", "at": 1.0, "duration": 2.0}},
        {"t": 3.0, "kind": "fault.end", "fault": {"kind": "outage", "at": 1.0, "duration": 2.0}},
    ]


def test_outage_while_opening_fails_the_attempt() -> None:
    world = World([Outage(at=0.007, duration=1.0)])
    world.open()  # accepted by the server at 0.005, confirmation still on the way
    world.run()
    assert world.client.log == [("failed", 0.007, "outage")]
    assert world.server.log == [("open", L, "c1/1"), ("closed", 0.007, "c1/1")]


def test_outage_during_a_pending_refusal_still_reports_a_failure() -> None:
    world = World([Outage(at=0.007, duration=1.0)])
    world.server.accept = False  # refusal on its way back at 0.005..0.010
    world.open()
    world.run()
    assert world.client.log == [("failed", 0.007, "outage")]


def test_add_faults_keeps_the_non_network_ones() -> None:
    world = World()
    crash = Crash(at=1.0, duration=1.0, instance="i1")
    loss = Loss(at=0.0, p=1.0)
    assert world.net.add_faults([loss, crash]) == [crash]
    world.run(0.5)
    assert world.net.active_faults() == [loss]


def test_outage_for_one_client_spares_the_others() -> None:
    world = World([Outage(at=1.0, duration=1.0, client="c2")], clients=2)
    world.open("c1")
    world.open("c2")
    world.send(1.5, "c1 still here", "c1")
    world.run()
    assert world.clients["c1"].kinds() == ["made", "frame"]
    assert world.clients["c2"].kinds() == ["made", "closed"]


# -- blackhole ------------------------------------------------------------------------------
def test_blackhole_holds_frames_and_delivers_them_in_order_when_it_ends() -> None:
    world = echo_run([Blackhole(at=1.25, duration=0.5)])
    assert world.client.frames() == [str(i) for i in range(10)]
    held = [entry[1] for entry in world.client.log if entry[0] == "frame"][3:8]
    assert held == [pytest.approx(1.75 + RTT)] * 5  # sent at 1.3..1.7, all at its end
    assert world.client.kinds().count("closed") == 0
    assert world.net.connection_of("c1").is_open  # type: ignore[union-attr]
    assert world.net_records("drop") == []
    assert {r["why"] for r in world.net_records("hold")} == {"blackhole"}


def test_connections_open_under_a_blackhole_and_frames_arrive_late() -> None:
    world = World([Blackhole(at=0.0, duration=5.0)])
    world.open()
    world.send(1.0, "late")
    world.run()
    assert world.client.log == [("made", RTT), ("frame", pytest.approx(5.0 + RTT), "late")]


def test_what_a_blackhole_held_for_a_closed_connection_is_dropped_at_its_end() -> None:
    world = World([Blackhole(at=0.0, duration=2.0)])
    world.open()
    world.send(1.0, "never")
    world.at(1.5, world.net.client_close, "c1")
    world.run()
    assert world.server.frames() == []
    assert [(r["t"], r["why"]) for r in world.net_records("drop")] == [(2.0, "closed")]


def test_blackhole_down_only_lets_frames_reach_the_server() -> None:
    world = echo_run([Blackhole(at=0.0, duration=None, direction=Direction.DOWN)], frames=3)
    assert world.server.frames() == ["0", "1", "2"]
    assert world.client.frames() == []


def test_fault_for_one_instance_spares_the_others() -> None:
    world = World([Blackhole(at=0.0, duration=None, instance="i2")], clients=2)
    other = EchoServer(world.net)
    world.net.attach_server("i2", other)
    world.open("c1")
    world.at(0.0, world.net.connect, "c2", "i2")
    world.send(1.0, "to i1", "c1")
    world.send(1.0, "to i2", "c2")
    world.run()
    assert world.clients["c1"].frames() == ["to i1"]
    assert world.clients["c2"].frames() == []
    assert other.frames() == []


def test_a_fault_holds_from_at_until_just_before_its_end() -> None:
    world = World([Loss(at=1.0, duration=0.5, p=1.0, direction=Direction.UP)])
    world.open()
    for t in (0.999, 1.0, 1.499, 1.5):
        world.send(t, str(t))
    world.run()
    assert world.server.frames() == ["0.999", "1.5"]
