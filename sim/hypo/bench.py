"""Benchmark of the property machine: stateful examples per wall-clock second.

Target: at least 200 examples of 50 steps per second. The standard
machine is `ChatFlowMachine` (all fault kinds and actions, I1-I7 after every
step, the drain and the runner's judges at teardown); `check_determinism`
adds the I8 replay. Broken invariants are counted, not raised, so that a
real bug does not cut the measurement short. This module reads the wall
clock (it times runs); nothing it measures does.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from sim.hypo.fault_strategies import fault_table, fault_templates, seconds_table
from sim.hypo.machine import ChatFlowMachine, apply_step, build_world, drain_world
from sim.hypo.oracles import Broken
from sim.hypo.program import (
    AgentSay,
    End,
    FlowConfig,
    Inject,
    Program,
    ReloadPage,
    Send,
    Step,
    Typing,
    Wait,
)
from sim.runner import judge_world
from sim.truth import settings_of, truth_of
from statecharts.judge import Judge
from statecharts.trace import parse_trace

TARGET_EXAMPLES_PER_SECOND = 200.0


@dataclass
class BenchStats:
    examples: int = 0
    steps: int = 0
    failures: int = 0


def _bench_machine(stats: BenchStats, check_determinism: bool) -> type[ChatFlowMachine]:
    class BenchMachine(ChatFlowMachine):
        def report_broken(self, broken: list[Broken]) -> None:
            if broken and not self.failed:
                stats.failures += 1
                self.failed = True

        def teardown(self) -> None:
            stats.examples += 1
            stats.steps += len(self.steps)
            super().teardown()

    BenchMachine.check_determinism = check_determinism
    return BenchMachine


def measure(
    n_examples: int, steps: int, *, check_determinism: bool = False
) -> tuple[float, BenchStats]:
    """Run `n_examples` generated examples of `steps` steps; (examples/s, stats)."""
    stats = BenchStats()
    machine = _bench_machine(stats, check_determinism)
    config = settings(
        max_examples=n_examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        derandomize=True,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
    )
    started = time.perf_counter()
    run_state_machine_as_test(machine, settings=config)
    elapsed = time.perf_counter() - started
    return stats.examples / elapsed if elapsed > 0 else 0.0, stats


def examples_per_second(n_examples: int = 200, steps: int = 50) -> float:
    """Stateful examples of `steps` steps per wall-clock second (no I8 replay)."""
    rate, _ = measure(n_examples, steps)
    return rate


def random_programs(n: int, steps: int, seed: int = 0) -> list[Program]:
    """Programs drawn like `machine_steps` draws them, from a seeded random (no Hypothesis)."""
    rng = random.Random(seed)
    waits: list[Step] = [Wait(v) for v in seconds_table(0.1, 10.0)]
    faults: list[Step] = [Inject(f) for f in fault_table(fault_templates(), 10.0)]
    actions: list[Step] = [Send(), AgentSay(), Typing(), ReloadPage(), End()]
    tables = [waits, faults, waits, faults, *([a] for a in actions)]
    return [
        Program(FlowConfig(), tuple(rng.choice(rng.choice(tables)) for _ in range(steps)))
        for _ in range(n)
    ]


def world_examples_per_second(n_examples: int = 200, steps: int = 50) -> float:
    """The machine's own share: the same kind of examples replayed without Hypothesis.

    Each program runs step by step on a fresh world with the incremental
    judge after every step, then drains and is judged, as in the machine.
    """
    programs = random_programs(n_examples, steps)
    started = time.perf_counter()
    for number, program in enumerate(programs):
        _judged_run(program, number)
    elapsed = time.perf_counter() - started
    return n_examples / elapsed if elapsed > 0 else 0.0


def _judged_run(program: Program, seed: int) -> None:
    world = build_world(program.config, seed)
    judge = Judge(settings_of(world, parse_trace([world.trace.header.to_json()])))
    for step in program.steps:
        apply_step(world, step)
        judge.feed_new(world.records)
        judge.invalid_replies_so_far(truth_of(world, transcripts=False))
    drain_world(world)
    judge_world(world, judge)
