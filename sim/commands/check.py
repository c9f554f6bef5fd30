"""`chatsim check TRACE`: judge a trace with the conformance checker."""

from __future__ import annotations

import argparse
from pathlib import Path

from statecharts.checker import check_trace
from statecharts.trace import read_trace


def main(args: argparse.Namespace) -> int:
    trace = read_trace(Path(args.trace))
    violations = check_trace(trace, args.interrupt_after, args.tolerance)
    for violation in violations:
        print(violation.describe())
    count = len(trace.records)
    if violations:
        print(f"FAIL: {len(violations)} violation(s) in {count} events of {args.trace}")
        return 1
    print(f"OK: {count} events of {args.trace} hold I1, I2, I3, I5, I6 (order), I7")
    return 0
