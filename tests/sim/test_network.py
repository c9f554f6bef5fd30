"""The simulated network, driven by tiny echo endpoints: timing, order, every fault kind."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.faults import (
    Blackhole,
    Corrupt,
    CorruptMode,
    Crash,
    Direction,
    Duplicate,
    Fault,
    Latency,
    Loss,
    Outage,
    Reorder,
)
from sim.kernel import Simulation
from sim.network import REORDER_MAX_HOLD, ClientSide, Network, ServerSide
from statecharts.errors import UsageError

L = 0.005  # default one-way latency
RTT = 2 * L


class Client:
    def __init__(self) -> None:
        self.log: list[tuple[Any, ...]] = []

    def connection_made(self, now: float) -> None:
        self.log.append(("made", now))

    def connection_failed(self, now: float, reason: str) -> None:
        self.log.append(("failed", now, reason))

    def connection_closed(self, now: float, reason: str) -> None:
        self.log.append(("closed", now, reason))

    def frame_received(self, text: str, now: float) -> None:
        self.log.append(("frame", now, text))

    def frames(self) -> list[str]:
        return [entry[2] for entry in self.log if entry[0] == "frame"]

    def kinds(self) -> list[str]:
        return [entry[0] for entry in self.log]


class EchoServer:
    """Answers every frame with the same text; can refuse to open."""

    def __init__(self, net: Network, accept: bool = True) -> None:
        self.net = net
        self.accept = accept
        self.log: list[tuple[Any, ...]] = []

    def open(self, conn_id: str, now: float) -> bool:
        self.log.append(("open", now, conn_id))
        return self.accept

    def receive(self, conn_id: str, text: str, now: float) -> None:
        self.log.append(("recv", now, text))
        self.net.server_send(conn_id, text)

    def closed(self, conn_id: str, now: float) -> None:
        self.log.append(("closed", now, conn_id))

    def frames(self) -> list[str]:
        return [entry[2] for entry in self.log if entry[0] == "recv"]


class World:
    def __init__(self, faults: Sequence[Fault] = (), seed: int = 1, clients: int = 1) -> None:
        self.sim = Simulation(seed, "test")
        self.kernel = self.sim.kernel
        self.net = Network(self.kernel, self.sim.tracer, self.sim.streams.get("net"), latency=L)
        self.server = EchoServer(self.net)
        self.clients = {f"c{i}": Client() for i in range(1, clients + 1)}
        server: ServerSide = self.server
        self.net.attach_server("i1", server)
        for name, client in self.clients.items():
            side: ClientSide = client
            self.net.attach_client(name, side)
        for fault in faults:
            self.net.add_fault(fault)

    @property
    def client(self) -> Client:
        return self.clients["c1"]

    def at(self, t: float, fn: Any, *args: Any) -> None:
        self.kernel.call_at(t, fn, *args)

    def open(self, client: str = "c1", t: float = 0.0) -> None:
        self.at(t, self.net.connect, client, "i1")

    def send(self, t: float, text: str, client: str = "c1") -> None:
        self.at(t, self.net.client_send, client, text)

    def run(self, until: float = 10.0) -> None:
        self.kernel.run_until(until)

    def net_records(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [
            {"t": r.t, "kind": r.kind, **r.data}
            for r in self.sim.tracer.records
            if r.src in ("net", "fault") and (kind is None or r.kind == kind)
        ]


def echo_run(faults: Sequence[Fault] = (), frames: int = 10, seed: int = 1) -> World:
    """Open at 0, send frames "0".."n-1" every 0.1 s from t=1."""
    world = World(faults, seed)
    world.open()
    for i in range(frames):
        world.send(1.0 + i * 0.1, str(i))
    world.run(1.0 + frames * 0.1 + 1.0)
    return world


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


# -- latency ------------------------------------------------------------------------------------
def test_latency_adds_to_each_direction() -> None:
    world = World([Latency(at=0.0, duration=None, ms=100.0, direction=Direction.UP)])
    world.open()
    world.send(1.0, "slow")
    world.run()
    assert world.client.log[0] == ("made", pytest.approx(RTT + 0.1))
    assert world.server.log[1][1] == pytest.approx(1.0 + L + 0.1)
    assert world.client.log[1][1] == pytest.approx(1.0 + RTT + 0.1)


def test_jitter_stays_in_bounds_and_never_reorders_a_connection() -> None:
    world = World([Latency(at=0.5, duration=None, ms=10.0, jitter=200.0)])
    world.open()
    for i in range(100):
        world.send(1.0 + i * 0.001, str(i))
    world.run()
    assert world.server.frames() == [str(i) for i in range(100)]
    assert world.client.frames() == [str(i) for i in range(100)]
    first = world.server.log[1][1]
    assert 1.0 + L + 0.010 <= first <= 1.0 + L + 0.210


# -- loss, duplicate, reorder -------------------------------------------------------------------
def test_loss_drops_about_p_of_the_frames() -> None:
    world = echo_run([Loss(at=0.0, p=0.5, direction=Direction.UP)], frames=200)
    received = len(world.server.frames())
    assert 60 < received < 140
    assert world.client.frames() == world.server.frames()  # down untouched
    assert world.net.connection_of("c1").is_open  # type: ignore[union-attr]


def test_loss_direction_down_only() -> None:
    world = echo_run([Loss(at=0.0, p=1.0, direction=Direction.DOWN)], frames=5)
    assert world.server.frames() == ["0", "1", "2", "3", "4"]
    assert world.client.frames() == []
    assert {(r["dir"], r["why"]) for r in world.net_records("drop")} == {("down", "loss")}


def test_duplicate_delivers_frames_twice_in_order() -> None:
    world = echo_run([Duplicate(at=0.0, p=1.0, direction=Direction.UP)], frames=3)
    assert world.server.frames() == ["0", "0", "1", "1", "2", "2"]
    assert world.client.frames() == ["0", "0", "1", "1", "2", "2"]


def test_reorder_lets_a_later_frame_overtake() -> None:
    world = World([Reorder(at=0.0, p=1.0, direction=Direction.UP)])
    world.open()
    for i, text in enumerate("abcd"):
        world.send(1.0 + i * 0.001, text)
    world.run()
    assert world.server.frames() == ["b", "a", "d", "c"]
    assert world.client.frames() == ["b", "a", "d", "c"]  # down keeps the server's order


def test_a_held_frame_is_released_when_nothing_overtakes() -> None:
    world = World([Reorder(at=0.0, p=1.0, direction=Direction.DOWN)])
    world.open()
    world.send(1.0, "alone")
    world.run()
    assert world.client.log[-1] == ("frame", pytest.approx(1.0 + RTT + REORDER_MAX_HOLD), "alone")


# -- corrupt --------------------------------------------------------------------------------------
FRAME = json.dumps([{"channel": "/meta/connect", "successful": True, "id": "7"}])
DELIVERY = json.dumps([{"channel": "/chat/x", "data": {"index": 1}}])


def corrupted(mode: CorruptMode, text: str = FRAME, count: int = 2) -> World:
    world = World([Corrupt(at=0.0, count=count, mode=mode)])
    world.open()
    for i in range(4):
        world.send(1.0 + i * 0.1, text)
    world.run()
    return world


def is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_corrupt_invalid_json_spoils_the_next_count_frames_down() -> None:
    world = corrupted(CorruptMode.INVALID_JSON)
    assert world.server.frames() == [FRAME] * 4  # default direction: down
    frames = world.client.frames()
    assert [is_json(f) for f in frames] == [False, False, True, True]
    assert frames[2:] == [FRAME, FRAME]
    assert [r["mode"] for r in world.net_records("corrupt")] == ["invalid_json"] * 2


@pytest.mark.parametrize("text", [FRAME, DELIVERY, "not json", "{}"])
def test_corrupt_schema_is_valid_json_of_the_wrong_shape(text: str) -> None:
    world = corrupted(CorruptMode.SCHEMA, text, count=1)
    bad = json.loads(world.client.frames()[0])
    if isinstance(bad, list):
        for message in bad:
            assert "channel" not in message or isinstance(message.get("successful"), str)
    else:
        assert "channel" not in bad
    assert world.client.frames()[1] == text


def test_corrupt_schema_keeps_the_channel_when_it_can_spoil_successful() -> None:
    bad = json.loads(corrupted(CorruptMode.SCHEMA).client.frames()[0])
    assert bad == [{"channel": "/meta/connect", "successful": "true", "id": "7"}]


def test_corrupt_truncated_cuts_the_text() -> None:
    frames = corrupted(CorruptMode.TRUNCATED).client.frames()
    assert frames[0] == FRAME[: len(FRAME) // 2]
    assert not is_json(frames[0])
    assert frames[2] == FRAME


def test_the_network_names_each_foreign_frame_it_delivers() -> None:
    # Corrupt frames are foreign (no server sent them); those the fault spared are not.
    foreign: list[tuple[str, float]] = []
    world = World([Corrupt(at=0.0, count=2, mode=CorruptMode.TRUNCATED)])
    world.net.on_foreign = lambda client, now: foreign.append((client, now))
    world.open()
    for i in range(4):
        world.send(1.0 + i * 0.1, FRAME)
    world.run()
    arrivals = [entry[1] for entry in world.client.log if entry[0] == "frame"]
    assert foreign == [("c1", arrivals[0]), ("c1", arrivals[1])]


def test_a_clean_network_delivers_nothing_foreign() -> None:
    foreign: list[tuple[str, float]] = []
    world = World([Duplicate(at=0.0, duration=10.0, p=1.0)])  # through the engine, unchanged
    world.net.on_foreign = lambda client, now: foreign.append((client, now))
    world.open()
    world.send(1.0, FRAME)
    world.send(20.0, FRAME)  # after the fault: the clean path
    world.run(30.0)
    assert len(world.client.frames()) >= 3 and foreign == []


def test_corrupt_up_reaches_the_server_spoiled() -> None:
    world = World([Corrupt(at=0.0, count=1, direction=Direction.UP)])
    world.open()
    world.send(1.0, FRAME)
    world.run()
    assert not is_json(world.server.frames()[0])


def test_corrupt_for_one_client_only() -> None:
    world = World([Corrupt(at=0.0, count=5, client="c2")], clients=2)
    world.open("c1")
    world.open("c2")
    world.send(1.0, FRAME, "c1")
    world.send(1.0, FRAME, "c2")
    world.run()
    assert world.clients["c1"].frames() == [FRAME]
    assert not is_json(world.clients["c2"].frames()[0])


def test_corrupt_waits_for_its_start_time() -> None:
    world = World([Corrupt(at=1.05, count=1)])  # echoes go down at 1.005, 1.105, 1.205
    world.open()
    for i in range(3):
        world.send(1.0 + i * 0.1, FRAME)
    world.run()
    assert [is_json(f) for f in world.client.frames()] == [True, False, True]


# -- determinism ----------------------------------------------------------------------------------
NOISY: tuple[Fault, ...] = (
    Loss(at=0.0, p=0.3),
    Duplicate(at=0.0, p=0.3),
    Reorder(at=0.0, p=0.2),
    Latency(at=0.0, ms=5.0, jitter=20.0),
    Outage(at=5.0, duration=0.5),
)


def noisy_trace(seed: int) -> str:
    world = World(NOISY, seed)
    world.open()
    world.open(t=6.0)
    for i in range(80):
        world.send(1.0 + i * 0.1, str(i))
    world.run(12.0)
    return world.sim.tracer.text()


def test_same_seed_gives_byte_identical_traces() -> None:
    assert noisy_trace(5) == noisy_trace(5)


def test_different_seeds_draw_different_losses_and_duplicates() -> None:
    one, two = noisy_trace(5), noisy_trace(6)
    assert one != two

    def draws(text: str) -> list[str]:
        return [line for line in text.splitlines() if '"kind":"drop"' in line or "dup" in line]

    assert draws(one) != draws(two)


# -- properties ----------------------------------------------------------------------------
def _fault_sets() -> st.SearchStrategy[list[Fault]]:
    window = st.tuples(st.floats(0.0, 3.0), st.floats(0.0, 2.0))
    way = st.sampled_from(list(Direction))
    one = st.one_of(
        st.builds(
            lambda w, d, ms, j: Latency(at=w[0], duration=w[1], direction=d, ms=ms, jitter=j),
            window,
            way,
            st.floats(0.0, 300.0),
            st.floats(0.0, 300.0),
        ),
        st.builds(
            lambda w, d, p: Loss(at=w[0], duration=w[1], direction=d, p=p),
            window,
            way,
            st.floats(0.0, 1.0),
        ),
        st.builds(
            lambda w, d, p: Duplicate(at=w[0], duration=w[1], direction=d, p=p),
            window,
            way,
            st.floats(0.0, 1.0),
        ),
        st.builds(lambda w, d: Blackhole(at=w[0], duration=w[1], direction=d), window, way),
    )
    return st.lists(one, max_size=4)


@settings(max_examples=40, deadline=None)
@given(
    faults=_fault_sets(),
    seed=st.integers(0, 2**32),
    gaps=st.lists(st.integers(0, 50), max_size=30),
)
def test_without_reorder_frames_never_overtake(
    faults: list[Fault], seed: int, gaps: list[int]
) -> None:
    world = World(faults, seed)
    world.open()
    t = 0.5
    for i, gap in enumerate(gaps):
        t += gap / 1000
        world.send(t, str(i))
    world.run(t + 5.0)
    for got in (world.server.frames(), world.client.frames()):
        numbers = [int(text) for text in got]
        assert numbers == sorted(numbers)  # in order; duplicates stay adjacent
    if not any(isinstance(f, Loss | Blackhole) for f in faults):
        assert sorted(set(world.server.frames()), key=int) == [str(i) for i in range(len(gaps))]
