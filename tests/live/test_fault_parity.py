"""Parity: one fault schedule through the simulated network and the live fault path.

The same frame stream (frames both ways every 20 ms) and the same seeded
generator go through `sim.network.Network` (virtual time, latency 0 to match
a local socket) and through the live server's `FaultBoard` + `FaultPath` on a
hand-run clock; what each side delivers, when and as what, must be the same,
frame for frame, for every fault kind that acts on frames or connections.
(Opening a connection under `latency` is not compared: the simulated network
delays the handshake, a live server cannot delay the client's TCP handshake.)
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from sim.fault_engine import Link
from sim.faults import (
    Blackhole,
    Corrupt,
    CorruptMode,
    Direction,
    Duplicate,
    Fault,
    Latency,
    Loss,
    Outage,
    Reorder,
)
from sim.kernel import Simulation
from sim.live.faultboard import FaultBoard, FaultPath
from sim.network import Network
from sim.network_parts import Frame
from tests.live.fake_timers import FakeTimers

UP, DOWN = Direction.UP, Direction.DOWN
SEED = 11
END = 10.0
STREAM = [
    (round(0.1 + 0.02 * i, 6), UP if i % 3 else DOWN, json.dumps([{"channel": "/x", "id": str(i)}]))
    for i in range(120)
]
LINK = Link("c1/1", "i1", client="c1")
SCHEDULES: dict[str, list[Fault]] = {
    "latency": [Latency(at=0.5, duration=1.5, ms=80.0, jitter=60.0)],
    "loss": [Loss(at=0.5, duration=1.5, p=0.4)],
    "duplicate": [Duplicate(at=0.5, duration=1.5, p=0.5, direction=DOWN)],
    "reorder": [Reorder(at=0.5, duration=1.5, p=0.5)],
    "corrupt": [
        Loss(at=0.5, duration=1.0, p=0.5, direction=UP),
        Corrupt(at=0.5, count=4, mode=CorruptMode.SCHEMA, direction=Direction.BOTH),
    ],
    "blackhole": [Blackhole(at=0.5, duration=1.0)],
    "blackhole_up": [Blackhole(at=0.5, duration=1.0, direction=UP), Latency(at=0.0, ms=5.0)],
    "outage": [Outage(at=1.0, duration=1.0)],
    "everything": [
        Latency(at=0.2, duration=2.0, ms=30.0, jitter=40.0),
        Duplicate(at=0.3, duration=1.0, p=0.3),
        Reorder(at=0.4, duration=1.5, p=0.3, direction=UP),
        Loss(at=0.6, duration=1.0, p=0.2),
        Corrupt(at=0.7, count=3, mode=CorruptMode.TRUNCATED),
        Blackhole(at=1.5, duration=0.5, direction=DOWN),
        Corrupt(at=2.0, count=2, mode=CorruptMode.INVALID_JSON, direction=UP),
    ],
}
Arrival = tuple[float, str, str]


class _Ends:
    def __init__(self, net: Network, log: list[Arrival]) -> None:
        self.net, self.log = net, log

    # the client end
    def connection_made(self, now: float) -> None:
        pass

    def connection_failed(self, now: float, reason: str) -> None:
        self.log.append((now, "failed", reason))

    def connection_closed(self, now: float, reason: str) -> None:
        self.log.append((now, "closed", reason))

    def frame_received(self, frame: Frame, now: float) -> None:
        assert isinstance(frame, str)  # this stream sends text only
        self.log.append((now, "down", frame))

    # the server end
    def open(self, conn_id: str, now: float) -> bool:
        return True

    def receive(self, conn_id: str, frame: Frame, now: float) -> None:
        assert isinstance(frame, str)  # this stream sends text only
        self.log.append((now, "up", frame))

    def closed(self, conn_id: str, now: float) -> None:
        pass


def simulated(faults: list[Fault]) -> list[Arrival]:
    sim = Simulation(0, "parity")
    net = Network(sim.kernel, sim.tracer, random.Random(SEED), latency=0.0)
    log: list[Arrival] = []
    ends = _Ends(net, log)
    net.attach_client("c1", ends)
    net.attach_client("c2", ends)
    net.attach_server("i1", ends)
    net.connect("c1", "i1")
    for fault in faults:
        net.add_fault(fault)
    for t, way, text in STREAM:
        if way is UP:
            sim.kernel.call_at(t, net.client_send, "c1", text)
        else:
            sim.kernel.call_at(t, net.server_send, LINK.conn, text)
    if any(isinstance(f, Outage) for f in faults):  # refused while an outage lasts
        sim.kernel.call_at(1.5, net.connect, "c2", "i1")
    sim.kernel.run_until(END)
    return log


def live(faults: list[Fault]) -> list[Arrival]:
    """The live server's fault path; connection rules as `sim.live.server` applies them."""
    timers = FakeTimers()
    log: list[Arrival] = []
    board = FaultBoard(random.Random(SEED))
    path = FaultPath(
        board.engine,
        lambda _conn, way, text: log.append((timers.now, way.value, text)),
        timers.call_later,
        lambda: timers.now,
    )
    for fault in faults:
        board.add(fault.as_dict(), now=0.0)
    starts = sorted({f.at for f in faults if isinstance(f, Outage)})
    events: list[tuple[float, Any]] = [(t, (w, x)) for t, w, x in STREAM]
    events += [(t, "outage starts") for t in starts] + [(1.5, "reconnect")] * bool(starts)
    open_ = True
    for t, event in sorted(events, key=lambda e: e[0]):
        timers.run_until(t)
        if event == "outage starts" and open_ and board.closes(t, LINK):
            open_ = False
            log.append((t, "closed", "outage"))
        elif event == "reconnect" and board.refuses(t, Link("c2/1", "i1", client="c2")):
            log.append((t, "failed", "outage"))
        elif isinstance(event, tuple) and open_:
            path.send(t, event[0], LINK, event[1])
    timers.run_until(END)
    return log


def by_direction(log: list[Arrival]) -> dict[str, list[Arrival]]:
    out: dict[str, list[Arrival]] = {}
    for t, what, text in log:
        out.setdefault(what, []).append((round(t, 9), what, text))
    return out


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_sim_and_live_deliver_the_same_frames_at_the_same_times(name: str) -> None:
    faults = SCHEDULES[name]
    sim_side, live_side = by_direction(simulated(faults)), by_direction(live(faults))
    assert sim_side == live_side
    assert sum(len(v) for k, v in sim_side.items() if k in ("up", "down")) > 0
