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

The actors (`SimClient`, `SimInstance`, their timers, `TruthStore`) live in
`sim.world_actors` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
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
from sim.kernel import Simulation
from sim.network import Network
from sim.scenario import Action, ClientSpec, Scenario
from sim.server import Cluster, StoredChat
from sim.world_actors import SPIN_LIMIT, ClientView, SimClient, SimInstance, TruthStore
from statecharts.chart import State
from statecharts.errors import UsageError
from statecharts.trace import TraceRecord, TraceWriter
from transport.core import ClientConfig, ClientCore

# Re-exported so that old import paths keep working.
__all__ = [
    "CHATSIM_VERSION",
    "SPIN_LIMIT",
    "ClientView",
    "SimClient",
    "SimInstance",
    "TruthStore",
    "World",
]


def _chatsim_version() -> str:
    try:
        return metadata.version("chatsim")
    except metadata.PackageNotFoundError:
        return "unknown"


# The header's `version` is the trace format's; the tool's own goes in `chatsim`.
CHATSIM_VERSION = _chatsim_version()
# Faults that only make sense for a while: without a duration they last the run.
_INSTANT = frozenset({"expire", "reload", "command_error", "corrupt"}) | (
    BEHAVIOUR_KINDS - {"redirect"}
)


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
        # What pump_servers needs of each instance, looked up once (the cores stay),
        # by the instance's index in the cluster's `changes`.
        self._pumped = [(i.core, i.core.outbox, i.timer, i._carry) for i in self.instances.values()]
        self._changes = self.cluster.changes
        for name, inst in self.instances.items():
            self.network.attach_server(name, inst)
        self.network.on_foreign = self._foreign_received
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

    def _foreign_received(self, client_id: str, now: float) -> None:
        self.clients[client_id].foreign_received(now)

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

    def sessions(self) -> Iterator[StoredChat]:
        return iter(self.store.ever.values())

    def trace_server_events(self) -> None:
        if self.cluster.events:  # taken only when there are some: no list per pump
            append = self.tracer.writer.append
            for t, src, kind, data in self.cluster.take_events():
                append(t, src, kind, data)  # the cluster's own copy, handed over

    # -- traffic ---------------------------------------------------------------------
    def _schedule_traffic(self, client: SimClient) -> None:
        traffic = self.scenario.traffic
        if traffic.client_every is not None:
            first = client.spec.start_at + traffic.client_every
            self._every(first, traffic.client_every, self._client_says, client)
        if traffic.agent_every is not None:
            first = client.spec.start_at + traffic.agent_every
            self._every(first, traffic.agent_every, self._agent_says, client)

    def _every(
        self, first: float, period: float, action: Callable[[SimClient], None], client: SimClient
    ) -> None:
        def run(n: int) -> None:
            action(client)
            nxt = first + n * period  # no drift: n-th tick is computed, not summed
            if nxt <= self.traffic_until:
                self.kernel.post(nxt, run, n + 1)

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
        self.cluster.agent_say(chat_id, f"agent to {client.id}", self.kernel.clock._now)
        self.pump_servers()

    def pump_servers(self) -> None:
        """After every server input: carry the outputs of the instances that have some
        (a reply can leave from any instance) and re-arm those whose deadline may have
        moved earlier, in instance order; then trace the cluster's events."""
        changes = self._changes
        if changes:
            if len(changes) > 1:
                changes.sort()
            pumped = self._pumped
            for index in changes:
                core, outbox, timer, carry = pumped[index]
                outbox.marked = False
                if outbox.ready:
                    carry(core.take_outputs())
                if outbox.rearm:
                    outbox.rearm = False
                    deadline = core.next_deadline()
                    if deadline is not None:
                        earliest = timer.earliest  # arm() would ignore a later deadline
                        if earliest is None or deadline < earliest:
                            timer.arm(deadline)
            changes.clear()
        if self.cluster.events:
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
