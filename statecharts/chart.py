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

Layout: the table (states, hierarchy, rows, no-ops, "works again") is in
`statecharts.chart_table`, the timers in `statecharts.chart_timers`; this
module adds the running `Chart` on `transitions` and re-exports both, so
`statecharts.chart` stays the one name to import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transitions import Machine

from statecharts.chart_table import (
    CHILDREN,
    IGNORED,
    LIVE,
    LOST,
    ROOTS,
    TERMINAL,
    TRANSITIONS,
    WORKS_AGAIN,
    Compound,
    Ignored,
    Node,
    State,
    Transition,
    Trigger,
    dest_of,
    ignored_in,
    is_ignored,
    leaves,
    leaves_of,
    parent_of,
    triggers_from,
    works_again_trigger,
)
from statecharts.chart_timers import (
    INTERRUPT_ARMED_IN,
    TIMER_SPECS,
    TIMER_TABLE,
    Timer,
    Timers,
    TimerSpec,
)
from statecharts.errors import IllegalTransition

# The table and the timers are re-exported: `statecharts.chart` is the one import path.
__all__ = [
    "CHILDREN",
    "EPSILON",
    "IGNORED",
    "INTERRUPT_ARMED_IN",
    "LIVE",
    "LOST",
    "ROOTS",
    "TERMINAL",
    "TIMER_SPECS",
    "TIMER_TABLE",
    "TRANSITIONS",
    "WORKS_AGAIN",
    "Chart",
    "Compound",
    "Ignored",
    "Node",
    "State",
    "Timer",
    "TimerSpec",
    "Timers",
    "Transition",
    "Trigger",
    "dest_of",
    "ignored_in",
    "is_ignored",
    "leaves",
    "leaves_of",
    "parent_of",
    "triggers_from",
    "works_again_trigger",
]

EPSILON = 1e-6


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
        if is_ignored(before, name):
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
