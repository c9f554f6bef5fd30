"""A tiny harness for the simulated network: an echo server, a logging client, a world."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sim.faults import Fault
from sim.kernel import Simulation
from sim.network import ClientSide, Network, ServerSide
from sim.network_parts import Frame

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

    def frame_received(self, frame: Frame, now: float) -> None:
        self.log.append(("frame", now, frame))

    def frames(self) -> list[Any]:  # text, or the values a sender handed
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

    def receive(self, conn_id: str, frame: Frame, now: float) -> None:
        self.log.append(("recv", now, frame))
        self.net.server_send(conn_id, frame)

    def closed(self, conn_id: str, now: float) -> None:
        self.log.append(("closed", now, conn_id))

    def frames(self) -> list[Any]:
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
