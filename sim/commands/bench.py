"""`chatsim bench`: measure the virtual-time performance targets.

Without --live: the speed-up (virtual seconds per wall second) of the 60 s
standard lifecycle scenario and of a long run (hours of virtual time with
traffic and periodic outages), the simulated protocol events per wall
second of those runs, and the kernel and network micro-benchmarks. With
--live, the live benchmark of `sim.live.bench` runs instead.

Benchmarks read the wall clock (to time runs); nothing they measure does.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from sim.commands import bench_load
from sim.faults import Outage, Reload
from sim.hypo import bench as hypo_bench
from sim.runner import play
from sim.scenario import ClientSpec, ClusterSpec, Scenario, TrafficSpec
from sim.world import World
from statecharts.errors import UsageError

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


EVENTS_DEFINITION = (
    "simulated protocol events = Bayeux messages taken in by client cores and server\n"
    "instances + events the client cores reported (state changes, application events,\n"
    "diagnostics) + kernel events other than frame deliveries (timer wake-ups, traffic,\n"
    "faults, connection changes, frames dropped in flight); a delivered frame counts\n"
    "as the messages it carried, so nothing is counted twice."
)


@dataclass(frozen=True)
class Counts:
    """What one run simulated (see EVENTS_DEFINITION)."""

    messages: int
    client_events: int
    other_kernel_events: int
    kernel_events: int

    @property
    def protocol_events(self) -> int:
        return self.messages + self.client_events + self.other_kernel_events


def count(world: World) -> Counts:
    clients = world.clients.values()
    instances = world.instances.values()
    frames = sum(c.frames_received for c in clients) + sum(i.frames_received for i in instances)
    messages = sum(c.core.messages_received for c in clients) + sum(
        i.core.messages_received for i in instances
    )
    executed = world.kernel.executed
    return Counts(messages, sum(c.events_taken for c in clients), executed - frames, executed)


@dataclass(frozen=True)
class Measured:
    speedup: float  # virtual seconds per wall second
    events_rate: float  # simulated protocol events per wall second
    kernel_rate: float  # kernel events per wall second
    counts: Counts
    runs: int


def measure_scenario(scenario: Scenario, repeat: int = 1) -> tuple[float, float]:
    """(virtual seconds per wall second, protocol events per wall second), best of `repeat`."""
    measured = measure(scenario, repeat)
    return measured.speedup, measured.events_rate


def measure(scenario: Scenario, repeat: int = 1) -> Measured:
    """Rates of the fastest of `repeat` runs (a run is deterministic: equal counts)."""
    wall = float("inf")
    world: World | None = None
    for _ in range(repeat):
        began = time.perf_counter()
        world = play(scenario)
        wall = min(wall, time.perf_counter() - began)
    assert world is not None
    wall = max(wall, 1e-9)
    counts = count(world)
    return Measured(
        world.now / wall,
        counts.protocol_events / wall,
        counts.kernel_events / wall,
        counts,
        repeat,
    )


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


def rows(quick: bool) -> list[Row | str]:
    out: list[Row | str] = []
    repeat = 20 if quick else 100
    measured = measure(lifecycle(), repeat=repeat)
    out.extend(_scenario_rows(f"60 s lifecycle (best of {repeat})", measured))
    hours = 0.5 if quick else 4.0
    measured = measure(long_run(hours))
    out.extend(_scenario_rows(f"{hours:g} h with outages", measured))
    out.append(_fuzz_row(quick))
    n = 50_000 if quick else 300_000
    for label, fn in _micro():
        unit = "frames/s" if "network" in label else "events/s"
        target = EVENTS_TARGET if "kernel" in label else None
        out.append(Row(label, fn(n), unit, target))
    return out


FUZZ_TARGET = 200.0


def _fuzz_row(quick: bool) -> Row:
    """Hypothesis stateful examples of 50 steps per second (target: 200)."""
    examples = 40 if quick else 200
    return Row(
        "fuzz: stateful examples of 50 steps",
        hypo_bench.examples_per_second(examples, 50),
        "examples/s",
        FUZZ_TARGET,
    )


def _scenario_rows(name: str, measured: Measured) -> list[Row | str]:
    counts = measured.counts
    return [
        Row(f"{name}: speed-up", measured.speedup, "x real time", SPEEDUP_TARGET),
        Row(f"{name}: protocol events", measured.events_rate, "events/s", EVENTS_TARGET),
        Row(f"{name}: kernel events", measured.kernel_rate, "events/s"),
        f"  (a run: {counts.protocol_events:,} protocol events = {counts.messages:,} messages"
        f" + {counts.client_events:,} client events + {counts.other_kernel_events:,} other"
        f" kernel events; {counts.kernel_events:,} kernel events in all)",
    ]


def main(args: argparse.Namespace) -> int:
    if args.hostile is not None:
        return _hostile(args.hostile)
    if args.live:
        return _live(args)
    if getattr(args, "sessions", None) is not None:
        raise UsageError("--sessions goes with --live")
    sections = [
        *bench_load.report(args.quick),
        "",
        *bench_load.scaling_report(),
        "",
        *bench_load.fuzz_report(args.quick),
    ]
    for line in sections:
        print(line, flush=True)
    print()
    if args.load_only:
        return 0
    print(f"{'benchmark (virtual time)':<44} {'measured':>14} {'unit':<16} {'target':<12}")
    for row in rows(args.quick):
        print(row if isinstance(row, str) else row.line(), flush=True)
    print()
    print(EVENTS_DEFINITION)
    return 0


def _hostile(frames: int) -> int:
    if frames < 1:
        raise UsageError(f"--hostile needs a positive number of frames, got {frames}")
    from sim.live.hostile import bench  # noqa: PLC0415 (aiohttp only when asked)

    return asyncio.run(bench(frames))


MAX_LIVE_SESSIONS = 100_000


def _live(args: argparse.Namespace) -> int:
    sessions = getattr(args, "sessions", None)
    if sessions is not None and not 0 <= sessions <= MAX_LIVE_SESSIONS:
        raise UsageError(f"--sessions must be between 0 and {MAX_LIVE_SESSIONS}, got {sessions}")
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
