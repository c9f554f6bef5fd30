"""Trace time order: `t` never goes backwards (beyond the tolerance)."""

from __future__ import annotations

from dataclasses import dataclass

from statecharts.judge.verdict import Report
from statecharts.trace import TraceRecord


@dataclass
class TimeOrder:
    """The judge keeps `last_t`, the latest time so far, and hands over the records before it."""

    tolerance: float
    last_t: float = 0.0

    def late(self, rec: TraceRecord, report: Report) -> None:
        """`rec` comes before the latest time so far: within the tolerance, or a violation."""
        if rec.t + self.tolerance < self.last_t:
            report.fail(rec, "order", f"t >= {self.last_t}")
