"""The property oracles I1-I8, judged incrementally on a growing trace.

`TraceOracle` feeds each new record once to the conformance checker of
`statecharts/checker.py` (I1, I2, I3, I5, I6 inbound order, I7) and keeps
its own books for what a trace alone can judge beyond that:

- I6  (outbound) a client message is acknowledged at most once, and never
      both acknowledged and reported failed.

What needs the world's ground truth (I4: each corrupt frame a client got
gives one 151; I6: every accepted transcript event reached the application,
every sent message acknowledged or failed) is judged by the machine from
the world's views, and at the end by `sim.runner.judge_invariants` after the
world drained. I8 (same program + seed -> same bytes) is a replay.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sim.hypo.program import Program
from statecharts.checker import Checker, CheckSettings, Violation
from statecharts.trace import TraceRecord


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


def _from_violation(v: Violation, records: Sequence[TraceRecord]) -> Broken:
    t = records[v.line - 2].t if 2 <= v.line < len(records) + 2 else 0.0
    return Broken(v.rule, v.describe(), t)


@dataclass
class TraceOracle:
    """Judges records as they come; `broken` collects every failure seen so far."""

    settings: CheckSettings
    checker: Checker = field(init=False)
    seen: int = 0
    last_t: float = 0.0
    broken: list[Broken] = field(default_factory=list)
    acks: Counter[tuple[str, str]] = field(default_factory=Counter)
    failed: set[tuple[str, str]] = field(default_factory=set)
    codes: Counter[tuple[str, int]] = field(default_factory=Counter)  # errors per client
    _reported: int = 0

    def __post_init__(self) -> None:
        self.checker = Checker(self.settings)

    def feed(self, records: Sequence[TraceRecord]) -> list[Broken]:
        """Judge records[seen:]; returns the failures found by this call."""
        before = len(self.broken)
        for number in range(self.seen, len(records)):
            rec = records[number]
            # Line numbers as in the written file: the header is line 1.
            self._one(replace(rec, line=number + 2) if rec.line == 0 else rec)
        self.seen = len(records)
        self._collect_checker(records)
        return self.broken[before:]

    def finish(self, records: Sequence[TraceRecord]) -> list[Broken]:
        """End-of-run rules (an interruption still due, a 150 still missing)."""
        before = len(self.broken)
        for src, client in self.checker.clients.items():
            self.checker._finish(src, client, self.last_t)
        self._collect_checker(records)
        return self.broken[before:]

    # -- per record --------------------------------------------------------
    def _one(self, rec: TraceRecord) -> None:
        if rec.t + self.settings.tolerance < self.last_t:
            self.broken.append(Broken("order", f"trace time goes back to {rec.t:g}", rec.t))
        self.last_t = max(self.last_t, rec.t)
        client = rec.client
        if client is None:
            return
        self.checker._judge(rec)
        if rec.kind == "error":
            self.codes[(client, int(rec.data.get("code", 0)))] += 1
        elif rec.kind == "ack":
            self._ack(client, rec)
        elif rec.kind == "send_failed":
            key = (client, str(rec.data.get("id")))
            if self.acks[key]:
                self._fail("I6", rec, f"message {key[1]} reported failed after its ack")
            self.failed.add(key)

    def _ack(self, client: str, rec: TraceRecord) -> None:
        key = (client, str(rec.data.get("id")))
        self.acks[key] += 1
        if self.acks[key] > 1:
            self._fail("I6", rec, f"message {key[1]} acknowledged {self.acks[key]} times")
        if key in self.failed:
            self._fail("I6", rec, f"message {key[1]} acknowledged after it was reported failed")

    def _fail(self, rule: str, rec: TraceRecord, message: str) -> None:
        self.broken.append(Broken(rule, f"line {rec.line}: {message}", rec.t))

    def _collect_checker(self, records: Sequence[TraceRecord]) -> None:
        found = self.checker.violations
        for v in found[self._reported :]:
            self.broken.append(_from_violation(v, records))
        self._reported = len(found)
