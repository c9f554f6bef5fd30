"""A Hypothesis strategy for legal transport traces, generated from the chart.

It plays an abstract transport on the statechart: random waits, losses of
random length, reloads, restores, transcript deliveries and ends, writing the
events a correct transport would write. Times are multiples of 0.25 s so
they are exact in binary floating point.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from statecharts.chart import Chart, State, Trigger
from statecharts.trace import RunHeader, Trace, TraceRecord

IA = 3.0
SRC = "client:c1"


class _Writer:
    def __init__(self, with_state: bool) -> None:
        self.chart = Chart()
        self.records: list[TraceRecord] = []
        self.with_state = with_state
        self.t = 0.0
        self.index = 0

    def add(self, t: float, kind: str, **data: Any) -> None:
        self.records.append(TraceRecord(t, SRC, kind, data, line=len(self.records) + 2))

    def fire(self, t: float, trigger: Trigger) -> None:
        before, after = self.chart.fire(trigger)
        if self.with_state:
            self.add(
                t, "state", **{"from": before.value, "to": after.value, "trigger": trigger.value}
            )

    def deliver(self, count: int) -> None:
        for _ in range(count):
            self.t += 0.25
            self.index += 1
            self.add(self.t, "message", direction="in", index=self.index, id=f"m{self.index}")


@st.composite
def legal_traces(draw: st.DrawFn, with_state: bool | None = None) -> Trace:
    states = draw(st.booleans()) if with_state is None else with_state
    w = _Writer(states)
    if draw(st.booleans()):
        w.fire(0.0, Trigger.START)
        w.fire(0.25, Trigger.HANDSHAKE_OK)
        w.fire(0.5, Trigger.SERVER_READY)
        w.t = 0.5
        w.add(w.t, "ready", chatId="chat-1")
    else:
        w.fire(0.0, Trigger.RESTORE)
        _restore_done(w, 0.5, draw(st.integers(0, 3)))
    for _ in range(draw(st.integers(0, 8))):
        if w.chart.current is not State.READY:
            break
        step = draw(st.sampled_from(["deliver", "outage", "reload", "rehandshake"]))
        if step == "deliver":
            w.deliver(draw(st.integers(1, 3)))
        elif step == "outage":
            _outage(w, draw(st.integers(1, 40)) * 0.25, draw(st.booleans()))
        elif step == "reload":
            w.t += 0.25
            w.fire(w.t, Trigger.RELOAD)
            _restore_done(w, w.t + 0.5, draw(st.integers(0, 2)))
        else:
            w.t += 0.25
            w.fire(w.t, Trigger.REHANDSHAKE)
            _restore_done(w, w.t + 0.5, 0)
    _finish(w, draw(st.sampled_from(["end", "152", "open"])))
    header = RunHeader("generated", 0, extra={"clock": "virtual", "interrupt_after": IA})
    return Trace(header, tuple(w.records))


def _restore_done(w: _Writer, t: float, replay: int) -> None:
    w.t = t
    w.fire(t, Trigger.RESTORED)
    w.add(t, "restored", instance="i1", position=w.index, replayed=replay)
    w.deliver(replay)


def _outage(w: _Writer, length: float, failover: bool) -> None:
    lost = w.t + 0.25
    if w.with_state:  # `loss` is a transport diagnostic, written beside state events
        w.add(lost, "loss", reason="closed")
    w.fire(lost, Trigger.CONNECTION_LOST)
    back = lost + length
    interrupted = length >= IA
    if interrupted:
        due = lost + IA
        w.fire(due, Trigger.INTERRUPT_TIMEOUT)
        w.add(due, "interrupted")
        w.add(due, "error", code=150, description="Network connection interrupted")
    if failover:
        switch = lost + min(length, IA) if not interrupted else lost + IA
        w.add(switch, "error", code=100, description="Chat Server is not available")
        w.fire(switch, Trigger.FAILOVER)
        w.fire(back, Trigger.RESTORED)
        w.add(back, "restored", instance="i2", position=w.index, replayed=0)
    else:
        w.fire(back, Trigger.RECONNECTED)
    if interrupted:
        w.add(back, "continued", duration=length)
    w.t = back


def _finish(w: _Writer, how: str) -> None:
    if w.chart.current is not State.READY or how == "open":
        return
    w.t += 0.25
    if how == "end":
        w.fire(w.t, Trigger.END)
        w.add(w.t, "ended", reason="client")
        return
    w.fire(w.t, Trigger.RELOAD)
    w.add(w.t + 0.5, "error", code=152, description="Session restoration failed")
    w.fire(w.t + 0.5, Trigger.RESTORE_FAILED)
    w.add(w.t + 0.5, "ended", reason="restore_failed")
