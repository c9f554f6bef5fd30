"""The transport statechart: the one model of what a correct chat transport does.

Theory of operation
-------------------
A chat transport is in exactly one of nine states (DESIGN §2). `TRANSITIONS`
below is the whole table: each row is (trigger, sources, destination, guard).
A trigger names *why* the state changes — the transport core fires it, the
trace records it in `state {from, to, trigger}`, and the conformance checker
replays a trace's triggers on a fresh `Chart` to prove the path is legal (I7).
The Mermaid/DOT diagrams are drawn from the same rows.

The life of a session:

    idle ─start→ connecting ─handshake_ok→ opening ─server_ready→ ready
    ready ─connection_lost→ reconnecting ─reconnected→ ready   (short outage: silent)
    reconnecting ─interrupt_timeout→ interrupted ─reconnected→ ready
                                   (the application hears interrupted/continued)
    reconnecting|interrupted ─failover→ restoring ─restored→ ready
                                   (another Chat Server instance, from the saved position)
    idle ─restore→ restoring            (page start from saved client state)
    any live state ─reload→ restoring   (page reload)
    restoring ─restore_failed→ failed   (the session is gone: error 152)

`restoring` and `reconnecting` both count as "lost" for the interruption
timer: `interrupt_timeout` may fire from either once the connection has been
lost continuously for `interrupt_after` seconds; that is the only guarded row.
Retries inside a state (another backoff round, another instance) are not
transitions: they change nothing the application can see.

Timers are data too (`TIMER_SPECS`): which states arm a timer, which setting
gives its length and which trigger it fires. No clock is read here; callers
pass `now`-derived values as trigger context.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from transitions import Machine

from statecharts.errors import IllegalTransition


class State(StrEnum):
    IDLE = "idle"
    CONNECTING = "connecting"
    OPENING = "opening"
    READY = "ready"
    RECONNECTING = "reconnecting"
    INTERRUPTED = "interrupted"
    RESTORING = "restoring"
    ENDED = "ended"
    FAILED = "failed"


class Trigger(StrEnum):
    START = "start"
    RESTORE = "restore"
    HANDSHAKE_OK = "handshake_ok"
    SERVER_READY = "server_ready"
    CONNECTION_LOST = "connection_lost"
    INTERRUPT_TIMEOUT = "interrupt_timeout"
    RECONNECTED = "reconnected"
    REHANDSHAKE = "rehandshake"
    FAILOVER = "failover"
    RESTORED = "restored"
    RESTORE_FAILED = "restore_failed"
    RELOAD = "reload"
    END = "end"
    FAIL = "fail"


TERMINAL = frozenset({State.ENDED, State.FAILED})
LIVE = (
    State.CONNECTING,
    State.OPENING,
    State.READY,
    State.RECONNECTING,
    State.INTERRUPTED,
    State.RESTORING,
)
# States in which the connection counts as lost for the interruption timer.
LOST = frozenset({State.RECONNECTING, State.INTERRUPTED})
EPSILON = 1e-6


@dataclass(frozen=True)
class Transition:
    trigger: Trigger
    sources: tuple[State, ...]
    dest: State
    guard: str | None = None
    note: str = ""


TRANSITIONS: tuple[Transition, ...] = (
    Transition(Trigger.START, (State.IDLE,), State.CONNECTING, note="start a chat: handshake"),
    Transition(Trigger.RESTORE, (State.IDLE,), State.RESTORING, note="page start from saved state"),
    Transition(Trigger.HANDSHAKE_OK, (State.CONNECTING,), State.OPENING, note="channel open"),
    Transition(Trigger.SERVER_READY, (State.OPENING,), State.READY, note="requestChat accepted"),
    Transition(
        Trigger.CONNECTION_LOST,
        (State.CONNECTING, State.OPENING, State.READY),
        State.RECONNECTING,
        note="first observed failure starts the outage",
    ),
    Transition(
        Trigger.INTERRUPT_TIMEOUT,
        (State.RECONNECTING, State.RESTORING),
        State.INTERRUPTED,
        guard="outage_reached",
        note="lost for interrupt_after: tell the application",
    ),
    Transition(
        Trigger.RECONNECTED,
        (State.RECONNECTING, State.INTERRUPTED),
        State.READY,
        note="same session, same instance",
    ),
    Transition(
        Trigger.REHANDSHAKE,
        (State.READY, State.RECONNECTING, State.INTERRUPTED),
        State.RESTORING,
        note="server forgot the client: handshake again, resume from position",
    ),
    Transition(
        Trigger.FAILOVER,
        (State.RECONNECTING, State.INTERRUPTED),
        State.RESTORING,
        note="instance stopped answering: restore on another (error 100 notice)",
    ),
    Transition(
        Trigger.RESTORED,
        (State.RESTORING, State.INTERRUPTED),
        State.READY,
        note="session resumed from its transcript position",
    ),
    Transition(
        Trigger.RESTORE_FAILED,
        (State.RESTORING, State.INTERRUPTED),
        State.FAILED,
        note="session gone on the server: error 152",
    ),
    Transition(Trigger.RELOAD, LIVE, State.RESTORING, note="page reload: restore from cookie"),
    Transition(Trigger.END, LIVE, State.ENDED, note="chat ended by either side"),
    Transition(Trigger.FAIL, LIVE, State.FAILED, note="unrecoverable: login failed, advice none"),
)


@dataclass(frozen=True)
class TimerSpec:
    name: str
    setting: str
    armed_in: frozenset[State]
    fires: Trigger | None
    note: str


TIMER_SPECS: tuple[TimerSpec, ...] = (
    TimerSpec(
        "interrupt",
        "interrupt_after",
        frozenset({State.RECONNECTING, State.RESTORING}),
        Trigger.INTERRUPT_TIMEOUT,
        "started at the first observed failure; not restarted by retries",
    ),
    TimerSpec(
        "request",
        "max_network_delay",
        frozenset(LIVE),
        Trigger.CONNECTION_LOST,
        "a request unanswered past hold + max_network_delay counts as a failure",
    ),
    TimerSpec(
        "backoff",
        "backoff_increment",
        frozenset({State.RECONNECTING, State.INTERRUPTED, State.RESTORING}),
        None,
        "delay before the next attempt: grows by backoff_increment up to max_backoff",
    ),
)


@dataclass(frozen=True)
class Timers:
    """Timer settings of one transport (DESIGN §2 defaults), in seconds."""

    interrupt_after: float = 3.0
    max_network_delay: float = 10.0
    long_poll_hold: float = 30.0
    backoff_increment: float = 1.0
    max_backoff: float = 60.0
    jitter: bool = False

    def backoff(self, failures: int, rng: random.Random | None = None) -> float:
        """Delay before retry number `failures` (0 = first retry: immediate)."""
        delay = min(self.max_backoff, self.backoff_increment * max(0, failures))
        if self.jitter and rng is not None and delay > 0:
            return rng.uniform(0.0, delay)
        return delay


class Chart:
    """One running statechart. The transport drives it; the checker replays on it."""

    # Bound by `transitions` when the model is added to the shared machine.
    trigger: Callable[..., bool]

    def __init__(self, initial: State = State.IDLE) -> None:
        self.state: str = initial.value
        _machine_for(self, initial)

    @property
    def current(self) -> State:
        return State(self.state)

    def can(self, trigger: Trigger | str) -> bool:
        return dest_of(self.current, Trigger(trigger)) is not None

    def fire(self, trigger: Trigger | str, **context: Any) -> tuple[State, State]:
        """Take a transition; context feeds guards (lost_for, interrupt_after)."""
        before = self.current
        name = Trigger(trigger).value
        if not self.can(name):
            raise IllegalTransition(before.value, name)
        if not self.trigger(name, **context):
            raise IllegalTransition(before.value, f"{name} (guard refused)")
        return before, self.current

    @staticmethod
    def outage_reached(event: Any) -> bool:
        lost_for = event.kwargs.get("lost_for")
        threshold = event.kwargs.get("interrupt_after")
        if lost_for is None or threshold is None:
            return True
        return bool(lost_for >= threshold - EPSILON)


def dest_of(state: State, trigger: Trigger) -> State | None:
    return _TABLE.get((state, trigger))


def triggers_from(state: State) -> list[Trigger]:
    return [t for (s, t) in _TABLE if s == state]


_TABLE: dict[tuple[State, Trigger], State] = {
    (source, row.trigger): row.dest for row in TRANSITIONS for source in row.sources
}


_MACHINES: list[Machine] = []


def _machine_for(model: Chart, initial: State) -> Machine:
    """Bind `model` to the one shared machine without being remembered by it.

    Building a machine (states, events, transitions) per chart cost more than a
    whole simulated minute of protocol work. The machine's events and states do
    not depend on the model: the triggers bound on the model carry it along. The
    machine then forgets the model, so finished charts are freed with their owner.
    """
    if not _MACHINES:
        _MACHINES.append(
            Machine(
                model=None,
                states=_STATE_NAMES,
                transitions=_rows(),
                initial=State.IDLE.value,
                auto_transitions=False,
                send_event=True,
                ignore_invalid_triggers=False,
                model_attribute="state",
            )
        )
    machine = _MACHINES[0]
    machine.add_model(model, initial=initial.value)
    machine.remove_model(model)
    return machine


_STATE_NAMES = [s.value for s in State]


def _rows() -> list[dict[str, Any]]:
    return [
        {
            "trigger": row.trigger.value,
            "source": [s.value for s in row.sources],
            "dest": row.dest.value,
            **({"conditions": row.guard} if row.guard else {}),
        }
        for row in TRANSITIONS
    ]


def interrupt_deadline(lost_since: float, timers: Timers) -> float:
    return lost_since + timers.interrupt_after


def is_finite_time(value: float) -> bool:
    return math.isfinite(value) and value >= 0
