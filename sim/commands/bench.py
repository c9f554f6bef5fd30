"""`chatsim bench`: measure the virtual-time performance targets (DESIGN §10).

Without --live: the speed-up (virtual seconds per wall second) of the 60 s
standard lifecycle scenario and of a long run (hours of virtual time with
traffic and periodic outages), the simulated protocol events per wall
second of those runs, and the kernel and network micro-benchmarks. With
--live, the live benchmark of `sim.live.bench` runs instead.

Benchmarks read the wall clock (to time runs); nothing they measure does.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from sim.faults import Outage, Reload
from sim.runner import play
from sim.scenario import ClientSpec, ClusterSpec, Scenario, TrafficSpec

SPEEDUP_TARGET = 10_000.0
EVENTS_TARGET = 100_000.0


@dataclass(frozen=True)
class Row:
    name: str
    value: float
    unit: str
    target: float | None = None

    def line(self) -> str:
        status = "" if self.target is None else ("ok" if self.value >= self.target else "BELOW")
        goal = "" if self.target is None else f">= {self.target:,.0f}"
        return f"{self.name:<44} {self.value:>14,.0f} {self.unit:<16} {goal:<12} {status}"


def lifecycle(duration: float = 60.0, seed: int = 1) -> Scenario:
    """The standard lifecycle: start, chat both ways (a message every 5 s from
    each side, a brisk human pace), a short and a long outage, a reload, end."""
    return Scenario(
        name="standard lifecycle",
        seed=seed,
        duration=duration,
        cluster=ClusterSpec(instances=2),
        clients=(ClientSpec(end_at=duration - 5.0),),
        traffic=TrafficSpec(client_every=5.0, agent_every=5.0),
        faults=(
            Outage(at=10.0, duration=0.5),
            Outage(at=20.0, duration=5.0),
            Reload(at=40.0),
        ),
    )


def long_run(hours: float, seed: int = 2) -> Scenario:
    """Hours of chat with an outage every 10 minutes (alternately short and long)."""
    duration = hours * 3600.0
    faults = tuple(
        Outage(at=float(t), duration=0.5 if n % 2 else 8.0)
        for n, t in enumerate(range(300, int(duration), 600))
    )
    return Scenario(
        name=f"{hours:g} h with periodic outages",
        seed=seed,
        duration=duration,
        cluster=ClusterSpec(instances=2, session_ttl=60.0),
        clients=(ClientSpec(),),
        traffic=TrafficSpec(client_every=5.0, agent_every=7.0),
        faults=faults,
    )


def measure_scenario(scenario: Scenario, repeat: int = 1) -> tuple[float, float]:
    """(virtual seconds per wall second, kernel events per wall second), best of `repeat`."""
    best_speed, best_rate = 0.0, 0.0
    for _ in range(repeat):
        began = time.perf_counter()
        world = play(scenario)
        wall = time.perf_counter() - began
        virtual = world.now
        best_speed = max(best_speed, virtual / wall if wall > 0 else float("inf"))
        best_rate = max(best_rate, world.kernel.executed / wall if wall > 0 else float("inf"))
    return best_speed, best_rate


def _micro() -> list[tuple[str, Callable[[int], float]]]:
    try:
        bench_kernel = importlib.import_module("sim.bench_kernel")
    except ImportError:
        return []
    out = []
    for name, label in (
        ("kernel_events_per_second", "kernel microbench"),
        ("network_frames_per_second", "network microbench"),
    ):
        fn = getattr(bench_kernel, name, None)
        if callable(fn):
            out.append((label, fn))
    return out


def rows(quick: bool) -> list[Row]:
    out = []
    speed, rate = measure_scenario(lifecycle(), repeat=1 if quick else 3)
    out.append(Row("60 s lifecycle: speed-up", speed, "x real time", SPEEDUP_TARGET))
    out.append(Row("60 s lifecycle: simulated events", rate, "events/s", EVENTS_TARGET))
    hours = 0.5 if quick else 4.0
    speed, rate = measure_scenario(long_run(hours))
    out.append(Row(f"{hours:g} h with outages: speed-up", speed, "x real time", SPEEDUP_TARGET))
    out.append(Row(f"{hours:g} h with outages: simulated events", rate, "events/s", EVENTS_TARGET))
    n = 50_000 if quick else 300_000
    for label, fn in _micro():
        unit = "frames/s" if "network" in label else "events/s"
        target = EVENTS_TARGET if "kernel" in label else None
        out.append(Row(label, fn(n), unit, target))
    return out


def main(args: argparse.Namespace) -> int:
    if args.live:
        return _live(args)
    print(f"{'benchmark (virtual time)':<44} {'measured':>14} {'unit':<16} {'target':<12}")
    for row in rows(args.quick):
        print(row.line(), flush=True)
    return 0


def _live(args: argparse.Namespace) -> int:
    try:
        live = importlib.import_module("sim.live.bench")
    except ImportError:
        print(
            "chatsim bench: the live benchmark (sim.live.bench) is not available", file=sys.stderr
        )
        return 2
    entry = getattr(live, "main", None)
    if not callable(entry):
        print("chatsim bench: sim.live.bench has no main(args)", file=sys.stderr)
        return 2
    status: int = entry(args)
    return status
