"""How the property machine reports broken invariants.

The invariants themselves are judged by the one judge (`statecharts.judge`):
the machine feeds it each new record after every step (and the world's truth
for I4), then judges the drained run with `sim.runner.judge_invariants`.
I8 (same program + seed -> same bytes) is a replay; `replay_difference` says
where the two traces part (the machine and `run_client_flow` both use it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.hypo.program import Program
from statecharts.judge import Violation


@dataclass(frozen=True)
class Broken:
    """One broken invariant, readable on its own."""

    rule: str
    message: str
    t: float = 0.0

    def __str__(self) -> str:
        return f"{self.rule} at t={self.t:g}: {self.message}"


class InvariantError(AssertionError):
    """Raised by the property machine; the message lists what broke."""

    def __init__(
        self, broken: Sequence[Broken], program: Program | None = None, seed: int | None = None
    ) -> None:
        self.broken = tuple(broken)
        self.program = program
        self.seed = seed
        text = "; ".join(str(b) for b in broken)
        if program is not None:
            steps = program.show().replace("\n", "\n  ") or "(no steps)"
            text += f"\nprogram (world seed {seed}):\n  {steps}"
        super().__init__(text)


def broken_of(violation: Violation) -> Broken:
    return Broken(violation.rule, violation.describe(), violation.t)


def replay_difference(first: str, again: str) -> str | None:
    """Where a replay's trace text parts from the first run's; None when they are equal."""
    if first == again:
        return None
    for n, (x, y) in enumerate(zip(first.splitlines(), again.splitlines(), strict=False), 1):
        if x != y:
            return f"a replay with the same seed differs at trace line {n}: {x!r} vs {y!r}"
    return f"a replay with the same seed differs in length ({len(first)} vs {len(again)} bytes)"
