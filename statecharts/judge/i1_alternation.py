"""I1: `interrupted`/`continued` strictly alternate, starting with `interrupted`."""

from __future__ import annotations

from typing import ClassVar

from statecharts.judge.facts import ClientFacts
from statecharts.judge.verdict import Report
from statecharts.trace import TraceRecord


class Alternation:
    kinds: ClassVar[frozenset[str]] = frozenset({"interrupted", "continued"})

    def feed(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        if rec.kind == "interrupted" and facts.told is not None:
            report.fail(rec, "I1", f"a continued after the interrupted of line {facts.told}")
        elif rec.kind == "continued" and facts.told is None:
            report.fail(rec, "I1", "an interrupted before it")
