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

from collections.abc import Mapping
from typing import Any

from statecharts.dialects import read_error
from statecharts.errors import ProtocolViolation
from transport import wire
from transport.bayeux import Pending
from transport.checks import (
    MAX_DEPTH,
    Invalid,
    is_code,
    is_int,
    opt_str,
    parse_advice,
    retry_after,
    shallow,
)
from transport.reply_values import (
    CommandError,
    Delivery,
    LoginResult,
    MetaReply,
    OtherMessage,
    ReplayResult,
    Reply,
    ServiceReply,
    TranscriptItem,
    bayeux_error_code,
)
from transport.wire import Operation

_META_HANDSHAKE = wire.META_HANDSHAKE
_META_CONNECT = wire.META_CONNECT
_SERVICE_CHAT = wire.SERVICE_CHAT
_CHAT_PREFIX = wire.CHAT_PREFIX
_INDEXED_TYPES = wire.INDEXED_TYPES


def decode_frame(text: str | list[wire.Message]) -> list[wire.Message]:
    """Bayeux messages of a frame; ProtocolViolation (never anything else) if it is none.

    A frame may come as values (a list of messages) from a peer in the same process
    that built it (the simulator's server core): checked as a decoded frame is, less
    the nesting walk (such a peer nests at most five deep).
    """
    if not isinstance(text, str):
        return wire.messages_of(text)
    try:
        messages = wire.decode(text)
    except RecursionError:
        raise ProtocolViolation("frame nests too deeply") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise ProtocolViolation(f"frame is not JSON: {exc}") from None
    # Nesting needs brackets: a frame with fewer than MAX_DEPTH of them needs no walk.
    if text.count("[") + text.count("{") > MAX_DEPTH and not shallow(messages):
        raise ProtocolViolation(f"frame nests deeper than {MAX_DEPTH}")
    return messages


def parse_message(msg: wire.Message, requests: Mapping[str, Pending]) -> Reply | Invalid:
    """A typed reply, or why `msg` fails validation (`requests`: the outstanding ones,
    by id: a /service/chat reply is read as what its request asked for).

    One dispatch on the channel, the common kinds first; each kind reads only its fields.
    """
    channel: str = msg["channel"]
    if channel == _META_CONNECT:
        return _meta(msg, channel)
    if channel.startswith(_CHAT_PREFIX) and "successful" not in msg:
        return _delivery(msg, channel)  # a reply to a publish there says "successful"
    if channel == _SERVICE_CHAT:
        return _service(msg, requests)
    if channel.startswith("/meta/"):
        return _meta(msg, channel)
    successful = msg.get("successful")
    return OtherMessage(
        channel,
        opt_str(msg.get("id")),
        None if "successful" not in msg else successful is True,
        msg.get("data"),
        "data" in msg,
    )


# -- /meta/ ----------------------------------------------------------------------
def _meta(msg: wire.Message, channel: str) -> MetaReply | Invalid:
    successful = msg.get("successful")
    if successful is not True and successful is not False:
        return Invalid(f"{channel} reply: 'successful' is not a boolean")
    advice = msg.get("advice")
    if advice is not None:
        advice = parse_advice(advice)
        if isinstance(advice, Invalid):
            return Invalid(f"{channel} reply: {advice.reason}")
    ident = msg.get("id")
    if not isinstance(ident, str):
        ident = None
    error = None if successful else opt_str(msg.get("error"))  # read only when refused
    if channel == _META_CONNECT:
        ext = msg.get("ext")
        ack = ext.get("ack") if isinstance(ext, dict) else None
        if ack is not None and type(ack) is not int and not is_int(ack):
            return Invalid("connect reply: 'ext.ack' is not an integer")
        return MetaReply(channel, ident, successful, error, advice, None, None, ack)
    client_id = opt_str(msg.get("clientId"))
    types: tuple[str, ...] | None = None
    if channel == _META_HANDSHAKE and successful:
        if client_id is None or not client_id:
            return Invalid("handshake reply without 'clientId'")
        listed = msg.get("supportedConnectionTypes")
        if isinstance(listed, list):
            types = tuple(t for t in listed if isinstance(t, str))
    subscription = opt_str(msg.get("subscription"))
    return MetaReply(
        channel, ident, successful, error, advice, client_id, types, None, subscription
    )


# -- /service/chat ---------------------------------------------------------------
def _service(msg: wire.Message, requests: Mapping[str, Pending]) -> ServiceReply | Invalid:
    successful = msg.get("successful")
    if successful is not True and successful is not False:
        return Invalid("service reply: 'successful' is not a boolean")
    ident = msg.get("id")
    if not isinstance(ident, str):
        ident = None
    if not successful:
        return ServiceReply(ident, False, opt_str(msg.get("error")))
    data = msg.get("data")
    if data is None and "data" not in msg:
        # The publish ack CometD servers send beside the result (same id, no data).
        return ServiceReply(ident, True, None, None, None, None, None, None, True)
    pending = requests.get(ident) if ident is not None else None
    operation = pending.operation if pending is not None else None
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
    if operation is Operation.REQUEST_CHAT:
        for key in ("chatId", "secureKey"):
            if not isinstance(result.get(key), str) or not result[key]:
                return Invalid(f"requestChat result without a string '{key}'")
        position = result.get("position")
        login = LoginResult(
            result["chatId"],
            result["secureKey"],
            opt_str(result.get("instance")),
            position if is_int(position) else 0,
        )
        return ServiceReply(ident, True, None, result=result, login=login)
    if operation is Operation.SEND_MESSAGE:
        if not is_int(result.get("index")):
            return Invalid("sendMessage result without an integer 'index'")
        return ServiceReply(ident, True, None, result=result, index=result["index"])
    if operation is Operation.REQUEST_NOTIFICATIONS:
        for key in ("position", "replayed"):
            if key in result and not is_int(result[key]):
                return Invalid(f"requestNotifications result: '{key}' is not an integer")
        replay = ReplayResult(
            opt_str(result.get("instance")), result.get("position"), result.get("replayed", 0)
        )
        return ServiceReply(ident, True, None, result=result, replay=replay)
    return ServiceReply(ident, True, None, result=result)


def command_error(payload: object) -> CommandError | None:
    """A chat command error in any server dialect (None: not an error payload)."""
    try:
        found = read_error(payload)
    except (ValueError, TypeError, KeyError, OverflowError):
        found = None
    if found is not None:
        code, text, payload_data = found
        return CommandError(code, text, payload_data) if is_code(code) else None
    if isinstance(payload, dict) and is_code(payload.get("code")):
        description = payload.get("description")
        data = payload.get("data")
        return CommandError(
            payload["code"],
            description if isinstance(description, str) else "",
            data if isinstance(data, dict) else {},
        )
    return None


# -- /chat/<chatId> --------------------------------------------------------------
def _delivery(msg: wire.Message, channel: str) -> Delivery | Invalid:
    data = msg.get("data")
    if not isinstance(data, dict):
        return Invalid("chat delivery without a 'data.type'")
    kind = data.get("type")
    if not isinstance(kind, str):
        return Invalid("chat delivery without a 'data.type'")
    index = data.get("index")
    if type(index) is not int and not is_int(index):
        index = None
    if kind in _INDEXED_TYPES and (index is None or index < 1):
        return Invalid(f"{kind} delivery without an integer 'index'")
    party = data.get("party")
    text = data.get("text")
    message_id = data.get("clientMessageId")
    return Delivery(
        index,
        kind,
        party if isinstance(party, str) else None,
        text if isinstance(text, str) else None,
        message_id if isinstance(message_id, str) else None,
        channel,
        data,
    )


__all__ = [
    "CommandError",
    "Delivery",
    "LoginResult",
    "MetaReply",
    "OtherMessage",
    "ReplayResult",
    "Reply",
    "ServiceReply",
    "TranscriptItem",
    "bayeux_error_code",
    "command_error",
    "decode_frame",
    "parse_message",
]
