"""Trace time order: `t` never goes backwards (beyond the tolerance)."""

from __future__ import annotations

from dataclasses import dataclass

from statecharts.judge.verdict import Report
from statecharts.trace import TraceRecord


@dataclass
class TimeOrder:
    tolerance: float
    last_t: float = 0.0

    def feed(self, rec: TraceRecord, report: Report) -> None:
        t = rec.t
        if t >= self.last_t:  # the common case: time goes on
            self.last_t = t
        elif t + self.tolerance < self.last_t:
            report.fail(rec, "order", f"t >= {self.last_t}")
