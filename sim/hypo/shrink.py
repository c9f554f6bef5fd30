"""Shrink a failing example (a program and its world seed) while it still fails.

`shrink` hands the example's choice sequence to Hypothesis's own shrinker,
which simplifies everything the strategy drew (steps, their values, the
settings, the world seed). That is Hypothesis's internal engine: when this
Hypothesis version does not offer it, `Shrinker` does the same job more
plainly — a delta-debugging pass over the steps (drop halves, quarters, ...
single steps), then each step left replaced by a one-second wait, with the
world seed kept. Either stops after `budget` runs (further candidates pass
untried) and keeps the smallest failure seen, so the result always replays.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.control import BuildContext
from hypothesis.internal.conjecture.data import ConjectureData

from sim.hypo.program import Program, Wait

Example = tuple[Program, int]  # (program, world seed)
Fails = Callable[[Program], bool]  # runs the program; True when it still fails
FailsWithSeed = Callable[[Program, int], bool]


def draw_example(strategy: st.SearchStrategy[Example], data: ConjectureData) -> Example:
    with BuildContext(data, wrapped_test=_no_test):
        return data.draw(strategy)


def _no_test() -> None:
    """BuildContext wants the test it draws for; a campaign draws outside any test."""


def shrink(
    strategy: st.SearchStrategy[Example],
    choices: Sequence[Any],
    fails: FailsWithSeed,
    budget: int,
) -> Example:
    """The smallest failing example found from the one drawn with `choices`."""
    found = _with_hypothesis(strategy, choices, fails, budget)
    if found is not None:
        return found
    program, seed = draw_example(strategy, ConjectureData.for_choices(choices))
    return Shrinker(lambda p: fails(p, seed), budget).shrink(program), seed


def _with_hypothesis(
    strategy: st.SearchStrategy[Example],
    choices: Sequence[Any],
    fails: FailsWithSeed,
    budget: int,
) -> Example | None:
    try:
        from hypothesis.internal.conjecture.engine import ConjectureRunner  # noqa: PLC0415
        from hypothesis.internal.escalation import InterestingOrigin  # noqa: PLC0415

        origin: Any = InterestingOrigin.from_exception(AssertionError("fails"))
    except (ImportError, AttributeError):
        return None
    runs = [0]

    def test(data: ConjectureData) -> None:
        program, seed = draw_example(strategy, data)
        if runs[0] >= budget:
            return  # out of runs: every other candidate passes untried
        runs[0] += 1
        if fails(program, seed):
            data.mark_interesting(origin)

    config = settings(database=None, deadline=None, suppress_health_check=list(HealthCheck))
    try:
        engine: Any = ConjectureRunner(test, settings=config, random=random.Random(0))
        engine.cached_test_function(list(choices))
        engine.shrink_interesting_test_cases()
        cases = list(engine.interesting_test_cases.values())
    except (AttributeError, TypeError):  # another Hypothesis version's engine
        return None
    if not cases:
        return None
    return draw_example(strategy, ConjectureData.for_choices(cases[0].choices))


class Shrinker:
    def __init__(self, fails: Fails, budget: int) -> None:
        self.fails = fails
        self.budget = budget
        self.runs = 0

    def _try(self, candidate: Program) -> bool:
        if self.runs >= self.budget:
            return False
        self.runs += 1
        return self.fails(candidate)

    def shrink(self, program: Program) -> Program:
        best = self._drop_chunks(program)
        return self._simplify_steps(best)

    def _drop_chunks(self, program: Program) -> Program:
        size = max(len(program.steps) // 2, 1)
        while program.steps and self.runs < self.budget:
            start, dropped = 0, False
            while start < len(program.steps):
                steps = program.steps
                candidate = replace(program, steps=steps[:start] + steps[start + size :])
                if self._try(candidate):
                    program, dropped = candidate, True
                else:
                    start += size
            if size == 1 and not dropped:
                break
            size = max(size // 2, 1)
        return program

    def _simplify_steps(self, program: Program) -> Program:
        plain = Wait(1.0)
        for n, step in enumerate(program.steps):
            if step == plain:
                continue
            steps = program.steps
            candidate = replace(program, steps=(*steps[:n], plain, *steps[n + 1 :]))
            if self._try(candidate):
                program = candidate
        return program
