"""The transport statechart: the one model of what a correct chat transport does.

Theory of operation
-------------------
A chat transport is in exactly one of nine *leaf* states (the contract's
names: they appear in events and traces). Leaves are grouped into compound
states, so that one row can leave a whole group:

    live ── up ──── connecting, opening, ready      (no outage going on)
         ├─ lost ── reconnecting, interrupted       (connection lost, retrying)
         └─ restoring
    finished ── ended, failed

`TRANSITIONS` is the whole table: each row is (trigger, sources, destination,
guard); a source may be a compound state (the row then leaves every leaf in
it). `IGNORED` lists the tolerated no-ops: triggers a state takes without
moving (a second failure while already lost, ...). Any other trigger is
illegal: the transport core fires every trigger unconditionally, so an
illegal one is a bug and raises `IllegalTransition`. The conformance checker
replays a trace's `state {from, to, trigger}` records against the same rows
(I7), and the diagrams are drawn from them.

The life of a session:

    idle ─start→ connecting ─handshake_ok→ opening ─server_ready→ ready
    up ─connection_lost→ reconnecting ─reconnected→ ready   (short outage: silent)
    reconnecting ─interrupt_timeout→ interrupted ─reconnected→ ready
    lost ─failover→ restoring ─restored→ ready   (another Chat Server instance)
    idle ─restore→ restoring                     (page start from saved state)
    live ─reload→ restoring · live ─end→ ended · live ─fail→ failed
    restoring ─restore_failed→ failed            (the session is gone: error 152)

Timers are data too: `TIMER_TABLE` says which states arm each timer, which
setting gives its length and what it fires (`INTERRUPT_ARMED_IN`: where the
interruption timer runs). `WORKS_AGAIN` names the triggers that mean "the
session works again" (they end an outage: `continued` if it was told);
`works_again_trigger(state)` is the one to fire from each state. The core and
the checker both read these. No clock is read here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from transitions import Machine

from statecharts.errors import IllegalTransition


class State(StrEnum):
    """Leaf states: the contract's names."""

    IDLE = "idle"
    CONNECTING = "connecting"
    OPENING = "opening"
    READY = "ready"
    RECONNECTING = "reconnecting"
    INTERRUPTED = "interrupted"
    RESTORING = "restoring"
    ENDED = "ended"
    FAILED = "failed"


class Compound(StrEnum):
    """Compound states: groups of leaves a row may leave at once (never in traces)."""

    LIVE = "live"
    UP = "up"
    LOST = "lost"
    FINISHED = "finished"


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


Node = State | Compound

# The hierarchy: each compound state's children, outermost first.
CHILDREN: Mapping[Compound, tuple[Node, ...]] = {
    Compound.LIVE: (Compound.UP, Compound.LOST, State.RESTORING),
    Compound.UP: (State.CONNECTING, State.OPENING, State.READY),
    Compound.LOST: (State.RECONNECTING, State.INTERRUPTED),
    Compound.FINISHED: (State.ENDED, State.FAILED),
}
# Top-level nodes, in drawing order.
ROOTS: tuple[Node, ...] = (State.IDLE, Compound.LIVE, Compound.FINISHED)


def leaves(node: Node) -> tuple[State, ...]:
    """The leaf states under `node` (a leaf is its own only leaf)."""
    if isinstance(node, State):
        return (node,)
    return tuple(leaf for child in CHILDREN[node] for leaf in leaves(child))


def leaves_of(nodes: tuple[Node, ...]) -> tuple[State, ...]:
    return tuple(leaf for node in nodes for leaf in leaves(node))


def parent_of(node: Node) -> Compound | None:
    for compound, children in CHILDREN.items():
        if node in children:
            return compound
    return None


LIVE = leaves(Compound.LIVE)
TERMINAL = frozenset(leaves(Compound.FINISHED))
# The connection is lost and being retried (the compound `lost`).
LOST = frozenset(leaves(Compound.LOST))
EPSILON = 1e-6


@dataclass(frozen=True)
class Transition:
    trigger: Trigger
    sources: tuple[Node, ...]
    dest: State
    guard: str | None = None
    note: str = ""

    @property
    def leaf_sources(self) -> tuple[State, ...]:
        return leaves_of(self.sources)


TRANSITIONS: tuple[Transition, ...] = (
    Transition(Trigger.START, (State.IDLE,), State.CONNECTING, note="start a chat: handshake"),
    Transition(Trigger.RESTORE, (State.IDLE,), State.RESTORING, note="page start from saved state"),
    Transition(Trigger.HANDSHAKE_OK, (State.CONNECTING,), State.OPENING, note="channel open"),
    Transition(Trigger.SERVER_READY, (State.OPENING,), State.READY, note="requestChat accepted"),
    Transition(
        Trigger.CONNECTION_LOST,
        (Compound.UP,),
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
        Trigger.RECONNECTED, (Compound.LOST,), State.READY, note="same session, same instance"
    ),
    Transition(
        Trigger.REHANDSHAKE,
        (State.READY, Compound.LOST),
        State.RESTORING,
        note="server forgot the client: handshake again, resume from position",
    ),
    Transition(
        Trigger.FAILOVER,
        (Compound.LOST,),
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
    Transition(Trigger.RELOAD, (Compound.LIVE,), State.RESTORING, note="page reload"),
    Transition(Trigger.END, (Compound.LIVE,), State.ENDED, note="chat ended by either side"),
    Transition(Trigger.FAIL, (Compound.LIVE,), State.FAILED, note="login failed, advice none"),
)


@dataclass(frozen=True)
class Ignored:
    """A tolerated no-op: `trigger` in these states changes nothing (no `state` event)."""

    trigger: Trigger
    sources: tuple[Node, ...]
    note: str

    @property
    def leaf_sources(self) -> tuple[State, ...]:
        return leaves_of(self.sources)


IGNORED: tuple[Ignored, ...] = (
    Ignored(
        Trigger.CONNECTION_LOST,
        (Compound.LOST, State.RESTORING),
        "another failure of an outage already going on: the outage goes on",
    ),
    Ignored(
        Trigger.HANDSHAKE_OK,
        (State.OPENING, State.READY, Compound.LOST, State.RESTORING),
        "a handshake again (402, another instance): the session step decides",
    ),
    Ignored(
        Trigger.FAILOVER,
        (State.RESTORING,),
        "already restoring: the restore goes on at the next instance",
    ),
    Ignored(
        Trigger.REHANDSHAKE,
        (State.RESTORING,),
        "already restoring: the restore goes on after the new handshake",
    ),
)

# "The session works again": each of these leads to ready and ends an outage.
WORKS_AGAIN = frozenset({Trigger.SERVER_READY, Trigger.RECONNECTED, Trigger.RESTORED})
_WORKS_AGAIN_FROM: Mapping[State, Trigger] = {
    State.OPENING: Trigger.SERVER_READY,
    State.RECONNECTING: Trigger.RECONNECTED,
    State.INTERRUPTED: Trigger.RECONNECTED,
    State.RESTORING: Trigger.RESTORED,
}


def works_again_trigger(state: State) -> Trigger | None:
    """The trigger to fire when the session works (again) in `state`; None: already ready."""
    return _WORKS_AGAIN_FROM.get(state)


class Timer(StrEnum):
    INTERRUPT = "interrupt"
    REQUEST = "request"
    BACKOFF = "backoff"


@dataclass(frozen=True)
class TimerSpec:
    timer: Timer
    setting: str
    armed_in: frozenset[State]
    fires: Trigger | None
    note: str


TIMER_TABLE: Mapping[Timer, TimerSpec] = {
    spec.timer: spec
    for spec in (
        TimerSpec(
            Timer.INTERRUPT,
            "interrupt_after",
            frozenset({State.RECONNECTING, State.RESTORING}),
            Trigger.INTERRUPT_TIMEOUT,
            "started at the first observed failure; not restarted by retries",
        ),
        TimerSpec(
            Timer.REQUEST,
            "max_network_delay",
            frozenset(LIVE),
            Trigger.CONNECTION_LOST,
            "a request unanswered past hold + max_network_delay counts as a failure",
        ),
        TimerSpec(
            Timer.BACKOFF,
            "backoff_increment",
            frozenset({State.RECONNECTING, State.INTERRUPTED, State.RESTORING}),
            None,
            "delay before the next attempt: grows by backoff_increment up to max_backoff",
        ),
    )
}
# Where the interruption timer runs (an outage not yet told to the application).
INTERRUPT_ARMED_IN = TIMER_TABLE[Timer.INTERRUPT].armed_in
# The same specs as a tuple, for readers that iterate them.
TIMER_SPECS: tuple[TimerSpec, ...] = tuple(TIMER_TABLE.values())


@dataclass(frozen=True)
class Timers:
    """Timer settings of one transport (the contract's defaults), in seconds."""

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
        """True if `trigger` is a row from the current state (not a tolerated no-op)."""
        return dest_of(self.current, Trigger(trigger)) is not None

    def step(self, trigger: Trigger | str, **context: Any) -> tuple[State, State] | None:
        """Take `trigger`: (before, after) for a row, None for a tolerated no-op.

        Anything else raises IllegalTransition; context feeds guards.
        """
        before = self.current
        name = Trigger(trigger)
        if (before, name) in _IGNORED:
            return None
        if dest_of(before, name) is None:
            raise IllegalTransition(before.value, name.value)
        if not self.trigger(name.value, **context):
            raise IllegalTransition(before.value, f"{name.value} (guard refused)")
        return before, self.current

    def fire(self, trigger: Trigger | str, **context: Any) -> tuple[State, State]:
        """Take a row of the table (a tolerated no-op is refused here too)."""
        if not self.can(trigger):
            raise IllegalTransition(self.current.value, Trigger(trigger).value)
        taken = self.step(trigger, **context)
        assert taken is not None
        return taken

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


def ignored_in(state: State) -> list[Trigger]:
    return [t for (s, t) in _IGNORED if s == state]


def _expand() -> dict[tuple[State, Trigger], State]:
    table: dict[tuple[State, Trigger], State] = {}
    for row in TRANSITIONS:
        for source in row.leaf_sources:
            if (source, row.trigger) in table:
                raise AssertionError(f"two rows for {row.trigger} from {source}")
            table[(source, row.trigger)] = row.dest
    return table


_TABLE = _expand()
_IGNORED = frozenset((leaf, item.trigger) for item in IGNORED for leaf in item.leaf_sources)
assert not _IGNORED & _TABLE.keys(), "a tolerated no-op is also a row"


_MACHINES: list[Machine] = []


def _machine_for(model: Chart, initial: State) -> Machine:
    """Bind `model` to the one shared flat machine without being remembered by it.

    The hierarchy is expanded to leaf rows here (`transitions`' nested machine
    would rename the leaves `live_lost_reconnecting`; the contract's names are
    the leaves'). Building a machine per chart cost more than a whole simulated
    minute of protocol work; the triggers bound on the model carry it along, and
    the machine then forgets the model, so finished charts are freed with their owner.
    """
    if not _MACHINES:
        _MACHINES.append(
            Machine(
                model=None,
                states=[s.value for s in State],
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


def _rows() -> list[dict[str, Any]]:
    return [
        {
            "trigger": row.trigger.value,
            "source": [s.value for s in row.leaf_sources],
            "dest": row.dest.value,
            **({"conditions": row.guard} if row.guard else {}),
        }
        for row in TRANSITIONS
    ]
