"""I5: after error 152 (the restore found the session gone) only the end follows."""

from __future__ import annotations

from statecharts.events import APP_KINDS
from statecharts.judge.facts import ClientFacts, Feed, ends_session
from statecharts.judge.verdict import Report
from statecharts.trace import TraceRecord


class RestoreFailed:
    def routes(self) -> dict[str, Feed]:
        # I5 concerns what the application sees; diagnostics (a send_failed for a
        # message the ended session could not deliver) may still follow.
        return dict.fromkeys(APP_KINDS, self.feed)

    def feed(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        if facts.finished_by_152 and not ends_session(rec):
            report.fail(rec, "I5", "only ended or a state change to ended/failed after error 152")
