"""The conformance checker: `check_trace` judges a trace with the one judge.

The short name for judging a trace as it is: a live trace (header
`clock: wall`) is judged against its own server lines, any other on its
records alone. Every rule lives in `statecharts.judge` (one module per
invariant).
"""

from __future__ import annotations

from statecharts.judge import RULES, Judge, Settings, Violation, is_live, live_truth, settings_for
from statecharts.trace import Trace

__all__ = ["RULES", "Settings", "Violation", "check_trace", "settings_for"]


def check_trace(
    trace: Trace, interrupt_after: float | None = None, tolerance: float | None = None
) -> list[Violation]:
    """Every violation the trace shows, those of single lines first, by line."""
    settings = settings_for(trace, interrupt_after, tolerance)
    truth = live_truth(trace) if is_live(trace) else None
    return list(Judge(settings).check(trace, truth).violations)
