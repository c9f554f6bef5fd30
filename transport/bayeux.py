"""The Bayeux client layer: request ids, outstanding requests, advice, reply validation.

Sans-I/O: it builds messages and remembers what is outstanding with a
deadline; the client core decides when to send them and what a reply means
for the chat session. `reply_problem` is the client-side validation of
ARCHITECTURE.md ("Client-side validation"): any message it rejects is an
invalid server reply (EventError 151).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeGuard

from statecharts.dialects import read_error
from transport import wire
from transport.wire import ConnectionType, Message, Operation

MS = 1000.0
_RECONNECT_VALUES = frozenset(r.value for r in wire.Reconnect)


class RequestKind(StrEnum):
    HANDSHAKE = "handshake"
    CONNECT = "connect"
    SUBSCRIBE = "subscribe"
    PUBLISH = "publish"
    DISCONNECT = "disconnect"


@dataclass(frozen=True)
class Pending:
    """One request waiting for its reply."""

    kind: RequestKind
    deadline: float
    message: Message
    operation: Operation | None = None
    command_id: str | None = None
    purpose: str = ""  # why the core sent it (e.g. "restore", "catch-up")


@dataclass
class Advice:
    reconnect: wire.Reconnect = wire.Reconnect.RETRY
    interval: float = 0.0  # seconds between a connect reply and the next connect
    hold: float = 30.0  # seconds the server may hold a connect (advice.timeout)

    def update(self, advice: object) -> None:
        if not isinstance(advice, dict):
            return
        reconnect = advice.get("reconnect")
        if reconnect in _RECONNECT_VALUES:
            self.reconnect = wire.Reconnect(reconnect)
        interval = advice.get("interval")
        if _is_number(interval) and interval >= 0:
            self.interval = interval / MS
        timeout = advice.get("timeout")
        if _is_number(timeout) and timeout >= 0:
            self.hold = timeout / MS


@dataclass
class BayeuxClient:
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

    def negotiate(self, server_types: object) -> bool:
        """Adopt the first type we prefer that the server also supports.

        A reply that lists no types keeps ours (older servers leave it out).
        """
        if not isinstance(server_types, list):
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
        msg: Message = {
            "channel": wire.META_CONNECT,
            "clientId": self.client_id,
            "connectionType": self.connection_type.value,
            "id": self.new_id(),
            "ext": {"ack": self.ack},
        }
        hold = self.advice.hold
        if immediate:
            msg["advice"] = {"timeout": 0}
            hold = 0.0
        deadline = now + hold + self.max_network_delay
        return self._track(RequestKind.CONNECT, deadline, msg)

    def subscribe(self, channel: str, now: float) -> Message:
        msg: Message = {
            "channel": wire.META_SUBSCRIBE,
            "clientId": self.client_id,
            "subscription": channel,
            "id": self.new_id(),
        }
        return self._track(RequestKind.SUBSCRIBE, now + self.max_network_delay, msg)

    def publish(
        self,
        data: dict[str, Any],
        now: float,
        *,
        command_id: str | None = None,
        purpose: str = "",
    ) -> Message:
        msg: Message = {
            "channel": wire.SERVICE_CHAT,
            "clientId": self.client_id,
            "id": self.new_id(),
            "data": data,
        }
        operation = Operation(data["operation"])
        deadline = now + self.max_network_delay
        pending = Pending(RequestKind.PUBLISH, deadline, msg, operation, command_id, purpose)
        self.pending[msg["id"]] = pending
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
            data = dict(old.message["data"])
            return self.publish(data, now, command_id=old.command_id, purpose=old.purpose)
        msg = dict(old.message)
        msg["id"] = self.new_id()
        if "clientId" in msg:
            msg["clientId"] = self.client_id
        return self._track(old.kind, now + self.max_network_delay, msg)

    def _track(self, kind: RequestKind, deadline: float, msg: Message) -> Message:
        self.pending[msg["id"]] = Pending(kind, deadline, msg)
        return msg

    # -- bookkeeping ---------------------------------------------------------
    def lookup(self, msg: Message) -> Pending | None:
        ident = msg.get("id")
        return self.pending.get(ident) if isinstance(ident, str) else None

    def resolve(self, msg: Message) -> Pending | None:
        ident = msg.get("id")
        return self.pending.pop(ident, None) if isinstance(ident, str) else None

    def next_deadline(self) -> float | None:
        # A plain loop: asked several times per input over one to three requests.
        earliest: float | None = None
        for pending in self.pending.values():
            deadline = pending.deadline
            if earliest is None or deadline < earliest:
                earliest = deadline
        return earliest

    def overdue(self, now: float) -> bool:
        deadline = self.next_deadline()
        return deadline is not None and deadline <= now

    def connection_gone(self) -> None:
        """Every outstanding request died with the connection."""
        self.pending.clear()

    def forget(self) -> None:
        """The server no longer knows us (or we move): the next step is a handshake."""
        self.client_id = None
        self.ack = -1
        self.pending.clear()

    def took_batch(self, reply: Message) -> None:
        ext = reply.get("ext")
        if isinstance(ext, dict) and _is_int(ext.get("ack")):
            self.ack = max(self.ack, int(ext["ack"]))


# -- validation ----------------------------------------------------------------
def reply_problem(msg: Message, pending: Pending | None) -> str | None:
    """Why a server message fails client-side validation, or None when it is fine."""
    channel: str = msg["channel"]
    if channel.startswith("/meta/"):
        return _meta_problem(msg)
    if channel == wire.SERVICE_CHAT:
        return _service_problem(msg, pending)
    if channel.startswith(wire.CHAT_PREFIX):
        return _delivery_problem(msg)
    return None


def _meta_problem(msg: Message) -> str | None:
    if not isinstance(msg.get("successful"), bool):
        return f"{msg['channel']} reply: 'successful' is not a boolean"
    if msg["channel"] == wire.META_HANDSHAKE and msg["successful"]:
        client_id = msg.get("clientId")
        if not isinstance(client_id, str) or not client_id:
            return "handshake reply without 'clientId'"
    ext = msg.get("ext")
    if msg["channel"] == wire.META_CONNECT and isinstance(ext, dict):
        ack = ext.get("ack")
        if ack is not None and not _is_int(ack):
            return "connect reply: 'ext.ack' is not an integer"
    return None


def _service_problem(msg: Message, pending: Pending | None) -> str | None:
    if not isinstance(msg.get("successful"), bool):
        return "service reply: 'successful' is not a boolean"
    if not msg["successful"] or "data" not in msg:
        return None  # a failure, or the publish ack that CometD servers send beside the result
    data = msg.get("data")
    if not isinstance(data, dict) or ("result" not in data and "error" not in data):
        return "service reply: 'data' has neither 'result' nor 'error'"
    if "error" in data:
        if command_error(data["error"]) is None:
            return "service reply: 'error' is no known error payload"
        return None
    result = data["result"]
    if not isinstance(result, dict):
        return "service reply: 'result' is not an object"
    operation = pending.operation if pending is not None else None
    return _result_problem(operation, result)


def _result_problem(operation: Operation | None, result: dict[str, Any]) -> str | None:
    if operation is Operation.REQUEST_CHAT:
        for key in ("chatId", "secureKey"):
            if not isinstance(result.get(key), str) or not result[key]:
                return f"requestChat result without a string '{key}'"
    if operation is Operation.SEND_MESSAGE and not _is_int(result.get("index")):
        return "sendMessage result without an integer 'index'"
    if operation is Operation.REQUEST_NOTIFICATIONS:
        for key in ("position", "replayed"):
            if key in result and not _is_int(result[key]):
                return f"requestNotifications result: '{key}' is not an integer"
    return None


def _delivery_problem(msg: Message) -> str | None:
    data = msg.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return "chat delivery without a 'data.type'"
    if data["type"] in wire.INDEXED_TYPES:
        index = data.get("index")
        if not _is_int(index) or index < 1:
            return f"{data['type']} delivery without an integer 'index'"
    return None


def command_error(payload: object) -> tuple[int, str, dict[str, Any]] | None:
    """(code, description, data) of a chat command error in any server dialect."""
    found = read_error(payload)
    if found is not None:
        return found
    if isinstance(payload, dict) and _is_int(payload.get("code")):
        description = payload.get("description")
        data = payload.get("data")
        return (
            payload["code"],
            description if isinstance(description, str) else "",
            data if isinstance(data, dict) else {},
        )
    return None


def error_code(reply: Message) -> int | None:
    """The numeric part of a Bayeux `error` string ('402::Unknown client' -> 402)."""
    error = reply.get("error")
    if not isinstance(error, str):
        return None
    head = error.split(":", 1)[0]
    return int(head) if head.isdigit() else None


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
