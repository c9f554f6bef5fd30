"""Judging a scenario's `expect` items against the records of a run."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from sim.expect_schema import KNOWN_KINDS
from sim.scenario import Expectation
from statecharts.trace import TraceRecord

TIME_TOLERANCE = 1e-6


def matches(exp: Expectation, rec: TraceRecord) -> bool:
    """Does this record have the expectation's kind, client, fields and time?"""
    if rec.kind != exp.kind:
        return False
    if exp.client is not None and rec.src != f"client:{exp.client}":
        return False
    if not all(_same(rec.data.get(name), want) for name, want in exp.fields):
        return False
    return in_window(exp, rec.t)


def in_window(exp: Expectation, t: float) -> bool:
    if exp.at is not None:
        return abs(t - exp.at) <= TIME_TOLERANCE
    if exp.after is not None and t < exp.after - TIME_TOLERANCE:
        return False
    return not (exp.before is not None and t > exp.before + TIME_TOLERANCE)


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return got is want or (isinstance(got, str) and got == str(want).lower())
    if isinstance(want, int | float) and isinstance(got, int | float):
        return abs(float(got) - float(want)) <= TIME_TOLERANCE
    if isinstance(want, int | float) or isinstance(got, int | float):
        return str(got) == str(want)
    return bool(got == want)


def judge(exp: Expectation, records: Sequence[TraceRecord]) -> str | None:
    """None when the expectation holds, else why it does not (one line)."""
    hits = [rec for rec in records if matches(exp, rec)]
    if exp.none:
        if hits:
            return f"found {len(hits)}, first at t={hits[0].t:g}"
        return None
    if exp.count is not None:
        if len(hits) != exp.count:
            return f"found {len(hits)}{_at_times(hits)}"
        return None
    if hits:
        return None
    near = [rec for rec in records if rec.kind == exp.kind]
    if not near:
        kinds = sorted({rec.kind for rec in records} | KNOWN_KINDS)
        guess = difflib.get_close_matches(exp.kind, kinds, n=1)
        hint = f" (did you mean {guess[0]}?)" if guess and guess[0] != exp.kind else ""
        return f"no {exp.kind} event at all{hint}"
    fields = {name for rec in near for name in rec.data}
    unknown = [name for name, _ in exp.fields if name not in fields]
    if unknown:
        known = ", ".join(sorted(fields))
        return f"no {exp.kind} event has a field {unknown[0]!r} (fields: {known})"
    return f"no match; {exp.kind} events{_at_times(near)}"


def _at_times(recs: Sequence[TraceRecord], limit: int = 5) -> str:
    if not recs:
        return ""
    shown = ", ".join(f"{r.t:g}" for r in recs[:limit])
    more = ", ..." if len(recs) > limit else ""
    return f" at t={shown}{more}"
