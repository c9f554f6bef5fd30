"""Statechart coverage from trace records."""

from __future__ import annotations

from sim.hypo.coverage import Coverage, chart_edges
from statecharts.chart import TRANSITIONS
from statecharts.trace import TraceRecord


def _state(t: float, src: str, to: str, trigger: str, client: str = "c1") -> TraceRecord:
    return TraceRecord(t, f"client:{client}", "state", {"from": src, "to": to, "trigger": trigger})


def test_chart_edges_expand_every_source() -> None:
    edges = chart_edges()
    assert len(edges) == sum(len(row.leaf_sources) for row in TRANSITIONS)
    assert ("idle", "start", "connecting") in edges
    assert len(set(edges)) == len(edges)


def test_reached_and_missed_edges_are_counted() -> None:
    cov = Coverage()
    cov.add_trace(
        [
            _state(0.0, "idle", "connecting", "start"),
            _state(0.1, "connecting", "opening", "handshake_ok"),
            _state(0.2, "opening", "ready", "server_ready"),
            TraceRecord(0.3, "server:i1", "state", {"from": "x", "to": "y", "trigger": "z"}),
        ]
    )
    cov.add_trace([_state(0.0, "idle", "connecting", "start")])
    assert cov.runs == 2
    assert cov.edges[("idle", "start", "connecting")] == 2
    assert len(cov.reached_edges) == 3
    assert len(cov.missed_edges) == len(chart_edges()) - 3
    assert "interrupted" in cov.missed_states
    report = cov.report()
    assert "4/9 states, 3/" in report
    assert "idle --start--> connecting  x2" in report
    assert "reconnecting --interrupt_timeout--> interrupted" in report.split("never reached:")[1]


def test_edges_outside_the_chart_are_reported() -> None:
    cov = Coverage()
    cov.add_trace([_state(0.0, "idle", "ready", "start")])
    assert cov.foreign_edges == [("idle", "start", "ready")]
    assert "not in the chart (I7)" in cov.report()


def test_merge_adds_counts() -> None:
    a, b = Coverage(), Coverage()
    a.add_trace([_state(0.0, "idle", "connecting", "start")])
    b.add_trace([_state(0.0, "idle", "connecting", "start")])
    a.merge(b)
    assert a.runs == 2 and a.edges[("idle", "start", "connecting")] == 2
