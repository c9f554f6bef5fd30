"""I4: every invalid server reply gives one error 151, and the session goes on.

A trace cannot tell which frames were invalid: the world (or server) says
which frames a client received that no server sent (`Truth.foreign`). The
errors 151 are counted per client and moment as records come; the judgement
compares them with that truth, at any point of a run (`judge`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from statecharts.catalog import ErrorCode
from statecharts.chart import State
from statecharts.judge.facts import ClientFacts, Feed
from statecharts.judge.verdict import Report
from statecharts.trace import TraceRecord


class InvalidReplies:
    def __init__(self) -> None:
        self.errors: dict[str, Counter[float]] = {}  # per client: errors 151 per moment
        self.failed_at: dict[str, set[float]] = {}
        self.total = 0  # errors 151 so far, all clients

    def routes(self) -> dict[str, Feed]:
        return {"error": self._error, "state": self._state}

    def _error(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        if rec.data.get("code") == ErrorCode.INVALID_RESPONSE:
            self.errors.setdefault(rec.src, Counter())[round(rec.t, 6)] += 1
            self.total += 1

    def _state(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        if rec.data.get("to") == State.FAILED.value:
            self.failed_at.setdefault(rec.src, set()).add(round(rec.t, 6))

    def judge(self, foreign: Mapping[str, Sequence[float]], report: Report) -> None:
        """Compare with the frames each client got that no server sent."""
        for src in sorted(set(foreign) | set(self.errors)):
            got = self.errors.get(src, Counter())
            want = Counter(round(t, 6) for t in foreign.get(src, ()))
            for t in sorted(set(got) | set(want)):
                if got[t] != want[t]:
                    report.add(
                        "I4",
                        f"{src} at t={t:g}: {want[t]} corrupt frame(s) received, "
                        f"{got[t]} error 151 reported",
                        "one error 151 per frame no server sent",
                        t=t,
                    )
            for t in sorted(self.failed_at.get(src, set()) & set(want)):
                report.add(
                    "I4",
                    f"{src} failed at t={t:g} on a corrupt frame",
                    "the session goes on after an invalid reply",
                    t=t,
                )
