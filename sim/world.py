"""The simulated world of a scenario: kernel, network, cluster, clients, traffic, faults.

`World` is the glue between the sans-I/O cores. Each core is called with the
kernel's `now`; after every call the world drains the core's outputs (frames
to the network, connections to open or drop) and its events (to the trace),
and re-arms one kernel timer at the core's `next_deadline()`. Nothing here
decides protocol behaviour: the cores do, the world only carries.

The world also keeps the ground truth that a trace alone cannot give:
every transcript the server accepted (even for sessions it later forgot),
and which frames a client received that no server ever sent (corruption).

API for tests and the property engine:

    world = World.build(scenario, seed)
    world.advance(2.5); world.run_until(30.0); world.now
    world.inject(fault)                     # any sim.faults value, from now on
    world.client("c1").send("hi"); .typing(); .end(); .reload()
    world.trace                             # the TraceWriter
    world.accepted(chat_id)                 # the server's transcript
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from importlib import metadata
from typing import Any

from sim.faults import (
    BEHAVIOUR_KINDS,
    NETWORK_KINDS,
    CommandError,
    Crash,
    Expire,
    Fault,
    NotReady,
    Reload,
    Slow,
)
from sim.kernel import Kernel, Simulation
from sim.network import Network
from sim.scenario import Action, ClientSpec, Scenario
from sim.server import ChatSession, Cluster, Drop, MemoryStore, Output, Reply
from statecharts.chart import TERMINAL, State
from statecharts.errors import UsageError
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
from statecharts.trace import TraceRecord, TraceWriter
from transport.core import (
    ClientConfig,
    ClientCore,
    CloseConnection,
    OpenConnection,
    SendFrame,
)


def _chatsim_version() -> str:
    try:
        return metadata.version("chatsim")
    except metadata.PackageNotFoundError:
        return "unknown"


# The header's `version` is the trace format's; the tool's own goes in `chatsim`.
CHATSIM_VERSION = _chatsim_version()
SPIN_LIMIT = 10_000  # wake-ups at one virtual time before a core is called stuck
# Faults that only make sense for a while: without a duration they last the run.
_INSTANT = frozenset({"expire", "reload", "command_error", "corrupt"}) | (
    BEHAVIOUR_KINDS - {"redirect"}
)


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
        kernel.call_at(at, self._run, at)

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
        self.ever: dict[str, ChatSession] = {}

    def put(self, session: ChatSession) -> None:
        super().put(session)
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
        # hash() of every frame a server sent this client: a received frame whose
        # hash is not here is foreign (corrupt). The hashes, not the texts: a
        # long run sends hundreds of megabytes.
        self._texts_from_server: set[int] = set()
        self._sent_count = 0
        # Statistics (the bench's event count): frames handed in, events taken.
        self.frames_received = 0
        self.events_taken = 0

    # -- the application's commands ------------------------------------------------
    def start(self) -> None:
        self.core.start(self.world.now)
        self.pump()

    def send(self, text: str | None = None) -> str:
        self._sent_count += 1
        body = text if text is not None else f"{self.id} says {self._sent_count}"
        msg_id: str = self.core.send_message(body, self.world.now)
        self.pump()
        return msg_id

    def typing(self) -> None:
        self.core.send_typing(self.world.now)
        self.pump()

    def end(self) -> None:
        self.core.end(self.world.now)
        self.pump()

    def reload(self) -> None:
        self.core.reload(self.world.now)
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

    def frame_received(self, text: str, now: float) -> None:
        self.frames_received += 1
        # An ended core still reads replies while it drains (acks on the way), so it
        # judges them too: a corrupt one then gives its 151 as well.
        judged = self.view.alive or self.core.draining
        if judged and hash(text) not in self._texts_from_server:
            self.view.foreign_frames.append(now)
        self.core.frame_received(text, now)
        self.pump()

    def server_sent(self, text: str) -> None:
        self._texts_from_server.add(hash(text))

    # -- driving -------------------------------------------------------------------
    def _tick(self) -> None:
        self.core.tick(self.world.now)
        self.pump()

    def pump(self) -> None:
        core = self.core
        outputs = core.take_outputs()
        if outputs:
            net = self.world.network
            for out in outputs:
                if isinstance(out, SendFrame):
                    net.client_send(self.id, out.text)
                elif isinstance(out, OpenConnection):
                    net.connect(self.id, out.instance)
                elif isinstance(out, CloseConnection):
                    net.client_close(self.id, out.reason)
        events = core.take_events()
        if events:
            self.events_taken += len(events)
            append, src, observe = self.world.trace.append, self.src, self._observe
            now = self.world.kernel.clock._now
            for t, event in events:  # as Tracer.event, without its call
                append(now if t is None else t, src, event.kind, event.fields())
                observe(event)
        self.timer.arm(core.next_deadline())

    def _observe(self, event: AppEvent) -> None:
        view = self.view
        if isinstance(event, StateChanged):
            view.state = State(event.to)
            view.ever_ready = view.ever_ready or view.state is State.READY
        elif isinstance(event, Ready) and event.chat_id is not None:
            view.chat_id = event.chat_id
        elif isinstance(event, Message):
            if event.direction is MessageDirection.IN and event.index is not None:
                view.delivered.append(event.index)
            elif event.direction is MessageDirection.OUT and event.id is not None:
                view.sent.append(event.id)
        elif isinstance(event, Acked):
            view.acked.setdefault(event.id, []).append(event.index)
        elif isinstance(event, SendFailed):
            view.failed[event.id] = event.code
        elif isinstance(event, Restored) and view.chat_id is None:
            saved = self.core.saved_state()
            view.chat_id = saved.chat_id if saved is not None else None


class SimInstance:
    """One server instance in the world: the network endpoint that drives its core."""

    def __init__(self, world: World, name: str) -> None:
        self.world = world
        self.name = name
        self.core = world.cluster.instances[name]
        self.timer = _Timer(world.kernel, self._tick, f"server:{name}")
        self.frames_received = 0  # a statistic (the bench's event count)

    def open(self, conn_id: str, now: float) -> bool:
        accepted: bool = self.core.open(conn_id, now)
        self.pump()
        return accepted

    def receive(self, conn_id: str, text: str, now: float) -> None:
        self.frames_received += 1
        self.core.receive(conn_id, text, now)
        self.pump()

    def closed(self, conn_id: str, now: float) -> None:
        self.core.closed(conn_id, now)
        self.pump()

    def _tick(self) -> None:
        self.core.tick(self.world.now)
        self.pump()

    def pump(self) -> None:
        # A command on one instance can answer a held connect on another: drain all.
        self.world.pump_servers()

    def drain_outputs(self) -> None:
        outputs = self.core.take_outputs()
        if outputs:
            self._carry(outputs)
        self.timer.arm(self.core.next_deadline())

    def _carry(self, outputs: list[Output]) -> None:
        net = self.world.network
        for out in outputs:
            if isinstance(out, Reply):
                conn = net.connections.get(out.conn_id)
                if conn is not None:
                    self.world.clients[conn.client].server_sent(out.text)
                net.server_send(out.conn_id, out.text)
            elif isinstance(out, Drop):
                net.server_close(out.conn_id, out.reason)


class World:
    def __init__(
        self, scenario: Scenario, seed: int, core_class: type[ClientCore] = ClientCore
    ) -> None:
        self.scenario = scenario
        self.seed = seed
        self.core_class = core_class
        first = scenario.client
        self.sim = Simulation(
            seed,
            scenario.name,
            {
                "chatsim": CHATSIM_VERSION,
                "interrupt_after": first.interrupt_after,
                "interruption_error": first.interruption_error,
            },
        )
        self.kernel = self.sim.kernel
        self.tracer = self.sim.tracer
        self.network = Network(
            self.kernel, self.tracer, self.sim.streams["network"], scenario.network.latency
        )
        self.store = TruthStore()
        self.cluster = Cluster(
            scenario.cluster.names,
            self.store,
            session_ttl=scenario.cluster.session_ttl,
            rng=self.sim.streams["cluster"],
            dialect=scenario.cluster.dialect or "genesys",
            max_message_bytes=scenario.cluster.max_message_bytes,
        )
        self.instances = {name: SimInstance(self, name) for name in scenario.cluster.names}
        self._instance_list = list(self.instances.values())
        for name, inst in self.instances.items():
            self.network.attach_server(name, inst)
        self.clients: dict[str, SimClient] = {}
        for spec in scenario.clients:
            self._add_client(spec)
        self.traffic_until = scenario.duration

    @classmethod
    def build(
        cls,
        scenario: Scenario,
        seed: int | None = None,
        core_class: type[ClientCore] = ClientCore,
    ) -> World:
        """A world ready to run: clients start, traffic and faults are scheduled.

        `core_class` lets a test plant a bug in a ClientCore subclass and watch
        the judges catch it.
        """
        world = cls(scenario, scenario.seed if seed is None else seed, core_class)
        for fault in scenario.faults:  # first: a fault at t=0 is there when clients start
            world.inject(fault)
        for action in scenario.actions:
            world.kernel.call_at(action.at, world.act, action)
        for client in world.clients.values():
            world.kernel.call_at(client.spec.start_at, client.start)
            if client.spec.end_at is not None:
                world.kernel.call_at(client.spec.end_at, world._end, client)
            world._schedule_traffic(client)
        return world

    def _add_client(self, spec: ClientSpec) -> None:
        config = ClientConfig(
            timers=spec.timers(),
            interruption_error=spec.interruption_error,
            transport=spec.transport,
        )
        core = self.core_class(
            client_id=spec.id,
            config=config,
            servers=list(self.scenario.cluster.names),
            rng=self.sim.streams[f"client:{spec.id}"],
        )
        client = SimClient(self, spec, core)
        self.clients[spec.id] = client
        self.network.attach_client(spec.id, client)

    # -- time ------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.kernel.now

    @property
    def trace(self) -> TraceWriter:
        return self.tracer.writer

    @property
    def records(self) -> list[TraceRecord]:
        return self.tracer.records

    def advance(self, dt: float) -> None:
        self.run_until(self.now + dt)

    def run_until(self, t: float) -> None:
        self.kernel.run_until(t)

    def client(self, client_id: str) -> SimClient:
        try:
            return self.clients[client_id]
        except KeyError:
            raise UsageError(f"no client {client_id!r} in this world") from None

    def accepted(self, chat_id: str) -> list[Any]:
        """The transcript the server accepted for a chat (TranscriptEvent values)."""
        session = self.store.ever.get(chat_id)
        return list(session.transcript) if session is not None else []

    def sessions(self) -> Iterator[ChatSession]:
        return iter(self.store.ever.values())

    def trace_server_events(self) -> None:
        append = self.tracer.writer.append
        for t, src, kind, data in self.cluster.take_events():
            append(t, src, kind, data)  # the cluster's own copy, handed over

    # -- traffic ---------------------------------------------------------------------
    def _schedule_traffic(self, client: SimClient) -> None:
        traffic = self.scenario.traffic
        if traffic.client_every is not None:
            self._every(
                client.spec.start_at + traffic.client_every,
                traffic.client_every,
                lambda: self._client_says(client),
            )
        if traffic.agent_every is not None:
            self._every(
                client.spec.start_at + traffic.agent_every,
                traffic.agent_every,
                lambda: self._agent_says(client),
            )

    def _every(self, first: float, period: float, action: Any) -> None:
        def run(n: int) -> None:
            action()
            nxt = first + n * period  # no drift: n-th tick is computed, not summed
            if nxt <= self.traffic_until:
                self.kernel.call_at(nxt, run, n + 1)

        if first <= self.traffic_until:
            self.kernel.call_at(first, run, 1)

    def act(self, action: Action) -> None:
        """A scripted action; one the transport cannot take now is traced as skipped."""
        for client in self._clients_of(action.client):
            if action.do == "agent":
                if client.view.chat_id is not None and self.store.get(client.view.chat_id):
                    self.cluster.agent_say(client.view.chat_id, action.text or "agent", self.now)
                    self.pump_servers()
                    continue
            elif client.view.state is not State.IDLE and client.view.alive:
                if action.do == "send":
                    client.send(action.text)
                elif action.do == "typing":
                    client.typing()
                elif action.do == "end":
                    client.end()
                elif action.do == "reload":
                    client.reload()
                continue
            self.tracer.emit(client.src, "action.skipped", do=action.do, state=client.view.state)

    def _end(self, client: SimClient) -> None:
        if client.view.state is not State.IDLE and client.view.alive:
            client.end()

    def _client_says(self, client: SimClient) -> None:
        # From the first step on: while opening or lost the transport queues it.
        if client.view.state is not State.IDLE and client.view.alive:
            client.send()

    def _agent_says(self, client: SimClient) -> None:
        chat_id = client.view.chat_id
        if chat_id is None or not client.view.alive or self.store.get(chat_id) is None:
            return
        self.cluster.agent_say(chat_id, f"agent to {client.id}", self.now)
        self.pump_servers()

    def pump_servers(self) -> None:
        # After every server input (a reply can leave from any instance): inlined
        # drain_outputs, as this runs several times per frame.
        for inst in self._instance_list:
            core = inst.core
            outputs = core.take_outputs()
            if outputs:
                inst._carry(outputs)
            inst.timer.arm(core.next_deadline())
        self.trace_server_events()

    # -- faults ----------------------------------------------------------------------
    def inject(self, fault: Fault) -> None:
        """Apply a fault value from its `at` (or now, if that has passed)."""
        fault = self._bounded(fault)
        if fault.kind in NETWORK_KINDS:
            self.network.add_fault(fault)
            return
        start = max(fault.at, self.now)
        self.kernel.call_at(start, self._fault_starts, fault)

    def _bounded(self, fault: Fault) -> Fault:
        if fault.duration is None and fault.kind not in _INSTANT:
            return replace(fault, duration=max(0.0, self.scenario.duration - fault.at))
        return fault

    def _fault_starts(self, fault: Fault) -> None:
        now = self.now
        if isinstance(fault, Crash):
            fault = replace(fault, instance=fault.instance or self._serving_instance(fault))
        self.tracer.emit("fault", "fault.start", fault=fault.as_dict())
        self._apply(fault, now)
        end = fault.end
        if end is not None and fault.kind not in _INSTANT:
            self.kernel.call_at(max(end, now), self._fault_ends, fault)

    def _apply(self, fault: Fault, now: float) -> None:
        if isinstance(fault, Crash):
            assert fault.instance is not None
            self.cluster.crash(fault.instance, now)
            self.pump_servers()
            self.network.drop_instance(fault.instance)
        elif isinstance(fault, Expire):
            for chat_id in self._chats_of(fault.client):
                self.cluster.expire(chat_id, now)
            self.pump_servers()
        elif isinstance(fault, NotReady):
            self.cluster.not_ready(fault.end if fault.end is not None else self.scenario.duration)
        elif isinstance(fault, CommandError):
            self.cluster.command_errors(fault.code, fault.count)
        elif fault.kind in BEHAVIOUR_KINDS:
            self.cluster.seed_behaviour(fault, start=True)
        elif isinstance(fault, Slow):
            self.cluster.slow(fault.ms)
        elif isinstance(fault, Reload):
            for client in self._clients_of(fault.client):
                if client.view.alive and client.view.state is not State.IDLE:
                    client.reload()

    def _fault_ends(self, fault: Fault) -> None:
        self.tracer.emit("fault", "fault.end", fault=fault.as_dict())
        if isinstance(fault, Crash):
            assert fault.instance is not None
            self.cluster.recover(fault.instance, self.now)
            self.pump_servers()
        elif isinstance(fault, Slow):
            self.cluster.slow(0.0)
        elif fault.kind in BEHAVIOUR_KINDS:
            self.cluster.seed_behaviour(fault, start=False)

    def _serving_instance(self, fault: Fault) -> str:
        """A crash without `instance` hits whichever instance serves the (first) client."""
        for client in self._clients_of(fault.client):
            conn = self.network.connection_of(client.id)
            if conn is not None:
                return conn.instance
        return self.scenario.cluster.names[0]

    def _clients_of(self, client_id: str | None) -> list[SimClient]:
        if client_id is None:
            return list(self.clients.values())
        return [self.client(client_id)]

    def _chats_of(self, client_id: str | None) -> list[str | None]:
        if client_id is None:
            return [None]
        chat = self.client(client_id).view.chat_id
        return [chat] if chat is not None else []

    # -- settling --------------------------------------------------------------------
    def settled(self) -> bool:
        """Every live session is ready and caught up; every client's messages are resolved.

        An ended client may still be draining (`end()` waits for the acks on the
        way, at most `max_network_delay`): it is settled once each of its
        messages is acknowledged or failed, not at the moment it ended.
        """
        for client in self.clients.values():
            view = client.view
            if view.unresolved():
                return False
            if not view.alive:
                continue
            if view.state is not State.READY:
                return False
            if view.chat_id is not None:
                position = len(self.accepted(view.chat_id))
                if (view.delivered[-1] if view.delivered else 0) < position:
                    return False
        return True

    def drain(self, limit: float, step: float = 0.5) -> bool:
        """After the scenario: no traffic, no new faults; run until settled (or `limit` s)."""
        self.traffic_until = min(self.traffic_until, self.now)
        end = self.now + limit
        while not self.settled():
            if self.now >= end:
                return False
            self.run_until(min(end, self.now + step))
        return True
