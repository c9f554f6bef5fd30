"""What a judgement says: violations (a broken rule) and warnings (doubtful input)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from statecharts.trace import TraceRecord

RULES = {
    "order": "trace times never go backwards",
    "I1": "interrupted/continued strictly alternate, starting with interrupted",
    "I2": "interrupted fires once the connection was lost for interrupt_after",
    "I3": "with the legacy flag on, one error 150 comes with each interrupted",
    "I4": "every invalid server reply gives one error 151 and the session goes on",
    "I5": "after error 152 only ended/failed follow for that session",
    "I6": (
        "every accepted transcript event arrives exactly once, in order; every sent "
        "message is acknowledged once, at its own index, or reported failed"
    ),
    "I7": "the state sequence is a path of the statechart",
}


@dataclass(frozen=True)
class Violation:
    """One broken rule: where (trace line, 0 for the run as a whole), what, and what was due."""

    line: int
    rule: str
    event: str
    expected: str
    t: float = 0.0

    def describe(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return (
            f"{where}{self.event} breaks {self.rule} ({RULES[self.rule]}): expected {self.expected}"
        )


@dataclass(frozen=True)
class Verdict:
    """The judgement of one trace: what broke, what looked odd, which rules were judged."""

    violations: tuple[Violation, ...]
    judged: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    events: int = 0

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass
class Report:
    """Collects violations while rules judge; rules only ever append."""

    found: list[Violation] = field(default_factory=list)

    def fail(self, rec: TraceRecord, rule: str, expected: str) -> None:
        self.found.append(Violation(rec.line, rule, show(rec), expected, rec.t))

    def add(self, rule: str, event: str, expected: str, *, line: int = 0, t: float = 0.0) -> None:
        self.found.append(Violation(line, rule, event, expected, t))


def show(rec: TraceRecord) -> str:
    """A record as its trace line (the event a violation names)."""
    body: dict[str, Any] = {"t": rec.t, "src": rec.src, "kind": rec.kind, **rec.data}
    return json.dumps(body, separators=(",", ":"))
