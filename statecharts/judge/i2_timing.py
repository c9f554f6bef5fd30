"""I2: `interrupted` fires iff the connection was lost continuously for `interrupt_after`.

Two sources fix when a loss began:

- the client's own records (`loss`, a `state` change by `connection_lost`,
  or a `continued` whose `duration` implies its start): judged record by
  record (`Timing.feed`) and at the end of the trace;
- the injected faults (`fault.start` records, `fault_timing`): a fault that
  cuts a working session fixes the loss start at the fault's start, whatever
  the client says. In virtual time only an `outage` of every instance does
  (the network tells both ends at once; anything else reaches the client a
  latency later, and the client's own records time it). On a wall clock an
  `outage` and a `crash` of the instance serving the session do too. A cut
  lasting at least `interrupt_after` demands an `interrupted` at its start
  + `interrupt_after` (± tolerance), unless the session worked again before
  (a failover restored it) or finished. In a live trace (which holds every
  fault the server injected) every `interrupted` must also be explained by
  a fault window that impairs the session, began at least `interrupt_after`
  (minus the tolerance) before it and was not over by then.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence

from statecharts.chart import TERMINAL, State
from statecharts.judge.facts import (
    INBOUND,
    PHASE_KINDS,
    WORKS_AGAIN_TRIGGERS,
    ClientFacts,
    Feed,
    works_again,
)
from statecharts.judge.settings import Settings
from statecharts.judge.verdict import Report
from statecharts.judge.windows import FaultWindow, Whereabouts
from statecharts.trace import TraceRecord

# Faults that can make a session lose its connection (explain an interruption).
IMPAIRING = frozenset(
    {"outage", "crash", "blackhole", "loss", "latency", "slow", "corrupt", "reorder"}
)
_FINISHED = frozenset(s.value for s in TERMINAL)


class Timing:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def routes(self) -> dict[str, Feed]:
        return {
            "interrupted": self._interrupted,
            "continued": self._continued,
            "state": self._state,
            "ready": self._works,
            "restored": self._works,
            INBOUND: self._works,
        }

    def _interrupted(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        if facts.lost_since is not None:
            due = facts.lost_since + self.settings.timers(rec.src).interrupt_after
            if abs(rec.t - due) > self.settings.tolerance:
                report.fail(rec, "I2", f"t = {due:g} (loss began at {facts.lost_since:g})")

    def _continued(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        if facts.told is None:
            return
        began = rec.t - float(rec.data["duration"])
        due = began + self.settings.timers(rec.src).interrupt_after
        if abs(facts.told_at - due) > self.settings.tolerance:
            report.fail(
                rec,
                "I2",
                f"the interrupted of line {facts.told} at t = {due:g}, "
                f"interrupt_after past the loss start {began:g} implied by this duration",
            )

    def _state(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        if rec.data.get("trigger") in WORKS_AGAIN_TRIGGERS:
            self._works(rec, facts, report)

    def _works(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        """The session works: a loss this long should have been told by now."""
        lost = facts.lost_since
        if lost is not None and facts.told is None:
            due = lost + self.settings.timers(rec.src).interrupt_after
            if rec.t >= due + self.settings.tolerance:
                report.fail(rec, "I2", f"an interrupted at t = {due:g} (loss began at {lost:g})")

    def finish(self, clients: Mapping[str, ClientFacts], end: float, report: Report) -> None:
        """A loss still open at the end of the trace, long enough to have interrupted."""
        for src, facts in clients.items():
            lost = facts.lost_since
            if lost is None or facts.told is not None or facts.state is None:
                continue
            if facts.still_lost:
                due = lost + self.settings.timers(src).interrupt_after
                if end >= due + self.settings.tolerance:
                    report.add("I2", f"{src} end of trace", f"an interrupted at t = {due:g}")


def fault_timing(
    src: str,
    mine: Sequence[TraceRecord],
    *,
    chat: str | None,
    windows: Sequence[FaultWindow],
    where: Whereabouts,
    settings: Settings,
    end: float,
    report: Report,
) -> None:
    """I2 against the injected faults, for one client (its records `mine`) up to `end`."""
    judge = _FaultJudge(src, chat, mine, where, settings, end=end)
    for window in windows:
        judge.demand(window, report)
    if settings.live:
        for rec in mine:
            if rec.kind == "interrupted" and not any(judge.explains(w, rec.t) for w in windows):
                began = rec.t - judge.threshold
                report.fail(
                    rec,
                    "I2",
                    f"a fault impairing this session (outage, crash, blackhole, ...) that "
                    f"began by t={began:g} (± {settings.tolerance:g}) and lasted until "
                    "then; the trace has none",
                )


class _FaultJudge:
    def __init__(
        self,
        src: str,
        chat: str | None,
        mine: Sequence[TraceRecord],
        where: Whereabouts,
        settings: Settings,
        *,
        end: float,
    ) -> None:
        self.end = end
        self.src = src
        self.client_id = src[len("client:") :]
        self.chat = chat
        self.mine = mine
        self.where = where
        self.settings = settings
        self.threshold = settings.timers(src).interrupt_after
        self._phases: _Phases | None = None  # built on the first window that asks

    def _phase_at(self, t: float) -> str:
        return self._known().at(t)

    def _known(self) -> _Phases:
        if self._phases is None:
            self._phases = _Phases(self.mine)
        return self._phases

    def _aimed_here(self, window: FaultWindow) -> bool | None:
        """Is the fault aimed at this session? None: it names something we cannot place."""
        client = window.names("client")
        if client is not None and client not in (self.client_id, self.chat):
            # Another known chat: not ours. Anything else (a Bayeux clientId): maybe.
            return False if client in self.where.chats else None
        instance = window.names("instance")
        if instance is None:
            return True
        serving = self.where.instance_at(self.chat, window.start)
        return None if serving is None else serving == instance

    def _cuts(self, window: FaultWindow) -> bool:
        if window.kind == "outage":
            if self.settings.virtual:
                return window.names("instance") is None and self._aimed_here(window) is True
            return self._aimed_here(window) is True
        if window.kind == "crash" and not self.settings.virtual:
            return window.names("instance") is not None and self._aimed_here(window) is True
        return False

    def demand(self, window: FaultWindow, report: Report) -> None:
        if not self._cuts(window):
            return
        tolerance = self.settings.tolerance
        margin = 0.0 if self.settings.virtual else tolerance
        start = window.start
        if window.length < self.threshold + margin or self._phase_at(start) != "ready":
            return
        due = start + self.threshold
        if due - tolerance > self.end:
            return  # the trace stops before the interruption was due
        if self._phase_at(due) in _FINISHED:
            return  # the session finished first: nothing to interrupt
        if any(start < t < due - tolerance for t in self._known().again):
            return  # it worked again before the threshold (a failover restored it)
        told = [r for r in self._known().told if start <= r.t <= due + tolerance]
        if not any(abs(r.t - due) <= tolerance for r in told):
            when = ", ".join(f"{r.t:g}" for r in told) or "none by then"
            report.add(
                "I2",
                f"{self.src}: the {window.kind} from t={start:g} cut the ready connection, "
                f"so interrupted was due at t={due:g}",
                f"an interrupted at t={due:g} (seen: {when})",
                line=window.line,
                t=start,
            )

    def explains(self, window: FaultWindow, t: float) -> bool:
        if window.kind not in IMPAIRING or self._aimed_here(window) is False:
            return False
        tolerance = self.settings.tolerance
        return (
            window.start + self.threshold - tolerance
            <= t
            <= (window.end + self.threshold + tolerance)
        )


class _Phases:
    """A client's phase just before any time: its facts replayed once, looked up by bisection.

    `at(t)` is the phase after the records before the first one at or past
    `t` (less a microsecond), as a replay from the start would give it; the
    running maximum of the times keeps that exact when a wall-clock trace
    is not in time order. Only records that can change the phase
    (`PHASE_KINDS`) are replayed and kept, each with the running maximum up
    to it: the records before a time are a prefix, so the phase-changing
    ones among them are a prefix of those kept. The same pass notes when the
    session worked again (`works_again`) and its `interrupted` records (both
    phase kinds).
    """

    def __init__(self, mine: Sequence[TraceRecord]) -> None:
        facts = ClientFacts("")
        self.reach: list[float] = []  # running maximum of the times, at each kept record
        self.after: list[str] = [_phase_of(facts)]  # phase after the first n kept records
        self.again: list[float] = []  # times of the records that show it working again
        self.told: list[TraceRecord] = []  # its interrupted records
        latest = float("-inf")
        for rec in mine:
            t = rec.t
            latest = max(latest, t)
            if rec.kind in PHASE_KINDS:
                self.reach.append(latest)
                if works_again(rec):
                    self.again.append(t)
                if rec.kind == "interrupted":
                    self.told.append(rec)
                facts.apply(rec)
                self.after.append(_phase_of(facts))

    def at(self, t: float) -> str:
        return self.after[bisect_left(self.reach, t - 1e-6)]


def _phase_of(facts: ClientFacts) -> str:
    if facts.state is None and not facts.ever_ready and facts.app_phase == "idle":
        return State.IDLE.value
    return facts.phase
