"""The simulated network: connections that carry whole frames, with faults.

A connection joins one client endpoint (by client id) to one server instance
(by name). Frames take the one-way latency plus whatever the active network
faults of `sim/faults.py` add, per direction (`up` client→server, `down`
server→client), and arrive in order per connection and direction unless a
`reorder` fault holds one back. Opening takes one round trip.

Endpoints are plain objects following `ClientSide` and `ServerSide`; the
runner wraps the real cores in them (and drains their outputs after each
call), tests use tiny echo endpoints. All timing goes through the kernel, all
randomness through the one `rng` handed in.

Choices worth knowing:
- `blackhole` drops frames but lets connections open: they look open.
- Close notifications (the FIN) follow the frames already on the way and are
  not subject to faults; `outage` tells both ends at once.
- A frame sent on a connection that is no longer open is dropped (`net drop`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from sim.faults import (
    NETWORK_KINDS,
    Blackhole,
    Corrupt,
    Direction,
    Duplicate,
    Fault,
    Latency,
    Loss,
    Outage,
    Reorder,
)
from sim.frame_corruption import corrupt_frame
from sim.kernel import Handle, Kernel, Tracer
from statecharts.errors import UsageError

UP, DOWN = Direction.UP, Direction.DOWN
DEFAULT_LATENCY = 0.01  # as sim/scenario.py NetworkSpec
# A frame held back by `reorder` waits for the next one at most this long.
REORDER_MAX_HOLD = 0.1


class ClientSide(Protocol):
    """What the network tells a client (the client core's network inputs)."""

    def connection_made(self, now: float) -> None: ...
    def connection_failed(self, now: float, reason: str) -> None: ...
    def connection_closed(self, now: float, reason: str) -> None: ...
    def frame_received(self, text: str, now: float) -> None: ...


class ServerSide(Protocol):
    """What the network tells a server instance (the server core's network inputs)."""

    def open(self, conn_id: str, now: float) -> bool: ...
    def receive(self, conn_id: str, text: str, now: float) -> None: ...
    def closed(self, conn_id: str, now: float) -> None: ...


class Side(StrEnum):
    CLIENT = "client"
    SERVER = "server"


class ConnState(StrEnum):
    OPENING = "opening"
    OPEN = "open"
    CLOSED = "closed"


@dataclass
class _Held:
    text: str
    release: Handle


@dataclass(eq=False)
class Connection:
    id: str
    client: str
    instance: str
    state: ConnState = ConnState.OPENING
    client_end: bool = True  # the client still listens on it
    server_end: bool = False  # the server accepted it and still listens
    made: bool = False  # the client was told it is open
    floor: dict[Direction, float] = field(default_factory=lambda: {UP: 0.0, DOWN: 0.0})
    held: dict[Direction, _Held] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.state is ConnState.OPEN


@dataclass(eq=False)
class _ActiveFault:
    fault: Fault
    left: int = 0  # frames still to corrupt

    def hits(self, conn: Connection, way: Direction | None = None) -> bool:
        f = self.fault
        return (
            (way is None or f.direction.covers(way))
            and (f.client is None or f.client == conn.client)
            and (f.instance is None or f.instance == conn.instance)
        )


class Network:
    def __init__(
        self,
        kernel: Kernel,
        tracer: Tracer,
        rng: random.Random,
        latency: float = DEFAULT_LATENCY,
        trace_connections: bool = True,
    ) -> None:
        self.kernel = kernel
        self.tracer = tracer
        self.rng = rng
        self.latency = latency
        self.trace_connections = trace_connections
        self.clients: dict[str, ClientSide] = {}
        self.servers: dict[str, ServerSide] = {}
        self.connections: dict[str, Connection] = {}  # not yet closed at both ends
        self._current: dict[str, Connection] = {}  # client id -> its latest connection
        self._active: list[_ActiveFault] = []
        self._opened = 0

    # -- setup ----------------------------------------------------------------
    def attach_client(self, client_id: str, endpoint: ClientSide) -> None:
        self.clients[client_id] = endpoint

    def attach_server(self, instance: str, endpoint: ServerSide) -> None:
        self.servers[instance] = endpoint

    def add_fault(self, fault: Fault) -> None:
        """Schedule a network fault: active in [at, at + duration)."""
        if fault.kind not in NETWORK_KINDS:
            raise UsageError(f"{fault.kind} is not a network fault")
        active = _ActiveFault(fault, fault.count if isinstance(fault, Corrupt) else 0)
        now = self.kernel.now
        self.kernel.call_at(max(fault.at, now), self._fault_starts, active)
        end = fault.end
        if end is not None:
            self.kernel.call_at(max(end, fault.at, now), self._fault_ends, active)

    def add_faults(self, faults: Iterable[Fault]) -> list[Fault]:
        """Schedule the network faults among `faults`; return the others, in order."""
        others: list[Fault] = []
        for fault in faults:
            if fault.kind in NETWORK_KINDS:
                self.add_fault(fault)
            else:
                others.append(fault)
        return others

    def active_faults(self) -> list[Fault]:
        return [a.fault for a in self._active]

    # -- client side ------------------------------------------------------------
    def connect(self, client_id: str, instance: str) -> Connection:
        """Open a connection; the client hears back after one round trip."""
        if client_id not in self.clients:
            raise UsageError(f"no client endpoint {client_id!r} attached to the network")
        old = self._current.get(client_id)
        if old is not None and old.client_end:
            self.close(old.id, Side.CLIENT, "replaced")
        self._opened += 1
        conn = Connection(f"{client_id}/{self._opened}", client_id, instance)
        self._current[client_id] = conn
        self.connections[conn.id] = conn
        if instance not in self.servers:
            self._refuse(conn, "no such instance", self._round_trip(conn))
        elif self._outage_hits(conn):
            self._refuse(conn, "outage", self._round_trip(conn))
        else:
            self._schedule(conn, UP, self._path_delay(conn, UP), self._open_arrives, conn)
        return conn

    def connection_of(self, client_id: str) -> Connection | None:
        return self._current.get(client_id)

    def client_send(self, client_id: str, text: str) -> None:
        conn = self._current.get(client_id)
        if conn is None:
            raise UsageError(f"client {client_id!r} never opened a connection")
        self.send(conn, UP, text)

    def client_close(self, client_id: str, reason: str = "client") -> None:
        conn = self._current.get(client_id)
        if conn is not None:
            self.close(conn.id, Side.CLIENT, reason)

    # -- server side ------------------------------------------------------------
    def server_send(self, conn_id: str, text: str) -> None:
        conn = self.connections.get(conn_id)
        if conn is not None:
            self.send(conn, DOWN, text)
        # else: closed at both ends already; the reply has nowhere to go.

    def server_close(self, conn_id: str, reason: str = "server") -> None:
        self.close(conn_id, Side.SERVER, reason)

    def drop_instance(self, instance: str, reason: str = "crash") -> None:
        """The instance lets go of every connection it holds (a crash)."""
        for conn in list(self.connections.values()):
            if conn.instance == instance and conn.server_end:
                self.close(conn.id, Side.SERVER, reason)

    # -- both sides ---------------------------------------------------------------
    def send(self, conn: Connection, way: Direction, text: str) -> None:
        # A server may write as soon as it accepted: its frames queue behind
        # the confirmation. A client must wait for connection_made.
        if way is UP:
            can_send = conn.client_end and conn.state is ConnState.OPEN
        else:
            can_send = conn.server_end and conn.state is not ConnState.CLOSED
        if not can_send:
            self._trace_net("drop", conn, way, why="closed")
            return
        self._transmit(conn, way, text)

    def close(self, conn_id: str, by: Side, reason: str) -> None:
        """One end closes; the other hears of it after the frames already on the way."""
        conn = self.connections.get(conn_id)
        if conn is None:
            return
        if by is Side.CLIENT:
            if not conn.client_end:
                return
            conn.client_end = False
        else:
            if not conn.server_end:
                return
            conn.server_end = False
        conn.state = ConnState.CLOSED
        if self.trace_connections:
            self.tracer.emit("net", "close", conn=conn.id, by=by.value, reason=reason)
        if by is Side.CLIENT and conn.server_end:
            self._schedule(conn, UP, self._path_delay(conn, UP), self._tell_server, conn)
        elif by is Side.SERVER and conn.client_end:
            delay = self._path_delay(conn, DOWN)
            self._schedule(conn, DOWN, delay, self._tell_client, conn, reason, not conn.made)
        self._forget_if_done(conn)

    # -- opening ------------------------------------------------------------------
    def _open_arrives(self, conn: Connection) -> None:
        if conn.state is not ConnState.OPENING:
            return
        now = self.kernel.now
        if self._outage_hits(conn):
            self._refuse(conn, "outage", self._path_delay(conn, DOWN))
            return
        # The confirmation goes out first, so whatever the server writes from
        # inside `open` travels behind it; a refusal turns it into a no-op.
        delay = self._path_delay(conn, DOWN)
        conn.server_end = True
        self._schedule(conn, DOWN, delay, self._open_confirmed, conn)
        if not self.servers[conn.instance].open(conn.id, now):
            conn.server_end = False
            self._refuse(conn, "refused", delay)

    def _open_confirmed(self, conn: Connection) -> None:
        if conn.state is not ConnState.OPENING or not conn.client_end:
            return
        conn.state = ConnState.OPEN
        conn.made = True
        if self.trace_connections:
            self.tracer.emit("net", "open", conn=conn.id, instance=conn.instance)
        self.clients[conn.client].connection_made(self.kernel.now)

    def _refuse(self, conn: Connection, reason: str, delay: float) -> None:
        conn.state = ConnState.CLOSED
        if self.trace_connections:
            self.tracer.emit("net", "refused", conn=conn.id, reason=reason)
        self._schedule(conn, DOWN, delay, self._tell_client, conn, reason, True)

    # -- telling the ends -----------------------------------------------------------
    def _tell_client(self, conn: Connection, reason: str, failed: bool) -> None:
        if not conn.client_end:
            return
        conn.client_end = False
        self._forget_if_done(conn)
        client = self.clients[conn.client]
        if failed:
            client.connection_failed(self.kernel.now, reason)
        else:
            client.connection_closed(self.kernel.now, reason)

    def _tell_server(self, conn: Connection) -> None:
        if not conn.server_end:
            return
        conn.server_end = False
        self._forget_if_done(conn)
        self.servers[conn.instance].closed(conn.id, self.kernel.now)

    def _abort(self, conn: Connection, reason: str) -> None:
        """Both ends learn at once (outage)."""
        conn.state = ConnState.CLOSED
        for held in conn.held.values():
            self.kernel.cancel(held.release)
        conn.held.clear()
        if self.trace_connections:
            self.tracer.emit("net", "close", conn=conn.id, by="net", reason=reason)
        self._tell_client(conn, reason, not conn.made)
        self._tell_server(conn)

    def _forget_if_done(self, conn: Connection) -> None:
        if not (conn.client_end or conn.server_end):
            self.connections.pop(conn.id, None)

    # -- frames -------------------------------------------------------------------------
    def _transmit(self, conn: Connection, way: Direction, text: str) -> None:
        if not self._active and not conn.held:  # the common case: a clean network
            self._schedule(conn, way, self.latency, self._deliver, conn, way, text)
            return
        delay = self.latency
        copies = 1
        hold = False
        corrupt: list[tuple[_ActiveFault, Corrupt]] = []
        for active in self._active:
            if not active.hits(conn, way):
                continue
            fault = active.fault
            if isinstance(fault, Blackhole):
                self._trace_net("drop", conn, way, why="blackhole")
                return
            if isinstance(fault, Loss):
                if self.rng.random() < fault.p:
                    self._trace_net("drop", conn, way, why="loss")
                    return
            elif isinstance(fault, Corrupt):
                corrupt.append((active, fault))
            elif isinstance(fault, Latency):
                delay += self._latency_of(fault)
            elif isinstance(fault, Duplicate):
                if self.rng.random() < fault.p:
                    copies += 1
            elif isinstance(fault, Reorder) and self.rng.random() < fault.p:
                hold = True
        # Only frames that survive the drops use up a corrupt fault's count.
        for active, fault in corrupt:
            if active.left > 0:
                active.left -= 1
                text = corrupt_frame(text, fault.mode)
                self._trace_net("corrupt", conn, way, mode=fault.mode.value)
        if copies > 1:
            self._trace_net("dup", conn, way, copies=copies)
        if hold and way not in conn.held:
            self._hold(conn, way, text, delay)
            return
        arrival = self._schedule(conn, way, delay, self._deliver, conn, way, text)
        for _ in range(copies - 1):
            self.kernel.call_at(arrival, self._deliver, conn, way, text)
        held = conn.held.pop(way, None)
        if held is not None:
            # The frame held back arrives right behind the one that overtook it.
            self.kernel.cancel(held.release)
            self.kernel.call_at(arrival, self._deliver, conn, way, held.text)

    def _hold(self, conn: Connection, way: Direction, text: str, delay: float) -> None:
        self._trace_net("hold", conn, way)
        release_at = self.kernel.now + delay + REORDER_MAX_HOLD
        release = self.kernel.call_at(release_at, self._release, conn, way)
        conn.held[way] = _Held(text, release)

    def _release(self, conn: Connection, way: Direction) -> None:
        held = conn.held.pop(way, None)
        if held is not None:
            self._deliver(conn, way, held.text)

    def _deliver(self, conn: Connection, way: Direction, text: str) -> None:
        now = self.kernel.now
        if way is UP:
            if conn.server_end:
                self.servers[conn.instance].receive(conn.id, text, now)
                return
        elif conn.client_end and conn.made:
            self.clients[conn.client].frame_received(text, now)
            return
        self._trace_net("drop", conn, way, why="closed")

    # -- timing -------------------------------------------------------------------------
    def _schedule(
        self,
        conn: Connection,
        way: Direction,
        delay: float,
        fn: Callable[..., object],
        *args: object,
    ) -> float:
        """Schedule an arrival in FIFO order for this connection and direction."""
        kernel = self.kernel
        arrival = kernel.now + delay
        floor = conn.floor[way]
        arrival = floor if floor > arrival else arrival  # max(), without the call
        conn.floor[way] = arrival
        kernel.call_at(arrival, fn, *args)
        return arrival

    def _path_delay(self, conn: Connection, way: Direction) -> float:
        delay = self.latency
        for active in self._active:
            if isinstance(active.fault, Latency) and active.hits(conn, way):
                delay += self._latency_of(active.fault)
        return delay

    def _round_trip(self, conn: Connection) -> float:
        return self._path_delay(conn, UP) + self._path_delay(conn, DOWN)

    def _latency_of(self, fault: Latency) -> float:
        jitter = self.rng.uniform(0.0, fault.jitter) if fault.jitter > 0 else 0.0
        return (fault.ms + jitter) / 1000.0

    # -- faults -------------------------------------------------------------------------
    def _outage_hits(self, conn: Connection) -> bool:
        return any(isinstance(a.fault, Outage) and a.hits(conn) for a in self._active)

    def _fault_starts(self, active: _ActiveFault) -> None:
        self._active.append(active)
        self.tracer.emit("fault", "fault.start", fault=active.fault.as_dict())
        if isinstance(active.fault, Outage):
            for conn in list(self.connections.values()):
                if active.hits(conn) and (conn.client_end or conn.server_end):
                    self._abort(conn, "outage")

    def _fault_ends(self, active: _ActiveFault) -> None:
        self._active.remove(active)
        self.tracer.emit("fault", "fault.end", fault=active.fault.as_dict())

    def _trace_net(self, kind: str, conn: Connection, way: Direction, **data: object) -> None:
        self.tracer.emit("net", kind, conn=conn.id, dir=way.value, **data)
