"""What the client core hands its driver, and how it is configured."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from statecharts.chart import Timers
from statecharts.values import quick_init_all
from transport.wire import ConnectionType, LazyFrame


@dataclass(frozen=True)
class OpenConnection:
    instance: str


class SendFrame(LazyFrame):
    """A frame to send; the client keeps its `messages` for a resend."""

    __slots__ = ()


@dataclass(frozen=True)
class CloseConnection:
    reason: str


Output = OpenConnection | SendFrame | CloseConnection


@dataclass(frozen=True)
class ClientConfig:
    timers: Timers = field(default_factory=Timers)
    interruption_error: bool = True
    transport: ConnectionType = ConnectionType.WEBSOCKET
    failover_after: int = 2
    nickname: str = "client"
    subject: str | None = None


class LinkState(StrEnum):
    NONE = "none"
    OPENING = "opening"
    OPEN = "open"


# Pure Python only (a compiled build's classes are built natively already).
quick_init_all(OpenConnection, CloseConnection)
