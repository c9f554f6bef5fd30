"""The simulated network's values: its ends (what it tells clients and servers)
and its connections. Split out of `sim.network`, which re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from sim.fault_engine import Link
from sim.faults import Direction

UP, DOWN = Direction.UP, Direction.DOWN


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


@dataclass(eq=False, slots=True)
class Connection:
    id: str
    client: str
    instance: str
    state: ConnState = ConnState.OPENING
    client_end: bool = True  # the client still listens on it
    server_end: bool = False  # the server accepted it and still listens
    made: bool = False  # the client was told it is open
    floor: dict[Direction, float] = field(default_factory=lambda: {UP: 0.0, DOWN: 0.0})

    @property
    def is_open(self) -> bool:
        return self.state is ConnState.OPEN

    @property
    def link(self) -> Link:
        return Link(self.id, self.instance, client=self.client)
