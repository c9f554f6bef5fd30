"""What the client core hands its driver, and how it is configured."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from statecharts.chart import Timers
from statecharts.values import quick_init
from transport.wire import ConnectionType, Message, encode


@quick_init
@dataclass(frozen=True)
class OpenConnection:
    instance: str


class SendFrame:
    """A frame to send: the `messages` it carries (read-only: the client keeps them for
    a resend) and their JSON `text`, encoded only when asked: a peer in this process
    takes the values, a wire (or a fault that breaks bytes) asks for the text."""

    __slots__ = ("_text", "messages")

    def __init__(self, messages: tuple[Message, ...]) -> None:
        self.messages = messages
        self._text: str | None = None

    @property
    def text(self) -> str:
        text = self._text
        if text is None:
            text = self._text = encode(list(self.messages))
        return text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SendFrame) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"SendFrame({self.text!r})"


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
