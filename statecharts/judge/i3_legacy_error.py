"""I3: with the legacy flag on, error 150 comes with each `interrupted`, once.

The flag comes from the settings (the run header or the caller); when they
do not say, a client that ever reports a 150 is taken to have it on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from statecharts.catalog import ErrorCode
from statecharts.judge.facts import ClientFacts, Feed
from statecharts.judge.settings import Settings
from statecharts.judge.verdict import Report
from statecharts.trace import TraceRecord


class LegacyError:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.uses_150: set[str] = set()
        self.with_150: dict[str, bool] = {}  # per client: the open interruption had its 150

    def prescan(self, records: Iterable[TraceRecord]) -> None:
        """Whole traces: know up front which clients use 150 at all."""
        for rec in records:
            if rec.kind == "error" and rec.data.get("code") == ErrorCode.NETWORK_INTERRUPTED:
                self.uses_150.add(rec.src)

    def routes(self) -> dict[str, Feed]:
        return {
            "error": self._error,
            "interrupted": self._interrupted,
            "continued": self._continued,
        }

    def _error(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        if rec.data.get("code") == ErrorCode.NETWORK_INTERRUPTED:
            self.uses_150.add(rec.src)
            self._error_150(rec, facts, report)

    def _interrupted(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        self._close(facts, report)
        self.with_150[rec.src] = False

    def _continued(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        if facts.told is not None:
            self._close(facts, report)

    def finish(self, clients: Mapping[str, ClientFacts], report: Report) -> None:
        for facts in clients.values():
            self._close(facts, report)

    def _error_150(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        tolerance = self.settings.tolerance
        if self.settings.timers(rec.src).interruption_error is False:
            report.fail(rec, "I3", "no error 150: the legacy interruption error is off")
        elif facts.told is None or abs(rec.t - facts.told_at) > tolerance:
            report.fail(rec, "I3", "error 150 only together with an interrupted")
        elif self.with_150.get(rec.src):
            report.fail(rec, "I3", f"one error 150 for the interrupted of line {facts.told}")
        self.with_150[rec.src] = True

    def _close(self, facts: ClientFacts, report: Report) -> None:
        """The open interruption ends: it should have had its 150."""
        if facts.told is None or self.with_150.get(facts.src) or not self._wants_150(facts.src):
            return
        report.add(
            "I3", "interrupted", "an error 150 at the same time", line=facts.told, t=facts.told_at
        )
        self.with_150[facts.src] = True

    def _wants_150(self, src: str) -> bool:
        legacy = self.settings.timers(src).interruption_error
        return legacy if legacy is not None else src in self.uses_150
