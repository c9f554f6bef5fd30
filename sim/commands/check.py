"""`chatsim check TRACE`: judge a trace with the one judge.

Any trace: a `chatsim run` trace, a widget's application events, or a live
browser session's trace (header `clock: wall`), which is judged against the
server's own lines in it. Warnings (unknown client event kinds) go to stderr
and do not change the verdict; a trace without events is bad input (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from statecharts.errors import UsageError
from statecharts.judge import is_live, judge_trace
from statecharts.judge.settings import positive_seconds
from statecharts.trace import read_trace


def main(args: argparse.Namespace) -> int:
    interrupt_after = _flag("--interrupt-after", args.interrupt_after)
    tolerance = _flag("--tolerance", args.tolerance)
    trace = read_trace(Path(args.trace))
    verdict = judge_trace(trace, interrupt_after=interrupt_after, tolerance=tolerance)
    for warning in verdict.warnings:
        print(f"chatsim check: warning: {warning}", file=sys.stderr)
    for violation in verdict.violations:
        print(violation.describe())
    count = verdict.events
    if verdict.violations:
        print(f"FAIL: {len(verdict.violations)} violation(s) in {count} events of {args.trace}")
        return 1
    against = " against the server's lines" if is_live(trace) else ""
    held = ", ".join(verdict.judged)
    print(f"OK: {count} events of {args.trace} hold {held}{against}")
    return 0


def _flag(name: str, value: float | None) -> float | None:
    try:
        return positive_seconds(name, value)
    except UsageError:
        raise UsageError(
            f"{name}: expected a positive finite number of seconds, got {value}"
        ) from None
