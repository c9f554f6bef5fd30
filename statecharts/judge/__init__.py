"""The one judge: every invariant I1-I7 written once, fed by trace records.

One module per invariant (`i1_alternation` ... `i7_chart_path`); `Judge`
routes records to them and hands them the server's `Truth` where a trace
alone cannot judge (I4: frames a client got that no server sent; I6: what
the server accepted and acknowledged). `chatsim run`, `chatsim check`, the
property machine and the fuzz campaign all judge with it. I8 (same seed,
same bytes) is a second run, made by their callers and compared by
`i8_replay` (where the replay parts from the first run).

    from statecharts.judge import judge_trace, check_live
    verdict = judge_trace(read_trace(path))          # any trace
    verdict = check_live("traces/abc.jsonl", tolerance=0.5)   # a live session
    for v in verdict.violations: print(v.describe())
"""

from statecharts.judge.judge import Judge
from statecharts.judge.live import check_live, is_live, judge_trace, live_truth
from statecharts.judge.settings import ClientTimers, Settings, settings_for
from statecharts.judge.truth import Accepted, Truth
from statecharts.judge.verdict import RULES, Verdict, Violation

__all__ = [
    "RULES",
    "Accepted",
    "ClientTimers",
    "Judge",
    "Settings",
    "Truth",
    "Verdict",
    "Violation",
    "check_live",
    "is_live",
    "judge_trace",
    "live_truth",
    "settings_for",
]
