"""Statechart coverage: which states and transitions a set of traces reached.

Every `state` record of a client is one edge (from, trigger, to) of the
chart; the chart's edges are its `TRANSITIONS` rows expanded over their
sources. The report lists what was reached, with counts, and what never was,
so a fuzz campaign shows where its generators do not go.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from statecharts.chart import TRANSITIONS, State
from statecharts.trace import TraceRecord

Edge = tuple[str, str, str]  # (from, trigger, to)


def chart_edges() -> list[Edge]:
    """Every (from, trigger, to) of the chart, in table order."""
    return [
        (source.value, row.trigger.value, row.dest.value)
        for row in TRANSITIONS
        for source in row.leaf_sources
    ]


def edges_of(records: Iterable[TraceRecord]) -> Iterable[Edge]:
    for rec in records:
        if rec.kind == "state" and rec.src.startswith("client:"):
            d = rec.data
            yield (str(d.get("from")), str(d.get("trigger")), str(d.get("to")))


@dataclass
class Coverage:
    """Counts of edges and states seen, accumulated over many runs."""

    edges: Counter[Edge] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)
    runs: int = 0

    def add_trace(self, records: Iterable[TraceRecord]) -> None:
        self.runs += 1
        for edge in edges_of(records):
            self.edges[edge] += 1
            self.states[edge[0]] += 1
            self.states[edge[2]] += 1

    def merge(self, other: Coverage) -> None:
        self.edges.update(other.edges)
        self.states.update(other.states)
        self.runs += other.runs

    @property
    def reached_edges(self) -> list[Edge]:
        return [e for e in chart_edges() if self.edges[e]]

    @property
    def missed_edges(self) -> list[Edge]:
        return [e for e in chart_edges() if not self.edges[e]]

    @property
    def foreign_edges(self) -> list[Edge]:
        """Edges seen in traces that the chart does not have (I7 breaks)."""
        known = set(chart_edges())
        return sorted(e for e in self.edges if e not in known)

    @property
    def missed_states(self) -> list[str]:
        return [s.value for s in State if not self.states[s.value]]

    def report(self) -> str:
        total = len(chart_edges())
        reached = self.reached_edges
        states = [s.value for s in State]
        seen_states = [s for s in states if self.states[s]]
        lines = [
            f"statechart coverage over {self.runs} runs: "
            f"{len(seen_states)}/{len(states)} states, {len(reached)}/{total} transitions",
            "reached:",
        ]
        lines += [f"  {_edge(e)}  x{self.edges[e]}" for e in reached]
        lines.append("never reached:" if self.missed_edges else "never reached: none")
        lines += [f"  {_edge(e)}" for e in self.missed_edges]
        if self.missed_states:
            lines.append("states never entered or left: " + ", ".join(self.missed_states))
        if self.foreign_edges:
            lines.append("not in the chart (I7):")
            lines += [f"  {_edge(e)}  x{self.edges[e]}" for e in self.foreign_edges]
        return "\n".join(lines)


def _edge(edge: Edge) -> str:
    src, trigger, dest = edge
    return f"{src} --{trigger}--> {dest}"
