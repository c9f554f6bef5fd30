"""The Bayeux layer of the client: request ids, outstanding requests, advice.

Sans-I/O: it builds messages and remembers what is outstanding with a
deadline; the connection decides when to send them and a service what a reply
means. Replies reach it already parsed (`transport.replies`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from statecharts.values import quick_init_all
from transport import wire
from transport.checks import AdviceUpdate
from transport.wire import ConnectionType, Message, Operation


class RequestKind(StrEnum):
    HANDSHAKE = "handshake"
    CONNECT = "connect"
    SUBSCRIBE = "subscribe"
    PUBLISH = "publish"
    DISCONNECT = "disconnect"


class Purpose(StrEnum):
    """Why a service sent a request (what its reply, or its loss, means)."""

    NONE = ""
    LOGIN = "login"
    RESTORE = "restore"
    CATCH_UP = "catch-up"
    SUBSCRIBE = "bayeux-subscribe"
    PUBLISH = "publish"


@dataclass(frozen=True, slots=True)  # one per request: no instance dict
class Pending:
    """One request waiting for its reply."""

    kind: RequestKind
    deadline: float
    message: Message
    operation: Operation | None = None
    command_id: str | None = None
    purpose: Purpose = Purpose.NONE

    def __init__(  # noqa: PLR0917 (the dataclass's own signature)
        self,
        kind: RequestKind,
        deadline: float,
        message: Message,
        operation: Operation | None = None,
        command_id: str | None = None,
        purpose: Purpose = Purpose.NONE,
    ) -> None:
        # Written out so that the compiled build makes it natively (quick_init
        # stands in for it in pure Python).
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "deadline", deadline)
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "operation", operation)
        object.__setattr__(self, "command_id", command_id)
        object.__setattr__(self, "purpose", purpose)


@dataclass
class Advice:
    reconnect: wire.Reconnect = wire.Reconnect.RETRY
    interval: float = 0.0  # seconds between a connect reply and the next connect
    hold: float = 30.0  # seconds the server may hold a connect (advice.timeout)
    # The last update taken: nothing else sets these fields, so taking it again changes nothing.
    applied: AdviceUpdate | None = field(default=None, repr=False, compare=False)

    def update(self, advice: AdviceUpdate | None) -> None:
        if advice is None or advice is self.applied:
            return  # a server repeats its advice (parsed once: the same value)
        self.applied = advice
        if advice.reconnect is not None:
            self.reconnect = advice.reconnect
        if advice.interval is not None:
            self.interval = advice.interval
        if advice.hold is not None:
            self.hold = advice.hold


_CONNECT = RequestKind.CONNECT


@dataclass
class BayeuxLayer:
    """Bayeux state of one client: its clientId, acked batch and outstanding requests."""

    connection_type: ConnectionType
    max_network_delay: float
    advice: Advice
    client_id: str | None = None
    ack: int = -1  # last server batch received (CometD ack extension)
    pending: dict[str, Pending] = field(default_factory=dict)
    # A server's authentication challenge, answered by the next handshake (ext.nonce).
    challenge: str | None = None
    _next_id: int = 0

    def new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    # -- requests ----------------------------------------------------------
    def offered(self) -> list[str]:
        """Every type we can speak, the one in use first (our preference)."""
        rest = [t.value for t in ConnectionType if t is not self.connection_type]
        return [self.connection_type.value, *rest]

    def negotiate(self, server_types: Sequence[str] | None) -> bool:
        """Adopt the first type we prefer that the server also supports.

        A reply that lists no types keeps ours (older servers leave it out).
        """
        if server_types is None:
            return True
        for name in self.offered():
            if name in server_types:
                self.connection_type = ConnectionType(name)
                return True
        return False

    def handshake(self, now: float) -> Message:
        msg: Message = {
            "channel": wire.META_HANDSHAKE,
            "version": wire.BAYEUX_VERSION,
            "supportedConnectionTypes": self.offered(),
            "id": self.new_id(),
            "ext": {"ack": True},
        }
        if self.challenge is not None:
            msg["ext"]["nonce"], self.challenge = self.challenge, None
        return self._track(RequestKind.HANDSHAKE, now + self.max_network_delay, msg)

    def connect(self, now: float, *, immediate: bool) -> Message:
        """A /meta/connect; `immediate` asks the server not to hold it (advice timeout 0)."""
        self._next_id += 1  # new_id() and _track(), inline: one connect per server push
        ident = str(self._next_id)
        msg: Message = {
            "channel": wire.META_CONNECT,
            "clientId": self.client_id,
            "connectionType": self.connection_type._value_,  # not .value: a descriptor call
            "id": ident,
            "ext": {"ack": self.ack},
        }
        if immediate:
            msg["advice"] = {"timeout": 0}
            deadline = now + self.max_network_delay
        else:
            deadline = now + self.advice.hold + self.max_network_delay
        self.pending[ident] = Pending(_CONNECT, deadline, msg)
        return msg

    def subscribe(self, channel: str, now: float, purpose: Purpose = Purpose.NONE) -> Message:
        msg: Message = {
            "channel": wire.META_SUBSCRIBE,
            "clientId": self.client_id,
            "subscription": channel,
            "id": self.new_id(),
        }
        deadline = now + self.max_network_delay
        self.pending[msg["id"]] = Pending(RequestKind.SUBSCRIBE, deadline, msg, purpose=purpose)
        return msg

    def publish(
        self,
        data: dict[str, Any],
        now: float,
        *,
        command_id: str | None = None,
        purpose: Purpose = Purpose.NONE,
    ) -> Message:
        """A chat operation on /service/chat (`data["operation"]` names it)."""
        operation = Operation(data["operation"])
        return self.publish_to(
            wire.SERVICE_CHAT,
            data,
            now,
            command_id=command_id,
            purpose=purpose,
            operation=operation,
        )

    def publish_to(
        self,
        channel: str,
        data: Any,
        now: float,
        *,
        command_id: str | None = None,
        purpose: Purpose = Purpose.NONE,
        operation: Operation | None = None,
    ) -> Message:
        self._next_id += 1  # new_id(), inline: one publish per application message
        ident = str(self._next_id)
        msg: Message = {"channel": channel, "clientId": self.client_id, "id": ident, "data": data}
        deadline = now + self.max_network_delay
        pending = Pending(RequestKind.PUBLISH, deadline, msg, operation, command_id, purpose)
        self.pending[ident] = pending
        return msg

    def disconnect(self, now: float) -> Message:
        msg: Message = {
            "channel": wire.META_DISCONNECT,
            "clientId": self.client_id,
            "id": self.new_id(),
        }
        return self._track(RequestKind.DISCONNECT, now + self.max_network_delay, msg)

    def resend(self, old: Pending, now: float) -> Message:
        """The same request again under a fresh id (its old reply was lost)."""
        if old.kind is RequestKind.CONNECT:
            return self.connect(now, immediate=True)
        if old.kind is RequestKind.PUBLISH:
            return self.publish_to(
                old.message["channel"],
                old.message["data"],
                now,
                command_id=old.command_id,
                purpose=old.purpose,
                operation=old.operation,
            )
        msg = dict(old.message)
        msg["id"] = self.new_id()
        if "clientId" in msg:
            msg["clientId"] = self.client_id
        return self._track(old.kind, now + self.max_network_delay, msg)

    def _track(self, kind: RequestKind, deadline: float, msg: Message) -> Message:
        self.pending[msg["id"]] = Pending(kind, deadline, msg)
        return msg

    def has_pending(self, purpose: Purpose) -> bool:
        return any(p.purpose is purpose for p in self.pending.values())

    # -- bookkeeping ---------------------------------------------------------
    def lookup(self, msg: Message) -> Pending | None:
        ident = msg.get("id")
        return self.pending.get(ident) if isinstance(ident, str) else None

    def resolve(self, ident: str | None) -> Pending | None:
        """The request a reply with this `id` answers, no longer outstanding."""
        return self.pending.pop(ident, None) if ident is not None else None

    def next_deadline(self) -> float | None:
        # A plain loop: asked several times per input over one to three requests.
        earliest: float | None = None
        for pending in self.pending.values():
            deadline = pending.deadline
            if earliest is None or deadline < earliest:
                earliest = deadline
        return earliest

    def connection_gone(self) -> None:
        """Every outstanding request died with the connection."""
        self.pending.clear()

    def forget(self) -> None:
        """The server no longer knows us (or we move): the next step is a handshake."""
        self.client_id = None
        self.ack = -1
        self.pending.clear()

    def took_batch(self, ack: int | None) -> None:
        if ack is not None and ack > self.ack:
            self.ack = ack


# Pure Python only (a compiled build's classes are built natively already).
quick_init_all(Pending)
