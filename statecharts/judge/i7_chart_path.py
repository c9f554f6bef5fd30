"""I7: the `state` records of a client are a path of the statechart (its one table)."""

from __future__ import annotations

from statecharts.chart import State, Trigger, dest_of
from statecharts.judge.facts import ClientFacts, Feed
from statecharts.judge.verdict import Report
from statecharts.trace import TraceRecord


class ChartPath:
    def routes(self) -> dict[str, Feed]:
        return {"state": self.feed}

    def feed(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        src, to, trigger = rec.data["from"], rec.data["to"], rec.data["trigger"]
        try:
            before, after, fired = State(src), State(to), Trigger(trigger)
        except ValueError:
            report.fail(rec, "I7", "known state and trigger names")
            return
        if facts.state is not None and before != facts.state:
            report.fail(rec, "I7", f"a transition from the current state '{facts.state.value}'")
        if dest_of(before, fired) != after:
            report.fail(rec, "I7", f"a row '{trigger}' from '{src}' in the chart")
