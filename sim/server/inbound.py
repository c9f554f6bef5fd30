"""What the server accepts from a client: a frame checked as a whole before any of it runs.

`transport.wire.decode` checks the Bayeux envelope; this adds what a hostile
client could otherwise use to raise inside the server: nesting deep enough
to exhaust the parser's stack, numbers too big for a float (`advice.timeout`
of 10^400), NaN or Infinity, and envelope fields of the wrong type
(`clientId` as a list cannot even be looked up). The whole frame is refused
with one ProtocolViolation, so a batch is never half applied.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from statecharts.errors import ProtocolViolation
from transport.wire import Message, decode, messages_of

# JSON interoperable integers (RFC 7159 §6): every client can represent them.
MAX_SAFE_INTEGER = 2**53 - 1
CEILING_DEPTH = 512  # the server core's own bound, whatever the adapter allows
MAX_ID_LENGTH = 256
# A lone surrogate parses from JSON ("\ud800") but cannot be encoded to reply.
_SURROGATE = re.compile("[\ud800-\udfff]")
_DICT_FIELDS = ("advice", "ext")


def parse_frame(text: str, max_depth: int = CEILING_DEPTH) -> list[Message]:
    """The frame's Bayeux messages, or ProtocolViolation naming what is wrong."""
    try:
        messages = decode(text)
    except RecursionError:
        raise ProtocolViolation(f"JSON nested deeper than {max_depth} levels") from None
    except ValueError:  # an integer literal over Python's digit limit
        raise ProtocolViolation("a number in the frame has too many digits") from None
    check_values(messages, max_depth)
    for message in messages:
        check_envelope(message)
    return messages


def check_values(value: Any, max_depth: int) -> None:
    """Nesting within `max_depth`; every number finite and within ±(2^53 - 1);
    every string (keys too) encodable as UTF-8."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            for key in item:
                _check_text(key)
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        elif isinstance(item, str):
            _check_text(item)
            continue
        else:
            _check_number(item)
            continue
        if depth > max_depth:
            raise ProtocolViolation(f"JSON nested deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children)


def _check_text(text: str) -> None:
    if not text.isascii() and _SURROGATE.search(text):
        raise ProtocolViolation("strings must be valid Unicode (a lone surrogate is not)")


def _check_number(item: Any) -> None:
    if isinstance(item, bool) or not isinstance(item, int | float):
        return
    if isinstance(item, float) and not math.isfinite(item):
        raise ProtocolViolation("numbers must be finite (no NaN, Infinity or 1e400)")
    if abs(item) > MAX_SAFE_INTEGER:
        raise ProtocolViolation(f"numbers must be within ±{MAX_SAFE_INTEGER}")


def checked_frame(frame: Sequence[Any]) -> Sequence[Message]:
    """A frame of values (a peer's messages in this process) whose Bayeux envelope
    is sound, in one pass over it; ProtocolViolation says what is wrong.

    The pass only recognises the usual, well-formed message (exact types); anything
    else is judged by `messages_of` and `check_envelope`, so a refusal names the same
    fault in the same order whichever path found it."""
    for message in frame:
        if type(message) is not dict:
            break
        channel = message.get("channel")
        if type(channel) is not str or len(channel) > MAX_ID_LENGTH or channel[:1] != "/":
            break
        client_id = message.get("clientId")
        if client_id is not None and (type(client_id) is not str or len(client_id) > MAX_ID_LENGTH):
            break
        msg_id = message.get("id")
        if msg_id is not None and not (
            (type(msg_id) is str and len(msg_id) <= MAX_ID_LENGTH) or type(msg_id) is int
        ):
            break
        advice = message.get("advice")
        if advice is not None and type(advice) is not dict:
            break
        ext = message.get("ext")
        if ext is not None and type(ext) is not dict:
            break
    else:
        if frame:
            return frame
    messages = messages_of(list(frame))
    for message in messages:
        check_envelope(message)
    return messages


def check_envelope(message: Message) -> None:
    """The Bayeux fields the server reads before it knows the channel (inlined: it runs
    for every message the server takes)."""
    get = message.get
    client_id = get("clientId")
    if client_id is not None and not (
        isinstance(client_id, str) and len(client_id) <= MAX_ID_LENGTH
    ):
        raise ProtocolViolation(f"'clientId' must be a string of at most {MAX_ID_LENGTH} chars")
    msg_id = get("id")
    if msg_id is not None and not (
        (isinstance(msg_id, str) and len(msg_id) <= MAX_ID_LENGTH)
        or (isinstance(msg_id, int) and not isinstance(msg_id, bool))
    ):
        raise ProtocolViolation(f"'id' must be a string of at most {MAX_ID_LENGTH} chars")
    if len(message["channel"]) > MAX_ID_LENGTH:
        raise ProtocolViolation(f"'channel' must be at most {MAX_ID_LENGTH} characters")
    for name in _DICT_FIELDS:
        value = get(name)
        if value is not None and not isinstance(value, dict):
            raise ProtocolViolation(f"'{name}' must be an object")


class ParsedFrame(str):
    """A frame's text carrying the messages parsed from it, so that a frame handed on
    unchanged (through the fault path, say) reaches the core without a second decode.

    Anything that edits the text (a `corrupt` fault) makes a plain `str`: new bytes,
    decoded again as any frame off the wire."""

    messages: list[Message]

    def __new__(cls, text: str, messages: list[Message]) -> ParsedFrame:
        frame = super().__new__(cls, text)
        frame.messages = messages
        return frame
