"""Micro-benchmark of the event kernel (target: ≥ 100,000 events per wall second).

The one place in the kernel's neighbourhood that reads the wall clock, and
only to time the run: the simulated workload itself is virtual.
"""

from __future__ import annotations

import time

from sim.kernel import Handle, Kernel, Simulation
from sim.network import Network
from sim.network_parts import Frame

# Like a run of many clients: each periodic task re-arms itself, and one
# timer in four is re-armed before it fires (a watchdog pushed back).
_TASKS = 100


def kernel_events_per_second(n: int) -> float:
    """Run `n` scheduled events through a fresh kernel; events per wall second."""
    kernel = Kernel()
    budget = [n]
    watchdogs: list[Handle | None] = [None] * _TASKS

    def fire(task: int) -> None:
        if budget[0] <= 0:
            return
        budget[0] -= 1
        period = 0.001 * (1 + task % 7)
        kernel.call_later(period, fire, task)
        if task % 4 == 0:
            kernel.cancel(watchdogs[task])
            watchdogs[task] = kernel.call_later(3.0, fire, task)

    for task in range(_TASKS):
        kernel.call_at(0.0, fire, task)
    start = time.perf_counter()
    kernel.run()
    elapsed = time.perf_counter() - start
    return kernel.executed / elapsed if elapsed > 0 else float("inf")


class _PingClient:
    """Sends the next frame whenever the echo of the last one arrives."""

    def __init__(self, network: Network, name: str, budget: list[int]) -> None:
        self.network = network
        self.name = name
        self.budget = budget

    def connection_made(self, now: float) -> None:
        self.network.client_send(self.name, "[]")

    def connection_failed(self, now: float, reason: str) -> None:
        pass

    def connection_closed(self, now: float, reason: str) -> None:
        pass

    def frame_received(self, frame: Frame, now: float) -> None:
        if self.budget[0] > 0:
            self.budget[0] -= 1
            self.network.client_send(self.name, frame)


class _EchoServer:
    def __init__(self, network: Network) -> None:
        self.network = network

    def open(self, conn_id: str, now: float) -> bool:
        return True

    def receive(self, conn_id: str, frame: Frame, now: float) -> None:
        self.network.server_send(conn_id, frame)

    def closed(self, conn_id: str, now: float) -> None:
        pass


def network_frames_per_second(n: int, clients: int = 100) -> float:
    """Ping-pong `n` round trips over the simulated network; one-way frames per wall second."""
    sim = Simulation(seed=0, scenario="bench")
    network = Network(sim.kernel, sim.tracer, sim.streams.get("net"), trace_connections=False)
    network.attach_server("i1", _EchoServer(network))
    budget = [n]
    for i in range(clients):
        name = f"c{i}"
        network.attach_client(name, _PingClient(network, name, budget))
        network.connect(name, "i1")
    start = time.perf_counter()
    sim.kernel.run()
    elapsed = time.perf_counter() - start
    frames = 2 * (n + clients)
    return frames / elapsed if elapsed > 0 else float("inf")


if __name__ == "__main__":
    print(f"kernel:  {kernel_events_per_second(200_000):,.0f} events/s")
    print(f"network: {network_frames_per_second(100_000):,.0f} frames/s")
