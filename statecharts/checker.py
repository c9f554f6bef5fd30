"""The conformance checker: judges a trace against the chart and the invariants.

It replays every client's events in order and reports each broken rule with
the line, the event, the rule and what was expected. What a trace can judge:

- I1  `interrupted`/`continued` alternate, starting with `interrupted`;
- I2  `interrupted` comes `interrupt_after` after the loss began. The loss
      start is taken from `loss` events or `connection_lost` state changes
      when present; an application-only trace still fixes it through the next
      `continued` (loss start = its time minus its duration);
- I3  with the legacy flag on, one `error` 150 with each `interrupted`;
- I5  after `error` 152 only `ended`/`failed` follow for that client;
- I6  (inbound order) `message in` indexes arrive once each, in order, no gaps;
- I7  `state` events follow the statechart.

Virtual-time traces (header `clock: virtual`) are judged to the microsecond;
other traces with a tolerance, since a real clock and a real browser jitter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from statecharts.catalog import ErrorCode
from statecharts.chart import LOST, State, Trigger, dest_of
from statecharts.events import APP_KINDS
from statecharts.trace import Trace, TraceRecord

RULES = {
    "order": "trace times never go backwards",
    "I1": "interrupted/continued strictly alternate, starting with interrupted",
    "I2": "interrupted fires once the connection was lost for interrupt_after",
    "I3": "with the legacy flag on, one error 150 comes with each interrupted",
    "I5": "after error 152 only ended/failed follow for that session",
    "I6": "inbound transcript events arrive exactly once, in order",
    "I7": "the state sequence is a path of the statechart",
}
VIRTUAL_TOLERANCE = 1e-6
WALL_TOLERANCE = 0.25
_ENDING_TRIGGERS = {Trigger.END.value, Trigger.FAIL.value, Trigger.RESTORE_FAILED.value}


@dataclass(frozen=True)
class Violation:
    line: int
    rule: str
    event: str
    expected: str

    def describe(self) -> str:
        return (
            f"line {self.line}: {self.event} breaks {self.rule} ({RULES[self.rule]}): "
            f"expected {self.expected}"
        )


@dataclass(frozen=True)
class CheckSettings:
    interrupt_after: float = 3.0
    tolerance: float = WALL_TOLERANCE
    interruption_error: bool | None = None  # None: infer from the trace


@dataclass
class _Client:
    """What the checker knows about one client while replaying its events."""

    src: str
    state: State | None = None
    told: int | None = None  # line of the open `interrupted`
    told_at: float = 0.0
    error150: bool = False
    lost_since: float | None = None
    last_index: int | None = None
    finished_by_152: bool = False


@dataclass
class Checker:
    settings: CheckSettings
    violations: list[Violation] = field(default_factory=list)
    clients: dict[str, _Client] = field(default_factory=dict)
    uses_150: set[str] = field(default_factory=set)
    last_t: float = 0.0

    def check(self, trace: Trace) -> list[Violation]:
        """Judge a whole trace at once."""
        for rec in trace.records:
            if rec.kind == "error" and rec.data.get("code") == ErrorCode.NETWORK_INTERRUPTED:
                self.uses_150.add(rec.src)
        for rec in trace.records:
            self.feed(rec)
        return self.finish()

    def feed(self, rec: TraceRecord) -> None:
        """Judge one more record (for callers that watch a run as it goes)."""
        if rec.t + self.settings.tolerance < self.last_t:
            self._fail(rec, "order", f"t >= {self.last_t}")
        self.last_t = max(self.last_t, rec.t)
        if rec.client is not None:
            if rec.kind == "error" and rec.data.get("code") == ErrorCode.NETWORK_INTERRUPTED:
                self.uses_150.add(rec.src)
            self._judge(rec)

    def finish(self) -> list[Violation]:
        """Close open outages at the end of the trace; all violations, by line."""
        for src, client in self.clients.items():
            self._finish(src, client, self.last_t)
        return sorted(self.violations, key=lambda v: v.line)

    # -- per event -------------------------------------------------------
    def _judge(self, rec: TraceRecord) -> None:
        client = self.clients.setdefault(rec.src, _Client(rec.src))
        # I5 concerns what the application sees; diagnostics (a send_failed for
        # a message the ended session could not deliver) may still follow.
        if client.finished_by_152 and rec.kind in APP_KINDS and not _ends_session(rec):
            self._fail(rec, "I5", "only ended or a state change to ended/failed after error 152")
        handler = getattr(self, "_on_" + rec.kind.replace(".", "_"), None)
        if handler is not None:
            handler(rec, client)

    def _on_loss(self, rec: TraceRecord, client: _Client) -> None:
        # A transport writes `loss` once per outage, so a second one while no
        # interruption is open means the previous outage ended unseen.
        if client.lost_since is None or client.told is None:
            client.lost_since = rec.t

    def _on_state(self, rec: TraceRecord, client: _Client) -> None:
        src, to, trigger = rec.data["from"], rec.data["to"], rec.data["trigger"]
        try:
            before, after, fired = State(src), State(to), Trigger(trigger)
        except ValueError:
            self._fail(rec, "I7", "known state and trigger names")
            return
        if client.state is not None and before != client.state:
            self._fail(rec, "I7", f"a transition from the current state '{client.state.value}'")
        if dest_of(before, fired) != after:
            self._fail(rec, "I7", f"a row '{trigger}' from '{src}' in the chart")
        client.state = after
        if fired == Trigger.CONNECTION_LOST and client.lost_since is None:
            client.lost_since = rec.t
        if after == State.READY or after in (State.ENDED, State.FAILED):
            self._session_works(rec, client, ended=after != State.READY)

    def _on_interrupted(self, rec: TraceRecord, client: _Client) -> None:
        if client.told is not None:
            self._fail(rec, "I1", f"a continued after the interrupted of line {client.told}")
        self._close_interruption(client)
        client.told, client.told_at, client.error150 = rec.line, rec.t, False
        if client.lost_since is not None:
            due = client.lost_since + self.settings.interrupt_after
            if abs(rec.t - due) > self.settings.tolerance:
                self._fail(rec, "I2", f"t = {due:g} (loss began at {client.lost_since:g})")

    def _on_continued(self, rec: TraceRecord, client: _Client) -> None:
        duration = float(rec.data["duration"])
        if client.told is None:
            self._fail(rec, "I1", "an interrupted before it")
            return
        began = rec.t - duration
        due = began + self.settings.interrupt_after
        if abs(client.told_at - due) > self.settings.tolerance:
            self._fail(
                rec,
                "I2",
                f"the interrupted of line {client.told} at t = {due:g}, "
                f"interrupt_after past the loss start {began:g} implied by this duration",
            )
        self._close_interruption(client)
        client.told = None
        client.lost_since = None

    def _on_error(self, rec: TraceRecord, client: _Client) -> None:
        code = rec.data["code"]
        if code == ErrorCode.NETWORK_INTERRUPTED:
            self._on_error_150(rec, client)
        elif code == ErrorCode.RESTORE_FAILED:
            client.finished_by_152 = True

    def _on_error_150(self, rec: TraceRecord, client: _Client) -> None:
        if self.settings.interruption_error is False:
            self._fail(rec, "I3", "no error 150: the legacy interruption error is off")
        elif client.told is None or abs(rec.t - client.told_at) > self.settings.tolerance:
            self._fail(rec, "I3", "error 150 only together with an interrupted")
        elif client.error150:
            self._fail(rec, "I3", f"one error 150 for the interrupted of line {client.told}")
        client.error150 = True

    def _on_ready(self, rec: TraceRecord, client: _Client) -> None:
        self._session_works(rec, client, ended=False)

    def _on_restored(self, rec: TraceRecord, client: _Client) -> None:
        self._session_works(rec, client, ended=False)

    def _on_message(self, rec: TraceRecord, client: _Client) -> None:
        if rec.data["direction"] != "in":
            return
        self._session_works(rec, client, ended=False)
        index = int(rec.data["index"])
        last = client.last_index
        if last is not None:
            if index == last:
                self._fail(rec, "I6", f"index {last + 1}; index {index} was already delivered")
            elif index < last:
                self._fail(rec, "I6", f"index {last + 1}; index {index} arrives out of order")
            elif index > last + 1:
                self._fail(rec, "I6", f"index {last + 1}; indexes {last + 1}..{index - 1} missed")
        client.last_index = index if last is None else max(last, index)

    # -- outage bookkeeping ---------------------------------------------
    def _session_works(self, rec: TraceRecord, client: _Client, *, ended: bool) -> None:
        lost = client.lost_since
        if lost is not None and client.told is None and not ended:
            due = lost + self.settings.interrupt_after
            if rec.t >= due + self.settings.tolerance:
                self._fail(rec, "I2", f"an interrupted at t = {due:g} (loss began at {lost:g})")
        if client.told is None:
            client.lost_since = None

    def _close_interruption(self, client: _Client) -> None:
        if client.told is None or client.error150 or not self._wants_150(client):
            return
        self.violations.append(
            Violation(client.told, "I3", "interrupted", "an error 150 at the same time")
        )
        client.error150 = True

    def _wants_150(self, client: _Client) -> bool:
        if self.settings.interruption_error is not None:
            return self.settings.interruption_error
        return client.src in self.uses_150

    def _finish(self, src: str, client: _Client, end: float) -> None:
        self._close_interruption(client)
        lost = client.lost_since
        still_lost = client.state in LOST or client.state == State.RESTORING
        if lost is not None and client.told is None and still_lost:
            due = lost + self.settings.interrupt_after
            if end >= due + self.settings.tolerance:
                self.violations.append(
                    Violation(0, "I2", f"{src} end of trace", f"an interrupted at t = {due:g}")
                )

    def _fail(self, rec: TraceRecord, rule: str, expected: str) -> None:
        self.violations.append(Violation(rec.line, rule, _show(rec), expected))


def _ends_session(rec: TraceRecord) -> bool:
    if rec.kind in ("ended", "loss"):
        return True
    return rec.kind == "state" and rec.data.get("trigger") in _ENDING_TRIGGERS


def _show(rec: TraceRecord) -> str:
    body: dict[str, Any] = {"t": rec.t, "src": rec.src, "kind": rec.kind, **rec.data}
    return json.dumps(body, separators=(",", ":"))


def settings_for(
    trace: Trace, interrupt_after: float | None = None, tolerance: float | None = None
) -> CheckSettings:
    """Settings from the command line, else the run header, else the defaults."""
    extra = trace.header.extra if trace.header else {}
    virtual = extra.get("clock") == "virtual"
    ia = interrupt_after if interrupt_after is not None else extra.get("interrupt_after", 3.0)
    legacy = extra.get("interruption_error")
    tol = tolerance if tolerance is not None else (VIRTUAL_TOLERANCE if virtual else WALL_TOLERANCE)
    return CheckSettings(float(ia), tol, legacy if isinstance(legacy, bool) else None)


def check_trace(
    trace: Trace, interrupt_after: float | None = None, tolerance: float | None = None
) -> list[Violation]:
    return Checker(settings_for(trace, interrupt_after, tolerance)).check(trace)
