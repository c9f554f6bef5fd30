"""Fuzz campaigns: Hypothesis generates programs, the scenario runner judges each run.

A campaign draws expressible programs (`strategies.scenario_programs`) and a
world seed, turns each into its scenario (`program.to_scenario`) and plays it
with `sim.runner.run_scenario`, which judges I1-I7 after the world drained.
I8 (a second run gives the same bytes) is checked on a deterministic sample
of the examples: those whose world seed is a multiple of `i8_every`, so a
shrink replays the same check. Hypothesis shrinks a failure to a minimal
program (within `shrink_budget` runs: after that every other candidate
passes untried, so Hypothesis stops at the smallest failure found); that
program's scenario file reproduces it with `chatsim run`.

Coverage of the statechart is collected from the traces of the examples
generated before the first failure (shrinking replays are not counted).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Flaky

from sim.hypo.coverage import Coverage
from sim.hypo.program import Program, to_scenario
from sim.hypo.strategies import scenario_programs
from sim.runner import Failure, RunResult, run_scenario
from statecharts.errors import UsageError
from transport.core import ClientCore

MAX_WORLD_SEED = 2**16
DEFAULT_I8_EVERY = 8
# Runs spent shrinking before the campaign settles for the smallest failure so far.
DEFAULT_SHRINK_BUDGET = 300


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


class _Books:
    """What the campaign's test function learns while Hypothesis drives it."""

    def __init__(self, examples: int, progress: Progress | None) -> None:
        self.wanted = examples
        self.progress = progress
        self.runs = 0
        self.examples = 0
        self.coverage = Coverage()
        self.last_failure: FoundFailure | None = None

    def over_budget(self, program: Program, seed: int, budget: int) -> bool:
        """Shrinking has had its runs: anything but the best failure now passes untried."""
        best = self.last_failure
        if best is None or self.runs - self.examples < budget:
            return False
        return (best.program, best.seed) != (program, seed)

    def ran(self, result: RunResult | None) -> None:
        self.runs += 1
        shrinking = self.last_failure is not None
        if not shrinking:
            self.examples += 1
            if result is not None:
                self.coverage.add_trace(result.records)
        if self.progress is not None:
            self.progress(self.runs, self.wanted, shrinking)


def run_campaign(
    examples: int,
    seed: int,
    *,
    core_class: type[ClientCore] = ClientCore,
    max_steps: int = 20,
    i8_every: int = DEFAULT_I8_EVERY,
    shrink_budget: int = DEFAULT_SHRINK_BUDGET,
    progress: Progress | None = None,
) -> CampaignResult:
    """Run up to `examples` generated programs; shrink and return the first failure."""
    if examples < 1:
        raise UsageError(f"--examples must be at least 1, got {examples}")
    books = _Books(examples, progress)

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        verbosity=Verbosity.quiet,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @hypothesis_seed(seed)
    @given(scenario_programs(max_steps=max_steps), st.integers(0, MAX_WORLD_SEED))
    def example(program: Program, world_seed: int) -> None:
        if books.over_budget(program, world_seed, shrink_budget):
            return
        twice = i8_every > 0 and world_seed % i8_every == 0
        try:
            result = run_program(program, world_seed, core_class=core_class, twice=twice)
        except Exception as exc:
            books.ran(None)
            crash = f"{type(exc).__name__}: {exc}"
            books.last_failure = FoundFailure(world_seed, program, (), None, crash)
            raise
        books.ran(result)
        if not result.ok:
            books.last_failure = FoundFailure(world_seed, program, result.failures, result)
            raise AssertionError("; ".join(f.describe() for f in result.failures))

    note = None
    try:
        example()
    except Flaky as exc:
        note = f"a failure did not replay the same way: {exc}"
    except Exception:
        if books.last_failure is None:
            raise
    return CampaignResult(books.examples, books.runs, books.coverage, books.last_failure, note)
