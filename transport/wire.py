"""The wire: Bayeux 1.0 frames and the chat operations carried on them.

The protocol is in docs/ARCHITECTURE.md, "The chat protocol in detail".

Shared by the client core (`transport/`) and the server core (`sim/server/`),
so both sides agree on names. A frame is the JSON text of a list of Bayeux
message objects (a single object is accepted on input, as CometD does).

Chat operations are published on `/service/chat` with
`data = {"operation": <Operation>, ...parameters}`; the publish reply carries
the outcome in `data`: `{"operation", "result": {...}}` or
`{"operation", "error": {"code", "description", "data"}}`. Transcript events
are delivered on `/chat/<chatId>` with `data = {"index", "type", "party",
"text", "clientMessageId"?}`; typing notices carry no `index`.

Server→client deliveries use the CometD ack extension: a `/meta/connect`
request carries `ext.ack` = the last batch the client received (-1 at first),
the reply carries `ext.ack` = the id of the batch delivered with it, and the
server re-sends every batch not yet acknowledged.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from enum import IntEnum, StrEnum
from typing import Any, ClassVar

import msgspec

from statecharts.errors import ProtocolViolation

BAYEUX_VERSION = "1.0"
META_HANDSHAKE = "/meta/handshake"
META_CONNECT = "/meta/connect"
META_SUBSCRIBE = "/meta/subscribe"
META_UNSUBSCRIBE = "/meta/unsubscribe"
META_DISCONNECT = "/meta/disconnect"
SERVICE_CHAT = "/service/chat"
CHAT_PREFIX = "/chat/"

Message = dict[str, Any]


def chat_channel(chat_id: str) -> str:
    return CHAT_PREFIX + chat_id


_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def login_id(client_id: str, bits: int) -> str:
    """A requestChat's `clientRequestId`: a UUID (Layer refuses any other request id),
    derived from the client and its random bits, so a seeded run repeats it."""
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{client_id}-{bits:012x}"))


def is_uuid(value: object) -> bool:
    """Whether `value` is a UUID in its canonical 8-4-4-4-12 hex form."""
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


class ConnectionType(StrEnum):
    WEBSOCKET = "websocket"
    LONG_POLLING = "long-polling"


class Reconnect(StrEnum):
    """Bayeux `advice.reconnect`."""

    RETRY = "retry"
    HANDSHAKE = "handshake"
    NONE = "none"


class Operation(StrEnum):
    REQUEST_CHAT = "requestChat"
    SEND_MESSAGE = "sendMessage"
    SEND_TYPING = "sendTyping"
    REQUEST_NOTIFICATIONS = "requestNotifications"
    DISCONNECT = "disconnect"


class BayeuxError(IntEnum):
    """Numeric part of Bayeux `error` strings (`code::args::message`)."""

    BAD_REQUEST = 400
    UNKNOWN_CLIENT = 402
    BAD_CHANNEL = 403
    UNKNOWN_CHANNEL = 404
    UNSUPPORTED = 405
    TOO_LARGE = 413


def bayeux_error(code: BayeuxError, message: str, *args: str) -> str:
    return f"{int(code)}:{','.join(args)}:{message}"


# Transcript event types carried on /chat/<chatId>.
INDEXED_TYPES = frozenset({"Message", "ParticipantJoined", "ParticipantLeft", "Notice"})
TYPING = "Typing"


# A frame is encoded and decoded wherever its bytes matter: msgspec does it several times
# faster than the stdlib (measured on the bench's standard load). Anything it
# refuses (an integer beyond 64 bits, a lone surrogate, NaN) goes to the stdlib,
# so what is accepted and the error messages stay the stdlib's.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_fast_encode = msgspec.json.Encoder().encode
_fast_decode = msgspec.json.Decoder().decode


def encode(messages: Sequence[Message]) -> str:
    try:
        return _fast_encode(messages).decode()
    except (TypeError, ValueError, OverflowError, UnicodeError, msgspec.MsgspecError):
        return _ENCODER.encode(messages)


class LazyFrame:
    """One frame's `messages` (read-only once made) and their JSON `text`, encoded
    once and only when asked: a peer in this process takes the values, a wire (or a
    fault that breaks bytes) asks for the text. Equality, hash and repr read the
    attributes named in `shown`."""

    __slots__ = ("_text", "messages")
    shown: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(self, messages: Sequence[Message]) -> None:
        self.messages = messages
        self._text: str | None = None

    @property
    def text(self) -> str:
        text = self._text
        if text is None:
            text = self._text = encode(self.messages)
        return text

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.shown)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, LazyFrame)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self._values()))})"


def decode(text: str) -> list[Message]:
    """Parse a frame into Bayeux messages; ProtocolViolation says what is wrong."""
    try:
        value = _fast_decode(text)
    except (TypeError, ValueError, UnicodeError, msgspec.MsgspecError):
        value = _slow_decode(text)
    return messages_of(value)


def messages_of(value: Any) -> list[Message]:
    """The Bayeux messages of a decoded frame; ProtocolViolation says what is wrong."""
    # Untrusted until checked: typed `object`, so that a compiled build checks each
    # item here (as the code says) rather than when it is first taken as a dict.
    items: list[object] = value if isinstance(value, list) else []
    if isinstance(value, dict):
        items = [value]
    if not items:
        raise ProtocolViolation("frame is not a non-empty list of Bayeux messages")
    for item in items:
        if not isinstance(item, dict):
            raise ProtocolViolation("a Bayeux message is not an object")
        channel = item.get("channel")
        if not isinstance(channel, str) or channel[:1] != "/":
            raise ProtocolViolation("a Bayeux message has no valid 'channel'")
    return value if isinstance(value, list) else [value]


def _slow_decode(text: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise ProtocolViolation(f"frame is not JSON: {exc}") from None
