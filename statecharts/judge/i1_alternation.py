"""I1: `interrupted`/`continued` strictly alternate, starting with `interrupted`."""

from __future__ import annotations

from statecharts.judge.facts import ClientFacts, Feed
from statecharts.judge.verdict import Report
from statecharts.trace import TraceRecord


class Alternation:
    def routes(self) -> dict[str, Feed]:
        return {"interrupted": self._interrupted, "continued": self._continued}

    def _interrupted(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        if facts.told is not None:
            report.fail(rec, "I1", f"a continued after the interrupted of line {facts.told}")

    def _continued(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        if facts.told is None:
            report.fail(rec, "I1", "an interrupted before it")
