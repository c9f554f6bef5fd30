"""The statechart's table: states, their hierarchy, the rows and the tolerated no-ops.

`statecharts.chart` re-exports every name here; read the theory of operation
there. This module is data and the pure look-ups over it (`dest_of`,
`triggers_from`, `ignored_in`, `is_ignored`): the running `Chart`, the
conformance checker and the diagrams all read these same rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


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


def is_ignored(state: State, trigger: Trigger) -> bool:
    """True if `trigger` is a tolerated no-op in `state` (listed in `IGNORED`)."""
    return (state, trigger) in _IGNORED
