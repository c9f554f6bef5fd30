"""Server replies, parsed at the boundary into typed values (or the reason they are invalid).

A frame from a server is untrusted: it may come from a foreign or hostile
server. `decode_frame` turns its text into Bayeux message objects and
`parse_message` turns each into a frozen value the client layers use as it
is — `MetaReply`, `ServiceReply`, `Delivery` or `OtherMessage` — or into
`Invalid(reason)`. Nothing here raises on bad input: every wrong shape, type,
non-finite or absurd number and over-deep nesting becomes `Invalid` (the
client reports EventError 151, drops the reply and goes on). The rules are
ARCHITECTURE.md's "Client-side validation".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from statecharts.dialects import read_error
from statecharts.errors import ProtocolViolation
from transport import wire
from transport.wire import Operation, Reconnect

MS = 1000.0
# Bounds on what a server may tell us: beyond them a value is hostile, not advice.
MAX_ADVICE_MS = 86_400_000  # a day
MAX_RETRY_AFTER = 86_400.0  # a day, in seconds
MAX_DEPTH = 32  # nesting of a frame's JSON (ours is at most 5 deep)
_RECONNECT_VALUES = frozenset(r.value for r in Reconnect)


@dataclass(frozen=True)
class Invalid:
    reason: str


@dataclass(frozen=True)
class AdviceUpdate:
    """What a reply's `advice` changes (None: not given)."""

    reconnect: Reconnect | None = None
    interval: float | None = None  # seconds
    hold: float | None = None  # seconds (advice.timeout)


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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

    @property
    def error_code(self) -> int | None:
        return bayeux_error_code(self.error)


@dataclass(frozen=True)
class TranscriptItem:
    """One chat event delivered on /chat/<chatId>; index None: not indexed (typing)."""

    index: int | None
    type: str
    party: str | None
    text: str | None
    client_message_id: str | None


@dataclass(frozen=True)
class Delivery:
    channel: str
    item: TranscriptItem
    data: dict[str, Any]  # as delivered (a broadcast service hands it on)


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


def decode_frame(text: str) -> list[wire.Message]:
    """Bayeux messages of a frame; ProtocolViolation (never anything else) if it is none."""
    try:
        messages = wire.decode(text)
    except RecursionError:
        raise ProtocolViolation("frame nests too deeply") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise ProtocolViolation(f"frame is not JSON: {exc}") from None
    # Nesting needs brackets: a frame with fewer than MAX_DEPTH of them needs no walk.
    if text.count("[") + text.count("{") > MAX_DEPTH and not _shallow(messages):
        raise ProtocolViolation(f"frame nests deeper than {MAX_DEPTH}")
    return messages


def parse_message(msg: wire.Message, operation: Operation | None) -> Reply | Invalid:
    """A typed reply, or why `msg` fails validation (`operation`: what it answers)."""
    channel: str = msg["channel"]
    if channel.startswith("/meta/"):
        return _meta(msg)
    if channel == wire.SERVICE_CHAT:
        return _service(msg, operation)
    if channel.startswith(wire.CHAT_PREFIX):
        return _delivery(msg)
    successful = msg.get("successful")
    return OtherMessage(
        channel,
        _opt_str(msg.get("id")),
        None if "successful" not in msg else successful is True,
        msg.get("data"),
        "data" in msg,
    )


def parse_advice(advice: object) -> AdviceUpdate | Invalid | None:
    if advice is None:
        return None
    if not isinstance(advice, dict):
        return Invalid("'advice' is not an object")
    reconnect = advice.get("reconnect")
    if reconnect is not None and (
        not isinstance(reconnect, str) or reconnect not in _RECONNECT_VALUES
    ):
        return Invalid("advice.reconnect is not retry, handshake or none")
    times: list[float | None] = []
    for key in ("interval", "timeout"):
        value = advice.get(key)
        if value is None:
            times.append(None)
        elif _is_number(value) and 0 <= value <= MAX_ADVICE_MS:
            times.append(value / MS)
        else:
            return Invalid(f"advice.{key} is not a number of ms in [0, {MAX_ADVICE_MS}]")
    return AdviceUpdate(Reconnect(reconnect) if reconnect is not None else None, times[0], times[1])


def retry_after(data: Mapping[str, Any]) -> float | Invalid | None:
    """`data.retryAfter` of a 'not ready' error, in seconds (None: not given)."""
    value = data.get("retryAfter")
    if value is None:
        return None
    if _is_number(value) and 0 <= value <= MAX_RETRY_AFTER:
        return float(value)
    if _is_number(value) and value < 0:
        return None  # a negative wait means "no advice"
    return Invalid(f"retryAfter is not a number of seconds in [0, {MAX_RETRY_AFTER:g}]")


# -- /meta/ ----------------------------------------------------------------------
def _meta(msg: wire.Message) -> MetaReply | Invalid:
    channel: str = msg["channel"]
    successful = msg.get("successful")
    if not isinstance(successful, bool):
        return Invalid(f"{channel} reply: 'successful' is not a boolean")
    advice = parse_advice(msg.get("advice"))
    if isinstance(advice, Invalid):
        return Invalid(f"{channel} reply: {advice.reason}")
    client_id = msg.get("clientId")
    types: tuple[str, ...] | None = None
    if channel == wire.META_HANDSHAKE and successful:
        if not isinstance(client_id, str) or not client_id:
            return Invalid("handshake reply without 'clientId'")
        listed = msg.get("supportedConnectionTypes")
        if isinstance(listed, list):
            types = tuple(t for t in listed if isinstance(t, str))
    ack: int | None = None
    ext = msg.get("ext")
    if channel == wire.META_CONNECT and isinstance(ext, dict):
        value = ext.get("ack")
        if value is not None and not _is_int(value):
            return Invalid("connect reply: 'ext.ack' is not an integer")
        ack = value
    return MetaReply(
        channel,
        _opt_str(msg.get("id")),
        successful,
        _opt_str(msg.get("error")),
        advice,
        client_id if isinstance(client_id, str) else None,
        types,
        ack,
        _opt_str(msg.get("subscription")),
    )


# -- /service/chat ---------------------------------------------------------------
def _service(msg: wire.Message, operation: Operation | None) -> ServiceReply | Invalid:
    successful = msg.get("successful")
    if not isinstance(successful, bool):
        return Invalid("service reply: 'successful' is not a boolean")
    ident = _opt_str(msg.get("id"))
    if not successful:
        return ServiceReply(ident, False, _opt_str(msg.get("error")))
    if "data" not in msg:
        # The publish ack CometD servers send beside the result (same id, no data).
        return ServiceReply(ident, True, None, ack_only=True)
    data = msg.get("data")
    if not isinstance(data, dict) or ("result" not in data and "error" not in data):
        return Invalid("service reply: 'data' has neither 'result' nor 'error'")
    if "error" in data:
        error = command_error(data["error"])
        if error is None:
            return Invalid("service reply: 'error' is no known error payload")
        if operation is Operation.REQUEST_CHAT and error.code == 100:
            wait = retry_after(error.data)
            if isinstance(wait, Invalid):
                return Invalid(f"service reply: {wait.reason}")
        return ServiceReply(ident, True, None, command_error=error)
    result = data["result"]
    if not isinstance(result, dict):
        return Invalid("service reply: 'result' is not an object")
    return _result(ident, operation, result)


def _result(
    ident: str | None, operation: Operation | None, result: dict[str, Any]
) -> ServiceReply | Invalid:
    reply = ServiceReply(ident, True, None, result=result)
    if operation is Operation.REQUEST_CHAT:
        for key in ("chatId", "secureKey"):
            if not isinstance(result.get(key), str) or not result[key]:
                return Invalid(f"requestChat result without a string '{key}'")
        position = result.get("position")
        login = LoginResult(
            result["chatId"],
            result["secureKey"],
            _opt_str(result.get("instance")),
            position if _is_int(position) else 0,
        )
        return ServiceReply(ident, True, None, result=result, login=login)
    if operation is Operation.SEND_MESSAGE:
        if not _is_int(result.get("index")):
            return Invalid("sendMessage result without an integer 'index'")
        return ServiceReply(ident, True, None, result=result, index=result["index"])
    if operation is Operation.REQUEST_NOTIFICATIONS:
        for key in ("position", "replayed"):
            if key in result and not _is_int(result[key]):
                return Invalid(f"requestNotifications result: '{key}' is not an integer")
        replay = ReplayResult(
            _opt_str(result.get("instance")), result.get("position"), result.get("replayed", 0)
        )
        return ServiceReply(ident, True, None, result=result, replay=replay)
    return reply


def command_error(payload: object) -> CommandError | None:
    """A chat command error in any server dialect (None: not an error payload)."""
    try:
        found = read_error(payload)
    except (ValueError, TypeError, KeyError, OverflowError):
        found = None
    if found is not None:
        code, text, payload_data = found
        return CommandError(code, text, payload_data) if _is_code(code) else None
    if isinstance(payload, dict) and _is_code(payload.get("code")):
        description = payload.get("description")
        data = payload.get("data")
        return CommandError(
            payload["code"],
            description if isinstance(description, str) else "",
            data if isinstance(data, dict) else {},
        )
    return None


# -- /chat/<chatId> --------------------------------------------------------------
def _delivery(msg: wire.Message) -> Delivery | Invalid:
    data = msg.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return Invalid("chat delivery without a 'data.type'")
    index = data.get("index")
    if data["type"] in wire.INDEXED_TYPES and (not _is_int(index) or index < 1):
        return Invalid(f"{data['type']} delivery without an integer 'index'")
    item = TranscriptItem(
        index if _is_int(index) else None,
        data["type"],
        _opt_str(data.get("party")),
        _opt_str(data.get("text")),
        _opt_str(data.get("clientMessageId")),
    )
    return Delivery(msg["channel"], item, data)


# -- values ----------------------------------------------------------------------
def _shallow(value: object) -> bool:
    """True if `value` nests at most MAX_DEPTH containers deep (iterative: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_DEPTH:
            return False
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_code(value: object) -> TypeGuard[int]:
    return _is_int(value) and 0 <= value < 1_000_000


def _is_number(value: object) -> TypeGuard[int | float]:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and (isinstance(value, int) or math.isfinite(value))
    )
