"""What the client core hands its driver, and how it is configured."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from statecharts.chart import Timers
from statecharts.values import quick_init
from transport.wire import ConnectionType, Message


@quick_init
@dataclass(frozen=True)
class OpenConnection:
    instance: str


@quick_init
@dataclass(frozen=True)
class SendFrame:
    """A frame to send: its `text`, and the `messages` it encodes for a peer in this
    process that takes values (read-only: the client keeps them for a resend)."""

    text: str
    messages: tuple[Message, ...] = field(default=(), compare=False, repr=False)


@quick_init
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
