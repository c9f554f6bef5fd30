"""The simulated network: connections that carry whole frames, with faults.

A connection joins one client endpoint (by client id) to one server instance
(by name). Frames take the one-way latency plus whatever the active network
faults add, per direction (`up` client→server, `down` server→client), and
arrive in order per connection and direction unless a `reorder` fault holds
one back. What a fault does to a frame is decided by the one fault engine
(`statecharts/fault_engine.py`, also used live); this module carries frames,
opens and closes connections and traces. Opening takes one round trip.

Endpoints are plain objects following `ClientSide` and `ServerSide`; the
runner wraps the real cores in them (and drains their outputs after each
call), tests use tiny echo endpoints. All timing goes through the kernel, all
randomness through the one `rng` handed in.

Choices worth knowing:
- `blackhole` holds frames and lets connections open: they look open; what
  it held arrives when it ends (or is dropped if its connection is gone).
- Close notifications (the FIN) follow the frames already on the way and are
  not subject to faults; `outage` tells both ends at once.
- A frame sent on a connection that is no longer open is dropped (`net drop`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

from sim.fault_engine import REORDER_HOLD, FaultEngine, Released
from sim.faults import NETWORK_KINDS, Direction, Fault
from sim.kernel import Kernel, Tracer
from sim.network_parts import ClientSide, Connection, ConnState, Frame, ServerSide, Side
from statecharts.errors import UsageError

# Re-exported: the network's values live in sim.network_parts.
__all__ = [
    "DEFAULT_LATENCY",
    "REORDER_MAX_HOLD",
    "ClientSide",
    "ConnState",
    "Connection",
    "Network",
    "ServerSide",
    "Side",
]

UP, DOWN = Direction.UP, Direction.DOWN
DEFAULT_LATENCY = 0.01  # as sim/scenario.py NetworkSpec
# A frame held back by `reorder` waits for the next one at most this long.
REORDER_MAX_HOLD = REORDER_HOLD


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
        self.engine = FaultEngine(rng, latency=latency, notes=True)
        self.trace_connections = trace_connections
        self.clients: dict[str, ClientSide] = {}
        self.servers: dict[str, ServerSide] = {}
        self.connections: dict[str, Connection] = {}  # not yet closed at both ends
        self._current: dict[str, Connection] = {}  # client id -> its latest connection
        self._wake_at: float | None = None  # the next release of held frames, armed
        self._opened = 0
        # hash() of each frame a server handed to the fault engine: a frame the engine
        # delivers to a client that is not among them is foreign (corrupt). Frames on a
        # clean network never meet the engine, so nothing is kept for them.
        self._genuine: set[int] = set()
        # Told (client id, now) before a client receives a foreign frame.
        self.on_foreign: Callable[[str, float], None] | None = None
        # The clean path's arrivals, bound once (one kernel entry per frame).
        self._arrive_up = self._arrives_up
        self._arrive_down = self._arrives_down

    @property
    def latency(self) -> float:
        """The default one-way latency, s (the engine adds it to every frame)."""
        return self.engine.latency

    @latency.setter
    def latency(self, value: float) -> None:
        self.engine.latency = value

    # -- setup ----------------------------------------------------------------
    def attach_client(self, client_id: str, endpoint: ClientSide) -> None:
        self.clients[client_id] = endpoint

    def attach_server(self, instance: str, endpoint: ServerSide) -> None:
        self.servers[instance] = endpoint

    def add_fault(self, fault: Fault) -> None:
        """Schedule a network fault: active in [at, at + duration)."""
        if fault.kind not in NETWORK_KINDS:
            raise UsageError(f"{fault.kind} is not a network fault")
        now = self.kernel.now
        box: list[int] = []  # the engine's id, once the fault started
        self.kernel.call_at(max(fault.at, now), self._fault_starts, fault, box)
        end = fault.end
        if end is not None:
            self.kernel.call_at(max(end, fault.at, now), self._fault_ends, fault, box)

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
        return list(self.engine.faults().values())

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

    def client_send(self, client_id: str, frame: Frame) -> None:
        conn = self._current.get(client_id)
        if conn is None:
            raise UsageError(f"client {client_id!r} never opened a connection")
        self.send(conn, UP, frame)

    def client_close(self, client_id: str, reason: str = "client") -> None:
        conn = self._current.get(client_id)
        if conn is not None:
            self.close(conn.id, Side.CLIENT, reason)

    # -- server side ------------------------------------------------------------
    def server_send(self, conn_id: str, frame: Frame) -> None:
        conn = self.connections.get(conn_id)
        if conn is not None:
            self.send(conn, DOWN, frame)
        # else: closed at both ends already; the reply has nowhere to go.

    def server_close(self, conn_id: str, reason: str = "server") -> None:
        self.close(conn_id, Side.SERVER, reason)

    def drop_instance(self, instance: str, reason: str = "crash") -> None:
        """The instance lets go of every connection it holds (a crash)."""
        for conn in list(self.connections.values()):
            if conn.instance == instance and conn.server_end:
                self.close(conn.id, Side.SERVER, reason)

    # -- both sides ---------------------------------------------------------------
    def send(self, conn: Connection, way: Direction, frame: Frame) -> None:
        """Values stay values on a clean network; a fault engine works on the text."""
        # A server may write as soon as it accepted: its frames queue behind
        # the confirmation. A client must wait for connection_made.
        if way is UP:
            can_send = conn.client_end and conn.state is ConnState.OPEN
        else:
            can_send = conn.server_end and conn.state is not ConnState.CLOSED
        if not can_send:
            self._trace_net("drop", conn, way, why="closed")
            return
        engine = self.engine
        if engine.idle:  # the common case: a clean network (_schedule, inlined)
            kernel = self.kernel
            arrival = kernel.clock._now + engine.latency
            floor = conn.floor
            last = floor[way]
            arrival = last if last > arrival else arrival  # max(), without the call
            floor[way] = arrival
            arrive = self._arrive_up if way is UP else self._arrive_down
            kernel.post(arrival, arrive, conn, frame)
            return
        self._through_faults(conn, way, frame if isinstance(frame, str) else frame.text)

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
        self.engine.forget(conn.id, discard=True)  # what it held dies with it
        if self.trace_connections:
            self.tracer.emit("net", "close", conn=conn.id, by="net", reason=reason)
        self._tell_client(conn, reason, not conn.made)
        self._tell_server(conn)

    def _forget_if_done(self, conn: Connection) -> None:
        if not (conn.client_end or conn.server_end):
            self.connections.pop(conn.id, None)
            self.engine.forget(conn.id)

    # -- frames -------------------------------------------------------------------------
    def _through_faults(self, conn: Connection, way: Direction, text: str) -> None:
        """A frame sent while faults are active: the fault engine decides its fate."""
        engine = self.engine
        if way is DOWN:
            self._genuine.add(hash(text))
        deliveries = engine.decide(text, way, self.kernel.now, conn.link)
        self._trace_notes()
        for d in deliveries:
            self._schedule_at(conn, way, d.at, self._deliver, conn, way, d.text, True)
        self._arm_release()

    def _arm_release(self) -> None:
        """One kernel wake-up at the engine's next release (an early one finds nothing)."""
        deadline = self.engine.next_deadline()
        if deadline is not None and (self._wake_at is None or deadline < self._wake_at):
            self._wake_at = deadline
            self.kernel.call_at(max(deadline, self.kernel.now), self._release_due)

    def _release_due(self) -> None:
        self._wake_at = None
        self._deliver_released(self.engine.due(self.kernel.now))
        self._arm_release()

    def _deliver_released(self, released: list[Released]) -> None:
        now = self.kernel.now
        for item in released:
            conn = self.connections.get(item.link.conn)
            delivery = item.delivery
            if conn is None:  # closed at both ends meanwhile
                self._trace_net_link("drop", item.link.conn, item.way, why="closed")
            elif delivery.at <= now:
                conn.floor[item.way] = max(conn.floor[item.way], now)
                self._deliver(conn, item.way, delivery.text, True)
            else:
                deliver, way, text = self._deliver, item.way, delivery.text
                self._schedule_at(conn, way, delivery.at, deliver, conn, way, text, True)

    def _deliver(
        self, conn: Connection, way: Direction, frame: Frame, faulted: bool = False
    ) -> None:
        """`faulted`: the frame went through the fault engine (text, maybe corrupt)."""
        now = self.kernel.clock._now
        if way is UP:
            if conn.server_end:
                self.servers[conn.instance].receive(conn.id, frame, now)
                return
        elif conn.client_end and conn.made:
            if faulted and self.on_foreign is not None and hash(frame) not in self._genuine:
                self.on_foreign(conn.client, now)
            self.clients[conn.client].frame_received(frame, now)
            return
        self._trace_net("drop", conn, way, why="closed")

    def _arrives_up(self, conn: Connection, frame: Frame) -> None:
        """`_deliver` of a clean network's frame to the server."""
        if conn.server_end:
            self.servers[conn.instance].receive(conn.id, frame, self.kernel.clock._now)
        else:
            self._trace_net("drop", conn, UP, why="closed")

    def _arrives_down(self, conn: Connection, frame: Frame) -> None:
        """`_deliver` of a clean network's frame (never foreign) to the client."""
        if conn.client_end and conn.made:
            self.clients[conn.client].frame_received(frame, self.kernel.clock._now)
        else:
            self._trace_net("drop", conn, DOWN, why="closed")

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
        return self._schedule_at(conn, way, self.kernel.now + delay, fn, *args)

    def _schedule_at(
        self,
        conn: Connection,
        way: Direction,
        arrival: float,
        fn: Callable[..., object],
        *args: object,
    ) -> float:
        kernel = self.kernel
        floor = conn.floor[way]
        arrival = floor if floor > arrival else arrival  # max(), without the call
        conn.floor[way] = arrival
        kernel.post(arrival, fn, *args)
        return arrival

    def _path_delay(self, conn: Connection, way: Direction) -> float:
        if self.engine.idle:
            return self.engine.latency
        return self.engine.path_delay(way, self.kernel.now, conn.link)

    def _round_trip(self, conn: Connection) -> float:
        return self._path_delay(conn, UP) + self._path_delay(conn, DOWN)

    # -- faults -------------------------------------------------------------------------
    def _outage_hits(self, conn: Connection) -> bool:
        return not self.engine.idle and self.engine.refuses(self.kernel.now, conn.link)

    def _fault_starts(self, fault: Fault, box: list[int]) -> None:
        now = self.kernel.now
        box.append(self.engine.add(fault, now))
        self.tracer.emit("fault", "fault.start", fault=fault.as_dict())
        if fault.kind != "outage":
            return
        for conn in list(self.connections.values()):
            if (conn.client_end or conn.server_end) and self.engine.closes(now, conn.link):
                self._abort(conn, "outage")

    def _fault_ends(self, fault: Fault, box: list[int]) -> None:
        if box:
            self.engine.remove(box.pop())
        self.tracer.emit("fault", "fault.end", fault=fault.as_dict())
        self._deliver_released(self.engine.due(self.kernel.now))
        self._arm_release()

    def _trace_notes(self) -> None:
        for note in self.engine.take_notes():
            self._trace_net_link(note.kind, note.link.conn, note.way, **dict(note.data))

    def _trace_net_link(self, kind: str, conn_id: str, way: Direction, **data: object) -> None:
        self.tracer.emit("net", kind, conn=conn_id, dir=way.value, **data)

    def _trace_net(self, kind: str, conn: Connection, way: Direction, **data: object) -> None:
        self.tracer.emit("net", kind, conn=conn.id, dir=way.value, **data)
