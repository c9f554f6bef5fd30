"""The world's actors: simulated clients, server instances, their timers, the truth store.

Each wraps one sans-I/O core: it calls the core with the kernel's `now`,
carries its outputs to the network and its events to the trace, and re-arms
one timer at the core's `next_deadline()`. Split out of `sim.world`, which
builds them and re-exports `SimClient`, `SimInstance`, `ClientView` and
`TruthStore`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sim.kernel import Kernel
from sim.network_parts import Frame
from sim.scenario import ClientSpec
from sim.server import Drop, MemoryStore, Output, Reply, StoredChat
from statecharts.chart import TERMINAL, State
from statecharts.events import (
    Acked,
    AppEvent,
    Message,
    MessageDirection,
    Ready,
    Restored,
    SendFailed,
    StateChanged,
)
from transport.core import (
    ClientCore,
    CloseConnection,
    OpenConnection,
    SendFrame,
)

if TYPE_CHECKING:
    from sim.world import World


SPIN_LIMIT = 10_000  # wake-ups at one virtual time before a core is called stuck


class _Timer:
    """Wakes a core at its next_deadline(), without ever cancelling kernel calls.

    A wake-up that is no longer needed just fires and finds nothing due (cores
    ignore early ticks); only a deadline earlier than every pending wake-up
    schedules a new one. Fewer kernel entries, and no reliance on cancel().
    """

    __slots__ = ("earliest", "fire", "kernel", "last_at", "owner", "repeats")

    def __init__(self, kernel: Kernel, fire: Callable[[], None], owner: str) -> None:
        self.kernel = kernel
        self.fire = fire
        self.owner = owner
        self.earliest: float | None = None  # the earliest wake-up still pending
        # A core whose deadline never moves past `now` would spin the kernel forever.
        self.last_at = -1.0
        self.repeats = 0

    def arm(self, deadline: float | None) -> None:
        if deadline is None:
            return
        kernel = self.kernel
        now = kernel.clock._now
        at = deadline if deadline > now else now
        earliest = self.earliest
        if earliest is not None and earliest <= at:
            return
        self.earliest = at
        kernel.post(at, self._run, at)

    def _run(self, at: float) -> None:
        if self.earliest == at:
            self.earliest = None
        if at == self.last_at:
            self.repeats += 1
            if self.repeats > SPIN_LIMIT:
                raise RuntimeError(f"{self.owner} keeps asking to be woken at t={at!r}")
        else:
            self.last_at, self.repeats = at, 0
        self.fire()


class TruthStore(MemoryStore):
    """A MemoryStore that remembers every session it ever held (for I6)."""

    def __init__(self) -> None:
        super().__init__()
        self.ever: dict[str, StoredChat] = {}

    def put(self, session: StoredChat) -> None:
        # Called for every message (the same session again): no super() lookup.
        MemoryStore.put(self, session)
        self.ever[session.chat_id] = session


@dataclass(slots=True)
class ClientView:
    """What the world saw of one client's application events (for judging and draining)."""

    state: State = State.IDLE
    chat_id: str | None = None
    delivered: list[int] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    acked: dict[str, list[int]] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    foreign_frames: list[float] = field(default_factory=list)  # times of corrupt deliveries
    ever_ready: bool = False

    @property
    def alive(self) -> bool:
        return self.state not in TERMINAL

    def unresolved(self) -> list[str]:
        return [m for m in self.sent if m not in self.acked and m not in self.failed]


class SimClient:
    """One client core in the world: the network endpoint and the application's hands."""

    def __init__(self, world: World, spec: ClientSpec, core: ClientCore) -> None:
        self.world = world
        self.spec = spec
        self.id = spec.id
        self.src = f"client:{spec.id}"
        self.core = core
        self.view = ClientView()
        self.timer = _Timer(world.kernel, self._tick, self.src)
        self._clock = world.kernel.clock
        self._trace_append = world.tracer.writer.append
        self._sent_count = 0
        # Statistics (the bench's event count): frames handed in, events taken.
        self.frames_received = 0
        self.events_taken = 0

    # -- the application's commands ------------------------------------------------
    def start(self) -> None:
        self.core.start(self._clock._now)
        self.pump()

    def send(self, text: str | None = None) -> str:
        self._sent_count += 1
        body = text if text is not None else f"{self.id} says {self._sent_count}"
        msg_id: str = self.core.send_message(body, self._clock._now)
        self.pump()
        return msg_id

    def typing(self) -> None:
        self.core.send_typing(self._clock._now)
        self.pump()

    def end(self) -> None:
        self.core.end(self._clock._now)
        self.pump()

    def reload(self) -> None:
        self.core.reload(self._clock._now)
        self.pump()

    # -- network inputs (sim.network.ClientSide) ----------------------------------
    def connection_made(self, now: float) -> None:
        self.core.connection_made(now)
        self.pump()

    def connection_failed(self, now: float, reason: str) -> None:
        self.core.connection_failed(now, reason)
        self.pump()

    def connection_closed(self, now: float, reason: str) -> None:
        self.core.connection_closed(now, reason)
        self.pump()

    def frame_received(self, frame: Frame, now: float) -> None:
        """Text (a fault's bytes) is decoded by the core; values (a server core's Reply,
        built for this frame and never changed after) are taken as they are."""
        self.frames_received += 1
        if isinstance(frame, str):
            self.core.frame_received(frame, now)
        else:
            messages = frame.messages
            if not isinstance(messages, list):
                messages = list(messages)
            self.core.frame_values_received(messages, now)
        self.pump()

    def foreign_received(self, now: float) -> None:
        """The network is about to hand this client a frame no server sent (corrupt)."""
        # An ended core still reads replies while it drains (acks on the way), so it
        # judges them too: a corrupt one then gives its 151 as well.
        if self.view.alive or self.core.draining:
            self.view.foreign_frames.append(now)

    # -- driving -------------------------------------------------------------------
    def _tick(self) -> None:
        self.core.tick(self._clock._now)
        self.pump()

    def pump(self) -> None:
        core = self.core
        outputs = core.take_outputs()
        if outputs:
            net = self.world.network
            for out in outputs:
                if isinstance(out, SendFrame):
                    net.client_send(self.id, out)  # values: text only if a fault needs it
                elif isinstance(out, OpenConnection):
                    net.connect(self.id, out.instance)
                elif isinstance(out, CloseConnection):
                    net.client_close(self.id, out.reason)
        events = core.take_events()
        if events:
            self.events_taken += len(events)
            append, src = self._trace_append, self.src
            now = self._clock._now
            for t, event in events:  # as Tracer.event, without its call
                append(now if t is None else t, src, event.kind, event.fields())
                # What the view keeps of it: a lookup, and no call for the kinds it ignores.
                observe = _OBSERVERS.get(type(event), _resolve)
                if observe is not None:
                    observe(self, event)
        deadline = core.next_deadline()
        if deadline is not None:
            earliest = self.timer.earliest  # arm() would ignore a later deadline
            if earliest is None or deadline < earliest:
                self.timer.arm(deadline)


# -- what the view keeps of each application event (by the event's class) ----------
def _message(client: SimClient, event: Message) -> None:
    if event.direction is MessageDirection.IN and event.index is not None:
        client.view.delivered.append(event.index)
    elif event.direction is MessageDirection.OUT and event.id is not None:
        client.view.sent.append(event.id)


def _acked(client: SimClient, event: Acked) -> None:
    client.view.acked.setdefault(event.id, []).append(event.index)


def _state_changed(client: SimClient, event: StateChanged) -> None:
    view = client.view
    view.state = State(event.to)
    view.ever_ready = view.ever_ready or view.state is State.READY


def _ready(client: SimClient, event: Ready) -> None:
    if event.chat_id is not None:
        client.view.chat_id = event.chat_id


def _send_failed(client: SimClient, event: SendFailed) -> None:
    client.view.failed[event.id] = event.code


def _restored(client: SimClient, event: Restored) -> None:
    view = client.view
    if view.chat_id is None:
        saved = client.core.saved_state()
        view.chat_id = saved.chat_id if saved is not None else None


_Observer = Callable[[SimClient, Any], None]
_KEPT: tuple[tuple[type[AppEvent], _Observer], ...] = (
    (Message, _message),
    (Acked, _acked),
    (StateChanged, _state_changed),
    (Ready, _ready),
    (SendFailed, _send_failed),
    (Restored, _restored),
)


def _observer_of(cls: type[AppEvent]) -> _Observer | None:
    for kind, observe in _KEPT:
        if issubclass(cls, kind):
            return observe
    return None


def _resolve_first(client: SimClient, event: AppEvent) -> None:
    """The first event of a class: find its observer (or none) once, then use it."""
    observe = _OBSERVERS[type(event)] = _observer_of(type(event))
    if observe is not None:
        observe(client, event)


_resolve: _Observer = _resolve_first
# The event classes seen so far -> what the view keeps of them (None: nothing).
_OBSERVERS: dict[type[AppEvent], _Observer | None] = dict(_KEPT)


class SimInstance:
    """One server instance in the world: the network endpoint that drives its core."""

    def __init__(self, world: World, name: str) -> None:
        self.world = world
        self.name = name
        self.core = world.cluster.instances[name]
        self.timer = _Timer(world.kernel, self._tick, f"server:{name}")
        self._clock = world.kernel.clock
        # A command on one instance can answer a held connect on another: the world
        # drains every instance that changed.
        self.pump = world.pump_servers
        self.frames_received = 0  # a statistic (the bench's event count)

    def open(self, conn_id: str, now: float) -> bool:
        accepted: bool = self.core.open(conn_id, now)
        self.pump()
        return accepted

    def receive(self, conn_id: str, frame: Frame, now: float) -> None:
        self.frames_received += 1
        self.core.receive(conn_id, frame if isinstance(frame, str) else frame.messages, now)
        self.pump()

    def closed(self, conn_id: str, now: float) -> None:
        self.core.closed(conn_id, now)
        self.pump()

    def _tick(self) -> None:
        self.core.tick(self._clock._now)
        self.pump()

    def _carry(self, outputs: list[Output]) -> None:
        net = self.world.network
        for out in outputs:
            if isinstance(out, Reply):
                net.server_send(out.conn_id, out)  # values: text only if a fault needs it
            elif isinstance(out, Drop):
                net.server_close(out.conn_id, out.reason)
