"""How the property machine reports broken invariants.

The invariants themselves are judged by the one judge (`statecharts.judge`):
the machine feeds it each new record after every step (and the world's truth
for I4), then judges the drained run with `sim.runner.judge_invariants`.
I8 (same program + seed -> same bytes) is a replay; `replay_difference` says
where the two trace texts part (the machine and `run_client_flow` both use it),
with the comparison `chatsim run` makes (`statecharts.judge.i8_replay`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.hypo.program import Program
from statecharts.judge import Violation
from statecharts.judge.i8_replay import parting


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
    parted = parting(first.splitlines(), again.splitlines())
    if parted is None or parted.first is None or parted.again is None:
        return f"a replay with the same seed differs in length ({len(first)} vs {len(again)} bytes)"
    return (
        f"a replay with the same seed differs at trace line {parted.line}:"
        f" {parted.first!r} vs {parted.again!r}"
    )
