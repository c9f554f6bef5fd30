"""The typed values a server's replies are parsed into (`transport.replies` parses them).

One value per message, made for every frame: they write their `__init__` out so
that the compiled build makes them natively, and `quick_init` stands in for it in
pure Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from statecharts.values import quick_init_all
from transport.checks import AdviceUpdate


@dataclass(frozen=True, slots=True)  # one per message: no instance dict
class MetaReply:
    """A reply on a /meta/ channel."""

    channel: str
    id: str | None
    successful: bool
    error: str | None
    advice: AdviceUpdate | None
    client_id: str | None = None  # handshake
    connection_types: tuple[str, ...] | None = None  # handshake; None: not listed
    ack: int | None = None  # connect: ext.ack (the batch delivered with it)
    subscription: str | None = None

    def __init__(  # noqa: PLR0917 (the dataclass's own signature)
        self,
        channel: str,
        id: str | None,
        successful: bool,
        error: str | None,
        advice: AdviceUpdate | None,
        client_id: str | None = None,
        connection_types: tuple[str, ...] | None = None,
        ack: int | None = None,
        subscription: str | None = None,
    ) -> None:
        # Written out so that the compiled build makes it natively (quick_init
        # stands in for it in pure Python).
        object.__setattr__(self, "channel", channel)
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "successful", successful)
        object.__setattr__(self, "error", error)
        object.__setattr__(self, "advice", advice)
        object.__setattr__(self, "client_id", client_id)
        object.__setattr__(self, "connection_types", connection_types)
        object.__setattr__(self, "ack", ack)
        object.__setattr__(self, "subscription", subscription)

    @property
    def error_code(self) -> int | None:
        return bayeux_error_code(self.error)


@dataclass(frozen=True)
class CommandError:
    code: int
    description: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class LoginResult:
    chat_id: str
    secure_key: str
    instance: str | None
    position: int


@dataclass(frozen=True)
class ReplayResult:
    instance: str | None
    position: int | None
    replayed: int


@dataclass(frozen=True, slots=True)  # one per message: no instance dict
class ServiceReply:
    """A reply on /service/chat: a result, a command error or a Bayeux failure."""

    id: str | None
    successful: bool
    error: str | None  # the Bayeux error when not successful
    result: dict[str, Any] | None = None
    command_error: CommandError | None = None
    login: LoginResult | None = None  # requestChat's result
    index: int | None = None  # sendMessage's result
    replay: ReplayResult | None = None  # requestNotifications' result
    ack_only: bool = False  # a publish ack without data: the result follows

    def __init__(  # noqa: PLR0917 (the dataclass's own signature)
        self,
        id: str | None,
        successful: bool,
        error: str | None,
        result: dict[str, Any] | None = None,
        command_error: CommandError | None = None,
        login: LoginResult | None = None,
        index: int | None = None,
        replay: ReplayResult | None = None,
        ack_only: bool = False,
    ) -> None:
        # Written out so that the compiled build makes it natively (quick_init
        # stands in for it in pure Python).
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "successful", successful)
        object.__setattr__(self, "error", error)
        object.__setattr__(self, "result", result)
        object.__setattr__(self, "command_error", command_error)
        object.__setattr__(self, "login", login)
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "replay", replay)
        object.__setattr__(self, "ack_only", ack_only)

    @property
    def error_code(self) -> int | None:
        return bayeux_error_code(self.error)


@dataclass(frozen=True, slots=True)  # one per message: no instance dict
class TranscriptItem:
    """One chat event delivered on /chat/<chatId>; index None: not indexed (typing)."""

    index: int | None
    type: str
    party: str | None
    text: str | None
    client_message_id: str | None

    def __init__(
        self,
        index: int | None,
        type: str,
        party: str | None,
        text: str | None,
        client_message_id: str | None,
    ) -> None:
        # Written out so that the compiled build makes it natively (quick_init
        # stands in for it in pure Python).
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "party", party)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "client_message_id", client_message_id)


@dataclass(frozen=True, slots=True)  # one per message: no instance dict
class Delivery(TranscriptItem):
    """A chat event on /chat/<chatId>: its transcript item, where and as it came
    (one value, not an item inside a delivery: one object less per delivery)."""

    channel: str
    data: dict[str, Any]  # as delivered (PolyAI's session end is read from it)

    def __init__(  # noqa: PLR0917 (the dataclass's own signature)
        self,
        index: int | None,
        type: str,
        party: str | None,
        text: str | None,
        client_message_id: str | None,
        channel: str,
        data: dict[str, Any],
    ) -> None:
        # Written out so that the compiled build makes it natively (quick_init
        # stands in for it in pure Python).
        TranscriptItem.__init__(self, index, type, party, text, client_message_id)
        object.__setattr__(self, "channel", channel)
        object.__setattr__(self, "data", data)

    @property
    def item(self) -> TranscriptItem:
        return self


@dataclass(frozen=True)
class OtherMessage:
    """A message on any other channel (broadcast deliveries, publish replies)."""

    channel: str
    id: str | None
    successful: bool | None  # None: no 'successful' (a delivery)
    data: Any
    has_data: bool


Reply = MetaReply | ServiceReply | Delivery | OtherMessage


def bayeux_error_code(error: str | None) -> int | None:
    """The numeric part of a Bayeux `error` ('402::Unknown client' -> 402)."""
    if error is None:
        return None
    head = error.split(":", 1)[0]
    return int(head) if head.isdigit() and len(head) < 6 else None


# Pure Python only (a compiled build's classes are built natively already; the slotted
# ones need no faster __init__).
quick_init_all(
    MetaReply,
    ServiceReply,
    TranscriptItem,
    Delivery,
    CommandError,
    LoginResult,
    ReplayResult,
    OtherMessage,
)
