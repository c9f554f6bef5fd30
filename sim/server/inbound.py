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
from typing import Any

from sim.server.envelope import check_envelope
from statecharts.errors import ProtocolViolation
from transport.wire import Message, decode

# JSON interoperable integers (RFC 7159 §6): every client can represent them.
MAX_SAFE_INTEGER = 2**53 - 1
CEILING_DEPTH = 512  # the server core's own bound, whatever the adapter allows
# A lone surrogate parses from JSON ("\ud800") but cannot be encoded to reply.
_SURROGATE = re.compile("[\ud800-\udfff]")


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
