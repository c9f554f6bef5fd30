"""The simulated network's values: its ends (what it tells clients and servers)
and its connections. Split out of `sim.network`, which re-exports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from sim.fault_engine import Link
from sim.faults import Direction
from transport.wire import Message

UP, DOWN = Direction.UP, Direction.DOWN


class FrameValue(Protocol):
    """A frame as values (a client core's `SendFrame`, a server core's `Reply`): its
    messages, and their JSON text, encoded only when asked."""

    @property
    def messages(self) -> Sequence[Message]: ...
    @property
    def text(self) -> str: ...


# What travels: values on a clean network (nothing needs the bytes), text once a
# fault may break it (and whenever a sender hands text).
Frame = str | FrameValue


class ClientSide(Protocol):
    """What the network tells a client (the client core's network inputs)."""

    def connection_made(self, now: float) -> None: ...
    def connection_failed(self, now: float, reason: str) -> None: ...
    def connection_closed(self, now: float, reason: str) -> None: ...
    def frame_received(self, frame: Frame, now: float) -> None: ...


class ServerSide(Protocol):
    """What the network tells a server instance (the server core's network inputs)."""

    def open(self, conn_id: str, now: float) -> bool: ...
    def receive(self, conn_id: str, frame: Frame, now: float) -> None: ...
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
