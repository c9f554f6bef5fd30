"""The Bayeux envelope of each message the server takes, checked before any of it runs.

The fields the server reads before it knows the channel (`clientId`, `id`, `channel`,
`advice`, `ext`) must have types it can use: a `clientId` that is a list cannot even
be looked up. Split out of `sim.server.inbound` (which parses text frames) so that
the server core's hot path can be compiled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from statecharts.errors import ProtocolViolation
from transport.wire import Message, messages_of

MAX_ID_LENGTH = 256
_DICT_FIELDS = ("advice", "ext")


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
