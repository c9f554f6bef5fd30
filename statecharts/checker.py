"""The conformance checker: `check_trace` judges a trace with the one judge.

Kept as the short name for trace-only checks; every rule lives in
`statecharts.judge` (one module per invariant).
"""

from __future__ import annotations

from statecharts.judge import RULES, Judge, Settings, Violation, settings_for
from statecharts.trace import Trace

__all__ = ["RULES", "Settings", "Violation", "check_trace", "settings_for"]


def check_trace(
    trace: Trace, interrupt_after: float | None = None, tolerance: float | None = None
) -> list[Violation]:
    """Every violation the trace alone shows (no server truth), first by line."""
    settings = settings_for(trace, interrupt_after, tolerance)
    return list(Judge(settings).check(trace).violations)
