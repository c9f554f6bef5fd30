"""The judge: feeds trace records to the rule of each invariant, then judges the end.

Each invariant lives in one module of this package (`i1_alternation` ...
`i7_chart_path`); the judge only routes records to them, keeps the facts
every rule reads (`facts.ClientFacts`), and hands the server's truth to the
rules that need it. It judges a whole trace (`check`) or a growing one
(`feed_new`, then `finish`), as the property machine does after each step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Protocol

from statecharts.judge.facts import FACT_KINDS, INBOUND, OUTBOUND, ROUTES_OF, ClientFacts, Feed
from statecharts.judge.i1_alternation import Alternation
from statecharts.judge.i2_timing import Timing, fault_timing
from statecharts.judge.i3_legacy_error import LegacyError
from statecharts.judge.i4_invalid_reply import InvalidReplies
from statecharts.judge.i5_restore_failed import RestoreFailed
from statecharts.judge.i6_delivery import Delivery
from statecharts.judge.i7_chart_path import ChartPath
from statecharts.judge.order import TimeOrder
from statecharts.judge.settings import Settings
from statecharts.judge.truth import Truth
from statecharts.judge.verdict import Report, Verdict, Violation
from statecharts.judge.windows import Whereabouts, fault_windows
from statecharts.trace import Trace, TraceRecord

# The records `finish` reads again besides each client's own: fault windows and
# where each chat was served. Kept as they are fed, so the end needs no rescan.
_LANDMARKS = frozenset({"fault.start", "fault.end", "session.start", "session.move"})


class Rule(Protocol):
    """A rule judged record by record: for each kind it reads, how it judges one."""

    def routes(self) -> Mapping[str, Feed]: ...


class Judge:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.report = Report()
        self.clients: dict[str, ClientFacts] = {}
        self.order = TimeOrder(settings.tolerance)
        self.i3 = LegacyError(settings)
        self.i2 = Timing(settings)
        self.i4 = InvalidReplies()
        self.i6 = Delivery(settings.tolerance, wall_clock=not settings.virtual)
        # The order within one record only orders violations of the same line.
        rules: tuple[Rule, ...] = (
            RestoreFailed(),
            ChartPath(),
            Alternation(),
            self.i3,
            self.i2,
            self.i6,
            self.i4,
        )
        # kind -> the rules' handlers for it: each record goes only where it is read.
        routes: dict[str, list[Feed]] = {}
        for rule in rules:
            for kind, handler in rule.routes().items():
                for route in ROUTES_OF.get(kind, (kind,)):
                    routes.setdefault(route, []).append(handler)
        for kind in _LANDMARKS:  # a client's own (odd) landmark records are kept too
            routes.setdefault(kind, []).append(self._keep_landmark)
        self._routes = {kind: tuple(handlers) for kind, handlers in routes.items()}
        self.seen = 0  # records taken by feed_new
        self.fed = 0  # records taken by feed
        self._landmarks: list[TraceRecord] = []  # see _LANDMARKS
        self._mine: dict[str, list[TraceRecord]] = {}  # each client's records
        self._i4_clean: tuple[int, int, int] = (0, 0, 0)

    # -- records -------------------------------------------------------------------
    def feed(self, rec: TraceRecord) -> None:
        self.feed_all((rec,))

    def feed_all(self, records: Iterable[TraceRecord]) -> None:
        """Judge records in order (`feed` of each, without a call per record)."""
        order, report, clients, mine = self.order, self.report, self.clients, self._mine
        routes, landmarks, no_rules = self._routes, self._landmarks, ()
        fed = 0
        for rec in records:
            fed += 1
            if rec.t < order.last_t:  # time went back: by more than the tolerance?
                order.late(rec, report)
            else:
                order.last_t = rec.t
            src = rec.src
            facts = clients.get(src)
            if facts is None:
                if not src.startswith("client:"):
                    if rec.kind in _LANDMARKS:
                        landmarks.append(rec)
                    continue
                facts = clients[src] = ClientFacts(src)
                mine[src] = []
            mine[src].append(rec)
            kind = rec.kind
            if kind == "message":
                kind = INBOUND if rec.data.get("direction") == "in" else OUTBOUND
            for handle in routes.get(kind, no_rules):
                handle(rec, facts, report)
            if kind in FACT_KINDS:
                facts.apply(rec)
        self.fed += fed

    def _keep_landmark(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        self._landmarks.append(rec)

    def feed_new(self, records: Sequence[TraceRecord]) -> list[Violation]:
        """Judge the records added since the last call; the violations they broke."""
        before = len(self.report.found)
        # Line numbers as in the written file: the header is line 1.
        self.feed_all(
            replace(rec, line=number + 2) if rec.line == 0 else rec
            for number, rec in enumerate(records[self.seen :], start=self.seen)
        )
        self.seen = len(records)
        return self.report.found[before:]

    def invalid_replies_so_far(self, truth: Truth) -> list[Violation]:
        """I4 at this point of a run (what the machine asks after each step)."""
        if truth.foreign is None:
            return []
        # Nothing new on either side since a clean judgement: still clean.
        foreign = sum(len(times) for times in truth.foreign.values())
        books = (self.i4.total, len(self.i4.failed_at), foreign)
        if books == self._i4_clean:
            return []
        report = Report()
        self.i4.judge(truth.foreign, report)
        if not report.found:
            self._i4_clean = books
        return report.found

    # -- the end -------------------------------------------------------------------
    def finish(self, records: Sequence[TraceRecord], truth: Truth | None = None) -> Verdict:
        """Judge what needs the whole trace (and the truth); the verdict of every rule."""
        report = self.report
        during = len(report.found)
        self.i3.finish(self.clients, report)
        if not self.settings.cut:  # what was due after a cut is not known
            self.i2.finish(self.clients, self.order.last_t, report)
        if self.fed == len(records):  # what was fed: the records kept on the way
            landmarks: Sequence[TraceRecord] = self._landmarks
            mine = self._mine
        else:
            landmarks = records
            mine = {src: [] for src in self.clients}
            for rec in records:
                if rec.src in mine:
                    mine[rec.src].append(rec)
        windows = fault_windows(landmarks)
        where = Whereabouts.of(landmarks)
        for src, facts in self.clients.items():
            chat = (truth.chats.get(src) if truth else None) or facts.chat_id
            fault_timing(
                src,
                mine[src],
                chat=chat,
                windows=windows,
                where=where,
                settings=self.settings,
                end=self.order.last_t,
                report=report,
            )
        judged = ["I1", "I2", "I3", "I5", "I6", "I7"]
        if truth is not None and truth.foreign is not None:
            self.i4.judge(truth.foreign, report)
            judged.insert(3, "I4")
        self.i6.finish(self.clients, truth, self.order.last_t, report, cut=self.settings.cut)
        in_order = sorted(report.found[:during], key=lambda v: v.line)
        return Verdict(tuple(in_order + report.found[during:]), tuple(judged), (), len(records))

    def check(self, trace: Trace, truth: Truth | None = None) -> Verdict:
        """Judge a whole trace at once."""
        self.i3.prescan(trace.records)
        self.feed_all(trace.records)
        verdict = self.finish(trace.records, truth)
        warnings = trace.warnings
        if self.settings.cut:
            warnings += (
                f"{trace.source}:1: truncated: the trace stops before the session did; "
                "messages and events still due at its end are not judged",
            )
        return replace(verdict, warnings=warnings)
