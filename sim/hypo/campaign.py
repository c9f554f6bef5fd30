"""Fuzz campaigns: seeded programs in parallel, the scenario runner judges each run.

Example number i of a campaign is drawn from the same strategy as always
(`strategies.scenario_programs`, with a world seed) by a random generator
seeded with (campaign seed, i): no search engine in the inner loop, and each
example is the same whatever the number of workers. `workers` processes take
every `workers`-th example; the first failing example (the lowest number, so
the result does not depend on which worker was quicker) is replayed and
shrunk (`sim.hypo.shrink`), and its program's scenario file reproduces it
with `chatsim run`.

I8 (a second run gives the same bytes) is checked on a deterministic sample
of the examples: those whose world seed is a multiple of `i8_every`.
Coverage of the statechart is collected from the traces of the examples run
(shrinking replays are not counted).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from hypothesis import strategies as st
from hypothesis.internal.conjecture.data import ConjectureData

from sim.hypo.coverage import Coverage
from sim.hypo.program import Program, to_scenario
from sim.hypo.shrink import draw_example, shrink
from sim.hypo.strategies import scenario_programs
from sim.runner import Failure, RunResult, run_scenario
from statecharts.errors import UsageError
from transport.core import ClientCore

MAX_WORLD_SEED = 2**16
DEFAULT_I8_EVERY = 8
# Runs spent shrinking before the campaign settles for the smallest failure so far.
DEFAULT_SHRINK_BUDGET = 300
PROGRESS_EVERY = 10  # examples a worker runs between progress reports


def run_program(
    program: Program,
    seed: int,
    *,
    core_class: type[ClientCore] = ClientCore,
    twice: bool = False,
) -> RunResult:
    """Play a program's scenario with this world seed and judge it."""
    return run_scenario(to_scenario(program, seed), seed, twice=twice, core_class=core_class)


@dataclass(frozen=True)
class FoundFailure:
    """The minimal failing example: replay it with `run_program(program, seed)`."""

    seed: int
    program: Program
    failures: tuple[Failure, ...]
    result: RunResult | None = None
    crash: str | None = None  # an exception raised by a core, as `Type: message`

    def describe(self) -> list[str]:
        lines = [f.describe() for f in self.failures]
        if self.crash is not None:
            lines.append(f"crash: {self.crash}")
        return lines


@dataclass
class CampaignResult:
    examples: int  # examples run before the first failure (or in all)
    runs: int  # every run, shrinking included
    coverage: Coverage = field(default_factory=Coverage)
    failure: FoundFailure | None = None
    note: str | None = None  # e.g. a flaky failure Hypothesis could not replay

    @property
    def ok(self) -> bool:
        return self.failure is None and self.note is None


Progress = Callable[[int, int, bool], None]  # (runs so far, examples wanted, shrinking)


def default_workers() -> int:
    """The cores this process may run on (not every core of the machine)."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return max(os.cpu_count() or 1, 1)


class Draw:
    """Example number i of a campaign: (program, world seed), from a seeded generator."""

    def __init__(self, seed: int, max_steps: int) -> None:
        self.seed = seed
        self.strategy = st.tuples(
            scenario_programs(max_steps=max_steps), st.integers(0, MAX_WORLD_SEED)
        )

    def _data(self, index: int) -> ConjectureData:
        digest = hashlib.blake2b(f"{self.seed}\x00{index}".encode(), digest_size=8).digest()
        return ConjectureData(random=random.Random(int.from_bytes(digest, "big")))

    def __call__(self, index: int) -> tuple[Program, int]:
        return draw_example(self.strategy, self._data(index))

    def choices(self, index: int) -> tuple[Any, ...]:
        """The choice sequence of example i (what Hypothesis's shrinker starts from)."""
        data = self._data(index)
        draw_example(self.strategy, data)
        return tuple(data.choices)


@dataclass(frozen=True)
class _Failed:
    index: int
    world_seed: int
    program: Program
    crash: str | None


@dataclass
class _Work:
    """One worker's share: every `step`-th example from `first`."""

    examples: int
    first: int
    step: int
    seed: int
    max_steps: int
    i8_every: int
    core_class: type[ClientCore]


def _run_share(
    work: _Work,
    lowest_failure: Synchronized[int] | None,
    report: Callable[[int], None],
) -> tuple[int, Coverage, _Failed | None]:
    """Run a share of the examples; stop at its first failure (or past a lower one)."""
    draw = Draw(work.seed, work.max_steps)
    coverage, ran, unreported = Coverage(), 0, 0
    failed: _Failed | None = None
    for index in range(work.first, work.examples, work.step):
        if lowest_failure is not None and index > lowest_failure.value:
            break
        program, world_seed = draw(index)
        twice = work.i8_every > 0 and world_seed % work.i8_every == 0
        crash: str | None = None
        try:
            result = run_program(program, world_seed, core_class=work.core_class, twice=twice)
            coverage.add_trace(result.records)
        except Exception as exc:  # a core that raises is a finding, not a crash of the tool
            crash, result = f"{type(exc).__name__}: {exc}", None
        ran, unreported = ran + 1, unreported + 1
        if unreported >= PROGRESS_EVERY:
            report(unreported)
            unreported = 0
        if crash is not None or (result is not None and not result.ok):
            failed = _Failed(index, world_seed, program, crash)
            if lowest_failure is not None:
                with lowest_failure.get_lock():
                    lowest_failure.value = min(lowest_failure.value, index)
            break
    if unreported:
        report(unreported)
    return ran, coverage, failed


def _worker(work: _Work, lowest: Synchronized[int], queue: Queue[Any]) -> None:
    try:
        outcome = _run_share(work, lowest, lambda n: queue.put(("progress", n)))
        queue.put(("done", outcome))
    except BaseException as exc:  # reported to the parent, which raises
        queue.put(("error", f"{type(exc).__name__}: {exc}"))


def run_campaign(
    examples: int,
    seed: int,
    *,
    core_class: type[ClientCore] = ClientCore,
    max_steps: int = 20,
    i8_every: int = DEFAULT_I8_EVERY,
    shrink_budget: int = DEFAULT_SHRINK_BUDGET,
    progress: Progress | None = None,
    workers: int = 1,
) -> CampaignResult:
    """Run `examples` seeded programs on `workers` processes; shrink the first failure."""
    if examples < 1:
        raise UsageError(f"--examples must be at least 1, got {examples}")
    if workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}")
    workers = min(workers, examples)
    shares = [
        _Work(examples, first, workers, seed, max_steps, i8_every, core_class)
        for first in range(workers)
    ]
    done = [0]

    def advance(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(done[0], examples, False)

    if workers == 1 or "fork" not in multiprocessing.get_all_start_methods():
        # No fork (Windows): one process runs every share, in the same order of examples.
        outcomes = [_run_share(share, None, advance) for share in shares]
    else:
        outcomes = _in_processes(shares, examples, advance)
    coverage = Coverage()
    for _, cov, _ in outcomes:
        coverage.merge(cov)
    failures = [f for _, _, f in outcomes if f is not None]
    if not failures:
        return CampaignResult(examples, done[0], coverage)
    first = min(failures, key=lambda f: f.index)
    return _shrunk(
        first,
        draw=Draw(seed, max_steps),
        core_class=core_class,
        i8_every=i8_every,
        budget=shrink_budget,
        progress=progress,
        runs=done[0],
        coverage=coverage,
    )


def _in_processes(
    shares: list[_Work], examples: int, advance: Callable[[int], None]
) -> list[tuple[int, Coverage, _Failed | None]]:
    # fork: the workers inherit the core class (a user's, maybe defined anywhere).
    context = multiprocessing.get_context("fork")
    lowest = context.Value("q", examples)
    queue: Queue[Any] = context.Queue()
    procs = [context.Process(target=_worker, args=(w, lowest, queue)) for w in shares]
    for proc in procs:
        proc.start()
    outcomes: list[tuple[int, Coverage, _Failed | None]] = []
    error: str | None = None
    try:
        while len(outcomes) < len(procs) and error is None:
            kind, payload = queue.get()
            if kind == "progress":
                advance(payload)
            elif kind == "done":
                outcomes.append(payload)
            else:
                error = payload
    finally:
        for proc in procs:
            if error is not None:
                proc.terminate()
            proc.join()
    if error is not None:
        raise RuntimeError(f"a fuzz worker failed: {error}")
    return outcomes


def _shrunk(
    first: _Failed,
    *,
    draw: Draw,
    core_class: type[ClientCore],
    i8_every: int,
    budget: int,
    progress: Progress | None,
    runs: int,
    coverage: Coverage,
) -> CampaignResult:
    examples = first.index + 1  # every example before the first failure held
    runs_box = [runs]

    def attempt(program: Program, seed: int) -> tuple[RunResult | None, str | None]:
        runs_box[0] += 1
        if progress is not None:
            progress(runs_box[0], examples, True)
        twice = i8_every > 0 and seed % i8_every == 0
        try:
            return run_program(program, seed, core_class=core_class, twice=twice), None
        except Exception as exc:  # the same finding as in the worker
            return None, f"{type(exc).__name__}: {exc}"

    def fails(program: Program, seed: int) -> bool:
        result, crash = attempt(program, seed)
        return crash is not None or (result is not None and not result.ok)

    if not fails(first.program, first.world_seed):
        note = "a failure did not replay the same way (a core that is not deterministic?)"
        return CampaignResult(examples, runs_box[0], coverage, None, note)
    program, seed = shrink(draw.strategy, draw.choices(first.index), fails, budget)
    result, crash = attempt(program, seed)
    failures = result.failures if result is not None else ()
    found = FoundFailure(seed, program, failures, result, crash)
    return CampaignResult(examples, runs_box[0], coverage, found)
