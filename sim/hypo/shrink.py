"""Shrink a failing program: fewer steps, then simpler ones, while it still fails.

A delta-debugging pass over the steps (drop halves, quarters, ... single
steps), then each remaining step replaced by a one-second wait. Each
candidate is a whole run of the program's scenario with the same world seed;
the shrinker stops after `budget` runs and keeps the smallest failure seen,
so the result always replays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sim.hypo.program import Program, Wait

Fails = Callable[[Program], bool]  # runs the program; True when it still fails


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
