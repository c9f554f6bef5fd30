"""A client core wired straight to the sans-I/O server cluster: no kernel, no network.

Frames arrive at once; time moves only through `run_until`, which wakes both
cores at their deadlines. `outage(until)` closes the client's connection and
refuses new ones until then. Used to test a client core against the real
server core (chat or broadcast) in a few lines.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sim.server import Cluster, Drop, Reply
from statecharts.events import AppEvent
from transport.connection import ClientConnection
from transport.outputs import CloseConnection, OpenConnection, SendFrame


@dataclass
class Pair:
    cluster: Cluster
    clients: list[ClientConnection] = field(default_factory=list)
    now: float = 0.0
    events: dict[str, list[tuple[float, AppEvent]]] = field(default_factory=dict)
    _links: dict[str, tuple[str, str]] = field(default_factory=dict)  # client -> (instance, conn)
    _refuse_until: float = 0.0
    _seq: int = 0

    @classmethod
    def new(cls, *clients: ClientConnection, instances: tuple[str, ...] = ("i1",)) -> Pair:
        cluster = Cluster(list(instances), rng=random.Random(1))
        return cls(cluster, list(clients))

    def start(self) -> None:
        for client in self.clients:
            client.start(self.now)
        self.pump()

    def of(self, client: ClientConnection, kind: str) -> list[AppEvent]:
        return [e for _, e in self.events.get(client.client_id, []) if e.kind == kind]

    def pump(self) -> None:
        for _ in range(1000):
            moved = False
            for client in self.clients:
                outputs = client.take_outputs()
                moved |= bool(outputs)
                for out in outputs:
                    self._client_output(client, out)
                taken = client.take_events()
                self.events.setdefault(client.client_id, []).extend(taken)
            server = self.cluster.take_outputs()
            moved |= bool(server)
            for instance, reply in server:
                self._server_output(instance, reply)
            if not moved:
                return
        raise AssertionError("the pair does not settle")

    def run_until(self, t: float) -> None:
        while True:
            due = [d for d in (self._next(), t) if d is not None]
            step = min(due)
            if step > t:
                break
            self.now = max(self.now, step)
            for client in self.clients:
                client.tick(self.now)
            self.cluster.tick(self.now)
            self.pump()
            if step >= t:
                break
        self.now = t

    def outage(self, until: float) -> None:
        """Close every client connection now; refuse new ones until `until`."""
        self._refuse_until = until
        for client in self.clients:
            link = self._links.pop(client.client_id, None)
            if link is not None:
                self.cluster.instances[link[0]].closed(link[1], self.now)
                client.connection_closed(self.now, "outage")
        self.pump()

    def _next(self) -> float | None:
        deadlines = [c.next_deadline() for c in self.clients] + [self.cluster.next_deadline()]
        known = [d for d in deadlines if d is not None]
        return min(known) if known else None

    def _client_output(self, client: ClientConnection, out: object) -> None:
        if isinstance(out, OpenConnection):
            self._seq += 1
            conn_id = f"{client.client_id}-conn{self._seq}"
            refused = self.now < self._refuse_until
            if refused or not self.cluster.instances[out.instance].open(conn_id, self.now):
                client.connection_failed(self.now, "refused")
                return
            self._links[client.client_id] = (out.instance, conn_id)
            client.connection_made(self.now)
        elif isinstance(out, SendFrame):
            link = self._links.get(client.client_id)
            if link is not None:
                self.cluster.instances[link[0]].receive(link[1], out.text, self.now)
        elif isinstance(out, CloseConnection):
            link = self._links.pop(client.client_id, None)
            if link is not None:
                self.cluster.instances[link[0]].closed(link[1], self.now)

    def _server_output(self, instance: str, out: Reply | Drop) -> None:
        for client in self.clients:
            link = self._links.get(client.client_id)
            if link != (instance, out.conn_id):
                continue
            if isinstance(out, Reply):
                client.frame_received(out.text, self.now)
            else:
                del self._links[client.client_id]
                client.connection_closed(self.now, out.reason)
